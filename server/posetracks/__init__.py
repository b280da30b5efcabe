"""Pose tracks kept so the store's own reviews become training data (keypoints only, never
pixels).

- `recorder.py`: the pipeline sink; every camera's tracked poses in chunks of about a
  minute (`rows.py` is their record and file form, `store.py` where files live);
- `service.py`: a reviewed alert (confirmed theft, false alarm) or a marked missed theft
  becomes a labelled episode (`episodes.py`: its file);
- `retention.py`: chunks go after `pose_tracks.keep_hours` unless an unreviewed alert holds
  them; episodes expire like evidence.
`training/store_data.py` reads the episodes back as training videos.
"""
