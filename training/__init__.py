"""Training and evaluation of the behaviour classifier (`shopguard model ...`): PoseLift's
poses in, a model file for `weights/` out. The server never imports this package; it only
loads the model file (`server/behaviour/classifier.py`)."""
