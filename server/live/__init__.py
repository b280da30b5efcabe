"""Annotated live video: the latest analysed frames, drawn on, to WebRTC viewers and an
MJPEG fallback."""
