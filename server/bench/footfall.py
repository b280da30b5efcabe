"""Footfall against a hand count: the real pose model, tracker and analytics run over a clip,
and the line crossings they count compared with the crossings counted by hand.

    .venv/bin/python -m server.bench.footfall media/demo/vtest.mp4 tests/data/vtest_footfall.json \
        --fps 5 --out docs/bench/footfall.json

It also times the analytics stage on its own: CPU seconds per frame and per camera at 5 fps.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from server.analytics.camera import CameraAnalytics, CameraLayout
from server.annotate.heatmap import heatmap_jpeg
from server.config import AnalyticsConfig
from server.pipeline.pose import OnnxPose, input_hw_for
from server.pipeline.tracking import Tracker
from server.weights import DEFAULT_WEIGHTS_DIR, INT8_NAME
from shared.schemas.cameras import CountingLine

logger = logging.getLogger(__name__)

START_TS = 1_800_000_000.0  # the clip's first frame, as a whole minute


@dataclass(frozen=True, slots=True)
class FootfallRun:
    clip: str
    analysed_fps: float
    frames: int
    people_tracked: int  # track ids the tracker gave
    rejoined: int  # new track ids the analytics took as a person already seen
    entered: int
    left: int
    person_seconds: float  # the heatmap's total
    truth_entered: int
    truth_left: int
    analytics_cpu_ms_per_frame: float  # the analytics stage alone
    analytics_core_share_at_5fps: float  # of one core, for one camera at 5 fps

    @property
    def error(self) -> int:
        """Crossings counted wrongly, in either direction."""
        return abs(self.entered - self.truth_entered) + abs(self.left - self.truth_left)


def run(
    clip: Path,
    truth: dict[str, object],
    *,
    fps: float = 5.0,
    width: int = 640,
    model: Path = DEFAULT_WEIGHTS_DIR / INT8_NAME,
    config: AnalyticsConfig | None = None,
    heatmap: Path | None = None,
) -> FootfallRun:
    """Decode `clip`, analyse every frame due at `fps`, count the truth's line; with
    `heatmap`, draw where people stood over the clip's last frame into that JPEG."""
    line = CountingLine.model_validate(truth["line"])
    analytics = CameraAnalytics(1, CameraLayout(lines=(line,)), config or AnalyticsConfig())
    tracker = Tracker(fps=fps)
    pose: OnnxPose | None = None
    frames, cpu_s = 0, 0.0
    heat: npt.NDArray[np.float64] | None = None
    image: npt.NDArray[np.uint8] | None = None
    seen: set[int] = set()
    entered = left = 0
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        clip_fps = float(stream.average_rate or 10)
        step = max(1, round(clip_fps / fps))
        for index, decoded in enumerate(container.decode(stream)):
            if index % step:
                continue
            image = decoded.to_ndarray(format="bgr24").astype(np.uint8, copy=False)
            height, frame_width = image.shape[:2]
            if pose is None:
                pose = OnnxPose(model, input_hw=input_hw_for((frame_width, height), width))
            tracks = tracker.update(pose.estimate(image), START_TS + index / clip_fps)
            seen.update(int(t) for t in tracks.track_id)
            started = time.process_time()
            minute = analytics.take(tracks, frame_width, height)
            cpu_s += time.process_time() - started
            frames += 1
            for found in [minute] if minute is not None else []:
                entered += sum(c.entered for c in found.lines)
                left += sum(c.left for c in found.lines)
                heat = found.heat.astype(np.float64) + (0 if heat is None else heat)
            if frames % 50 == 0:
                logger.info("frame %d: %d in, %d out so far", index, entered, left)
    last = analytics.finish()
    if last is not None:
        entered += sum(c.entered for c in last.lines)
        left += sum(c.left for c in last.lines)
        heat = last.heat.astype(np.float64) + (0 if heat is None else heat)
    total = float(heat.sum()) if heat is not None else 0.0
    if heatmap is not None and heat is not None:
        heatmap.write_bytes(heatmap_jpeg(heat, image, 768))
    per_frame = cpu_s / max(frames, 1)
    return FootfallRun(
        clip=str(clip),
        analysed_fps=fps,
        frames=frames,
        people_tracked=len(seen),
        rejoined=analytics.rejoined,
        entered=entered,
        left=left,
        person_seconds=round(total, 1),
        truth_entered=int(str(truth["entered"])),
        truth_left=int(str(truth["left"])),
        analytics_cpu_ms_per_frame=round(per_frame * 1000, 4),
        analytics_core_share_at_5fps=round(per_frame * 5, 6),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("truth", type=Path, help="the hand count (tests/data/vtest_footfall.json)")
    parser.add_argument("--fps", type=float, nargs="+", default=[5.0, 10.0])
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--heatmap", type=Path, help="a JPEG of the first run's heatmap")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    truth = json.loads(args.truth.read_text())
    runs = []
    for fps in args.fps:
        picture = args.heatmap if fps == args.fps[0] else None
        result = run(args.clip, truth, fps=fps, width=args.width, heatmap=picture)
        runs.append(asdict(result) | {"error": result.error})
        _say(
            f"{fps:g} fps: counted {result.entered} in, {result.left} out; by hand "
            f"{result.truth_entered} in, {result.truth_left} out (off by {result.error}); "
            f"analytics {result.analytics_cpu_ms_per_frame:.3f} ms/frame = "
            f"{100 * result.analytics_core_share_at_5fps:.3f}% of a core at 5 fps"
        )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(runs, indent=2) + "\n")
    assert not any(math.isnan(r["analytics_cpu_ms_per_frame"]) for r in runs)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
