"""Behaviour scoring inputs: the PoseLift loader (`poselift.py`, via `unpickle.py`) and the
window features of a track (`features.py`, on the time grid of `resample.py`)."""
