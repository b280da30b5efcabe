"""The fallback for clients where WebRTC cannot connect: the same pictures as JPEGs in one
HTTP response (`multipart/x-mixed-replace`, which an <img> plays), at a low rate."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

from server.annotate.pictures import PictureThreads
from server.live.frames import LiveFrame, LiveFrames
from server.live.render import render

BOUNDARY = "shopguard-frame"
MEDIA_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
WAIT_S = 1.0
QUALITY = 75


async def mjpeg_parts(
    frames: LiveFrames,
    pictures: PictureThreads,
    *,
    camera_id: int,
    label: str,
    width: int,
    fps: float,
    until: asyncio.Event,
) -> AsyncIterator[bytes]:
    """Parts of the response, one JPEG each, until the client goes away or `until` is set."""
    last = -float("inf")
    while not until.is_set():
        frame = await frames.next_after(camera_id, last, WAIT_S)
        if frame is None:
            continue
        jpeg = await pictures.run(jpeg_of, frame, width, label)
        head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
        yield head.encode() + jpeg + b"\r\n"
        last = frame.captured_at
        await asyncio.sleep(1.0 / fps)


def jpeg_of(frame: LiveFrame, width: int, label: str) -> bytes:
    """The picture a viewer sees, as a JPEG."""
    out = io.BytesIO()
    render(frame, width=width, label=label).save(out, format="JPEG", quality=QUALITY)
    return out.getvalue()
