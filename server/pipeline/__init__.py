"""The video pipeline: one module per arrow of the data path.

① camera → frames     `source.py` (`CameraSource`), supervised by `supervisor.py`
② ring buffer         `ring_buffer.py` (`PacketRing`: encoded packets + latest frame)
③ pose                `pose.py`
④ tracks              `tracking.py`
⑤ features            `server/behaviour/features.py` (shared with training)
⑥ classifier          `server/behaviour/classifier.py` (the model file), `scorer.py` (`Verdicts`)
⑦ alert + dedup       `alerting.py`
⑧ clip job            `clips.py`

Records crossing these boundaries live in `records.py`.
"""
