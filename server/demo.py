"""The demo camera: a real pedestrian clip played in a loop, so a fresh server shows a camera.

`infra/scripts/prepare_demo.sh` takes `vtest.avi` from Debian's `opencv-doc` package and
turns it into H.264 with `python -m server.demo SRC DST`; the server then creates the demo
camera on a first start with no cameras, when `demo_video` names that file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import av
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.storage import cameras
from server.storage.models import Camera, Store
from shared.schemas.cameras import CameraCreate, SourceKind

logger = logging.getLogger(__name__)

DEMO_STORE = "Demo store"
DEMO_CAMERA = "Demo camera"
DEMO_ANALYSIS_WIDTH = 960


async def ensure_demo_camera(*, session: AsyncSession, video: Path) -> Camera | None:
    """Create "Demo store" with a looping "Demo camera" on `video` if there are no cameras.

    Returns the new camera, or None when cameras exist or the video is missing.
    """
    if await session.scalar(select(func.count()).select_from(Camera)):
        return None
    video = await asyncio.to_thread(video.resolve)
    if not await asyncio.to_thread(video.is_file):
        logger.warning("demo video %s not found; starting without a demo camera", video)
        return None
    store = await session.scalar(select(Store).where(Store.name == DEMO_STORE))
    if store is None:
        store = Store(name=DEMO_STORE, address="", timezone="UTC")
        session.add(store)
        await session.flush()
    camera = await cameras.create_camera(
        session=session,
        camera_in=CameraCreate(
            store_id=store.id,
            name=DEMO_CAMERA,
            source_kind=SourceKind.file,
            source_url=str(video),
            location="sample clip of pedestrians (OpenCV's vtest.avi), looping",
            # its pedestrians are 60-80 px tall in 768x576: at the default 640 the model
            # finds 0.7 of the 3-6 in view per frame, at 960 3.7 (docs/benchmarks.md)
            analysis_width=DEMO_ANALYSIS_WIDTH,
        ),
    )
    await session.commit()
    logger.info("created the demo camera %s playing %s", camera.id, video)
    return camera


def transcode_to_h264(src: Path, dst: Path, *, gop: int = 20) -> int:
    """Re-encode the first video stream of `src` as H.264 MP4 at `dst`; returns frames written.

    Written to a temporary name first, so `dst` is either complete or absent.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".part.mp4")
    frames = 0
    with av.open(str(src)) as source, av.open(str(tmp), "w") as target:
        video = source.streams.video[0]
        rate = video.average_rate or 10
        stream = target.add_stream("libx264", rate=rate)
        stream.width = video.codec_context.width
        stream.height = video.codec_context.height
        stream.pix_fmt = "yuv420p"
        stream.gop_size = gop
        stream.codec_context.options = {
            "preset": "veryfast",
            "crf": "23",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0",
        }
        for frame in source.decode(video):
            frame.pts = None
            target.mux(stream.encode(frame.reformat(format="yuv420p")))
            frames += 1
        target.mux(stream.encode(None))
    if frames == 0:
        tmp.unlink(missing_ok=True)
        raise ValueError(f"{src} holds no video frames")
    os.replace(tmp, dst)
    return frames


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: python -m server.demo SOURCE_VIDEO TARGET.mp4\n")
        return 2
    src, dst = Path(argv[0]), Path(argv[1])
    frames = transcode_to_h264(src, dst)
    sys.stdout.write(f"wrote {dst} ({frames} frames, H.264)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
