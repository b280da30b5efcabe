"""The temporal model: a small convolutional network over a person's last seconds of
keypoints (`server/behaviour/sequence.py` makes its inputs), trained with torch here and
run with ONNX Runtime in the server.

- `rows.py`: which track and end time each `PersonRows` row stands for, and its inputs;
- `network.py`: the network (about 12k parameters);
- `fit.py`: `fit_sequence` / `predict_sequence` on person rows;
- `export.py`: the ONNX file and its metadata, with sha256 files;
- `learner.py`: the network as a `training.learners.Learner` for the evaluation protocol;
- `measure.py` and `__main__.py`: out-of-fold figures beside the XGBoost, inference cost,
  and `python -m training.temporal train` for the shipped file.
"""

import os

# torch's OpenMP threads spin while they wait: on a busy machine two spinning threads run
# many times slower than one. Waiting passively costs nothing here. (Read when torch loads.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
