"""The app's screens (Flet): login, then Home, Alerts, Stats and Settings under a navigation
bar. Each screen is a class with a `control` and an async `refresh()`."""
