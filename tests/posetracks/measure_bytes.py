"""What a person-hour of kept poses costs on disk: a real video through the real pose model
(the shipped INT8 one), the tracker and the pose-track recorder, at the analysis rate.

    .venv/bin/python -m tests.posetracks.measure_bytes /tmp/vtest.avi --crop 128,60,768,420

(`vtest.avi`: see tests/data/README.md for where it comes from; `--crop` analyses the part
where people walk, as tests/data/vtest_poses.npz does: on the whole frame the model finds
few of them.)
The video is analysed
`--loops` times in a row on one timeline (a new track id each time round), so chunks are
full minutes, as on a live camera.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import av
import numpy as np

from server.pipeline.pose import OnnxPose, input_hw_for
from server.pipeline.tracking import Tracker
from server.posetracks.recorder import PoseTrackRecorder
from server.posetracks.store import LocalPoseStore
from server.records.analysis import FrameAnalysis
from server.records.video import Frame
from server.weights import DEFAULT_WEIGHTS_DIR, INT8_NAME

RAW_BYTES_PER_POSE = 8 + 8 + 16 + 17 * 2 * 4 + 17 * 4 + 4  # ts, id, box, keypoints, conf, score


def analysed_frames(
    video: Path, fps: float, loops: int, crop: tuple[int, ...] | None = None
) -> list[tuple[float, np.ndarray]]:
    """(seconds from the start, BGR image) of the frames the analysis rate picks."""
    picked: list[tuple[float, np.ndarray]] = []
    offset = 0.0
    for _ in range(loops):
        last = -1.0
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            for decoded in container.decode(stream):
                t = float(decoded.time or 0.0)
                if t - last >= 1 / fps - 1e-6:
                    image: np.ndarray = decoded.to_ndarray(format="bgr24")
                    if crop is not None:
                        x0, y0, x1, y1 = crop
                        image = np.ascontiguousarray(image[y0:y1, x0:x1])
                    picked.append((offset + t, image))
                    last = t
        offset = picked[-1][0] + 1 / fps
    return picked


async def measure(
    video: Path,
    fps: float,
    loops: int,
    width: int,
    crop: tuple[int, ...] | None = None,
    keep: Path | None = None,
) -> str:
    frames = analysed_frames(video, fps, loops, crop)
    height, frame_width = frames[0][1].shape[:2]
    pose = OnnxPose(
        DEFAULT_WEIGHTS_DIR / INT8_NAME,
        threads=2,
        input_hw=input_hw_for((frame_width, height), width),
    )
    tracker = Tracker(fps=fps)
    with tempfile.TemporaryDirectory() as folder:
        recorder = PoseTrackRecorder(LocalPoseStore(Path(folder)), chunk_s=60.0)
        start = 1_800_000_000.0
        for seq, (t, image) in enumerate(frames):
            frame = Frame(1, image, start + t, seq)
            recorder.take(
                FrameAnalysis(frame, tracker.update(pose.estimate(image), frame.captured_at), None)
            )
            if seq % 100 == 0:
                sys.stderr.write(f"{seq}/{len(frames)} frames\n")
        recorder.flush()
        await recorder.drain()
        if keep is not None:  # the chunks, for a closer look
            for found in recorder.store.files("chunks/"):
                data = recorder.store.get(found.key)
                assert data is not None
                (keep / found.key.replace("/", "_")).write_bytes(data)
    stats = recorder.stats
    person_hours = stats.rows / fps / 3600
    return (
        f"{video.name}: {stats.frames} frames at {fps:g} fps, {stats.rows} poses "
        f"({stats.rows / stats.frames:.2f} people a frame), {stats.chunks} chunks, "
        f"{stats.bytes} bytes: {stats.bytes / person_hours / 1e6:.2f} MB per person-hour "
        f"({stats.bytes / stats.rows:.1f} bytes a pose; {RAW_BYTES_PER_POSE} uncompressed)\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--loops", type=int, default=3)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--crop", help="x0,y0,x1,y1: analyse this part of each frame")
    parser.add_argument("--keep", type=Path, help="copy the chunks written into this folder")
    args = parser.parse_args()
    crop = tuple(int(v) for v in args.crop.split(",")) if args.crop else None
    figures = asyncio.run(measure(args.video, args.fps, args.loops, args.width, crop, args.keep))
    sys.stdout.write(figures)


if __name__ == "__main__":
    main()
