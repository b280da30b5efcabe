"""What the app knows, apart from its screens: the device's saved settings, the signed-in
account, and the alerts kept up to date from the live events."""
