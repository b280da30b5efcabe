"""Behaviour inputs: the PoseLift loader on real files (tests/data/poselift_mini, and the full
release in ../shared/data/poselift when present) and window features on literal motions."""
