"""The annotated clip: the evidence clip again, with what the system saw drawn on it.

The plain clip stays the camera's own pictures (remuxed, untouched); this variant decodes
it, draws each frame's people from the analysis nearest before it (boxes, skeletons, ids,
scores, the alert's people in red, camera and time at the top) and encodes H.264 again,
at most `max_width` wide.
"""

from __future__ import annotations

import bisect
import os
import time
from collections.abc import Collection, Sequence
from pathlib import Path

import av
import numpy as np
from PIL import Image

from server.annotate.draw import PeopleOverlay, draw_caption, draw_people
from server.evidence.media import ENCODE_TIME_BASE, ClipError, mp4_duration

STALE_S = 1.0  # an analysis older than this before a frame is not drawn on it
MAX_WIDTH = 1280


def write_annotated_mp4(
    clip: Path,
    path: Path,
    *,
    start_ts: float,
    overlays: Sequence[PeopleOverlay],
    highlight: Collection[int] = (),
    label: str = "",
    max_width: int = MAX_WIDTH,
) -> float:
    """Draw `overlays` over the MP4 `clip`, whose first frame was captured at `start_ts`
    (Unix seconds), into the MP4 `path`, atomically. Returns its duration in seconds."""
    ordered = sorted(overlays, key=lambda o: o.ts)
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            av.open(str(clip)) as source,
            av.open(str(partial), "w", format="mp4", options={"movflags": "+faststart"}) as out,
        ):
            video = source.streams.video[0]
            video.thread_type = "AUTO"
            scale = min(1.0, max_width / video.codec_context.width)
            width = round(video.codec_context.width * scale) // 2 * 2
            height = round(video.codec_context.height * scale) // 2 * 2
            rate = round(float(video.average_rate or 25))
            stream = out.add_stream("libx264", rate=rate)
            assert isinstance(stream, av.VideoStream)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.time_base = ENCODE_TIME_BASE
            stream.options = {"preset": "veryfast", "crf": "23"}
            first: float | None = None
            last = -1
            for index, frame in enumerate(source.decode(video)):
                # a frame without a time is taken to follow the last at the nominal rate
                offset = float(frame.time) if frame.time is not None else index / rate
                first = offset if first is None else first
                ts = start_ts + offset - first
                rgb = frame.to_ndarray(format="rgb24", width=width, height=height)
                picture = Image.fromarray(rgb)
                overlay = _latest(ordered, ts)
                if overlay is not None:
                    draw_people(picture, overlay, highlight=highlight)
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
                draw_caption(picture, f"{label}  {stamp}".strip())
                image = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24")
                image = image.reformat(format="yuv420p")
                pts = max(last + 1, round((offset - first) / ENCODE_TIME_BASE))
                image.pts, image.time_base, last = pts, ENCODE_TIME_BASE, pts
                out.mux(stream.encode(image))
            if first is None:
                raise ClipError(f"the clip {clip.name} holds no frames to annotate")
            out.mux(stream.encode(None))
        duration = mp4_duration(partial)
        os.replace(partial, path)
    except (av.FFmpegError, ValueError) as exc:
        raise ClipError(f"writing the annotated clip failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return duration


def _latest(ordered: Sequence[PeopleOverlay], ts: float) -> PeopleOverlay | None:
    """The last overlay at or before `ts` (a millisecond's slack), if not stale."""
    at = bisect.bisect_right(ordered, ts + 1e-3, key=lambda o: o.ts)
    if at == 0 or ts - ordered[at - 1].ts > STALE_S:
        return None
    return ordered[at - 1]
