"""A camera's live video track for WebRTC: each new analysed frame, drawn on, at most `fps`
frames a second. One track per camera, fanned out to its viewers by a `MediaRelay`."""

from __future__ import annotations

import asyncio
import time
from fractions import Fraction

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from server.annotate.pictures import PictureThreads
from server.live.frames import LiveFrame, LiveFrames
from server.live.render import render

VIDEO_CLOCK = Fraction(1, 90_000)  # RTP's video clock
WAIT_S = 1.0  # how long one wait for a frame lasts before the track checks it is still live


class CameraTrack(MediaStreamTrack):
    kind = "video"

    def __init__(
        self,
        frames: LiveFrames,
        pictures: PictureThreads,
        *,
        camera_id: int,
        label: str,
        width: int,
        fps: float,
    ) -> None:
        super().__init__()
        self._frames, self._pictures, self.camera_id = frames, pictures, camera_id
        self._label, self._width, self._interval = label, width, 1.0 / fps
        self._last_ts = -float("inf")  # capture time of the last frame sent
        self._last_sent = 0.0  # monotonic time it was sent
        self._start: float | None = None
        self._last_pts = -1
        self.sent = 0

    async def recv(self) -> av.VideoFrame:
        wait = self._last_sent + self._interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            frame = await self._frames.next_after(self.camera_id, self._last_ts, WAIT_S)
            if frame is not None:
                break
        video = await self._pictures.run(self._picture, frame)
        if self._start is None:
            self._start = frame.captured_at
        pts = max(self._last_pts + 1, round((frame.captured_at - self._start) / VIDEO_CLOCK))
        video.pts, video.time_base = pts, VIDEO_CLOCK
        self._last_pts, self._last_ts = pts, frame.captured_at
        self._last_sent = time.monotonic()
        self.sent += 1
        return video

    def _picture(self, frame: LiveFrame) -> av.VideoFrame:
        """The picture in the encoders' own format. The relay hands this one frame to every
        viewer's encoder at once, in parallel threads: converted there, they would share the
        frame's one swscale context, which deadlocks."""
        picture = render(frame, width=self._width, label=self._label)
        rgb = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24")
        return rgb.reformat(format="yuv420p")
