"""What an annotated evidence clip costs: decode the clip, draw the analysis on every frame,
encode H.264 again, for clips of several sizes:

    .venv/bin/python -m server.bench.annotated_clip [--seconds 10] [--out FILE.json]

The clip is the demo camera's real video (media/demo/vtest.mp4, from
infra/scripts/prepare_demo.sh), scaled to each size and cut to `--seconds`; the drawing is
the real recorded poses of its pedestrians (tests/data/vtest_poses.npz, three people a
frame, analysed at 10 fps). Prints, per size, the wall time and the CPU seconds (every
thread of the process) per second of clip. The server encodes one clip at a time, at nice 10.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from server.annotate.draw import PeopleOverlay
from server.evidence.annotated import write_annotated_mp4
from server.records.people import Tracks

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "media" / "demo" / "vtest.mp4"
POSES = ROOT / "tests" / "data" / "vtest_poses.npz"
SIZES = ((768, 576), (1280, 720), (1920, 1080))
START = 1_700_000_000.0


def camera_clip(
    video: Path, path: Path, size: tuple[int, int], seconds: float
) -> tuple[Path, float]:
    """`video`'s first `seconds`, at `size`, as a camera's H.264; its fps."""
    with av.open(str(video)) as source, av.open(str(path), "w") as out:
        camera = source.streams.video[0]
        fps = float(camera.average_rate or 10)
        stream = out.add_stream("libx264", rate=round(fps))
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(round(fps))}
        for index, frame in enumerate(source.decode(camera)):
            if index >= seconds * fps:
                break
            scaled = frame.reformat(width=size[0], height=size[1], format="yuv420p")
            scaled.pts, scaled.time_base = index, Fraction(1, round(fps))
            out.mux(stream.encode(scaled))
        out.mux(stream.encode(None))
    return path, fps


def recorded_overlays() -> list[PeopleOverlay]:
    """The recorded poses, one overlay per analysed frame (in the video's own pixels)."""
    with np.load(POSES) as data:
        frame, xyxy = data["frame"], data["xyxy"].astype(np.float32)
        keypoints = data["keypoints"].astype(np.float32)
        conf, score = data["keypoint_conf"].astype(np.float32), data["score"].astype(np.float32)
        fps, (height, width) = float(data["fps"]), data["frame_hw"].tolist()
    overlays = []
    for index in np.unique(frame):
        rows = np.flatnonzero(frame == index)
        ts = START + float(index) / fps
        tracks = Tracks(
            ts=ts,
            track_id=np.arange(1, len(rows) + 1, dtype=np.int64),
            xyxy=xyxy[rows],
            keypoints=keypoints[rows],
            keypoint_conf=conf[rows],
            score=score[rows],
        )
        scores = {int(t): 0.3 * int(t) for t in tracks.track_id}
        overlays.append(PeopleOverlay(ts, (int(width), int(height)), tracks, scores, 0.61))
    return overlays


def measure(video: Path, size: tuple[int, int], seconds: float, folder: Path) -> dict[str, float]:
    """Annotate `seconds` of `video` (vtest: the recorded poses are its people) at `size`."""
    clip, _ = camera_clip(video, folder / f"camera-{size[0]}.mp4", size, seconds)
    overlays = recorded_overlays()
    out = folder / f"annotated-{size[0]}.mp4"
    wall, cpu = time.perf_counter(), time.process_time()
    duration = write_annotated_mp4(
        clip, out, start_ts=START, overlays=overlays, highlight={2}, label="Demo camera"
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    with av.open(str(out)) as made:
        width = made.streams.video[0].codec_context.width
    return {
        "width": size[0],
        "height": size[1],
        "encoded_width": width,
        "clip_s": round(duration, 2),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cpu_s_per_clip_s": round(cpu / duration, 3),
        "bytes": out.stat().st_size,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args(argv)
    if not DEMO.is_file():
        sys.stderr.write(f"{DEMO} is missing: run ./infra/scripts/prepare_demo.sh\n")
        return 2
    results = []
    with tempfile.TemporaryDirectory(prefix="shopguard-bench-") as folder:
        for size in SIZES:
            sys.stdout.write(f"annotating a {args.seconds:.0f} s clip at {size[0]}x{size[1]} ...\n")
            sys.stdout.flush()
            found = measure(DEMO, size, args.seconds, Path(folder))
            results.append(found)
            sys.stdout.write(
                f"  {found['wall_s']:.2f} s wall, {found['cpu_s']:.2f} CPU s "
                f"({found['cpu_s_per_clip_s']:.2f} CPU s per clip second), "
                f"encoded at {found['encoded_width']} wide, {found['bytes'] / 1e6:.2f} MB\n"
            )
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
