"""What the analytics stage costs per camera: 10 people wandering for an hour of 5 fps video,
with 4 zones and 2 counting lines, through the camera's `CameraAnalytics` (as the stage runs
it on each published frame), CPU time measured.

    .venv/bin/python -m server.bench.analytics_cost --people 10 --fps 5 --minutes 60
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from server.analytics.camera import CameraAnalytics, CameraLayout
from server.config import AnalyticsConfig
from server.records.people import NUM_KEYPOINTS, Tracks
from shared.schemas.cameras import CountingLine, Zone, ZoneKind

WIDTH, HEIGHT = 640, 360
LAYOUT = CameraLayout(
    zones=(
        Zone(name="Shelf A", kind=ZoneKind.shelf, polygon=[(0, 0), (0.3, 0), (0.3, 0.5), (0, 0.5)]),
        Zone(name="Shelf B", kind=ZoneKind.shelf, polygon=[(0.7, 0), (1, 0), (1, 0.5), (0.7, 0.5)]),
        Zone(
            name="Till", kind=ZoneKind.queue, polygon=[(0.3, 0.6), (0.7, 0.6), (0.7, 1), (0.3, 1)]
        ),
        Zone(name="Door", kind=ZoneKind.entrance, polygon=[(0, 0.6), (0.3, 0.6), (0.3, 1), (0, 1)]),
    ),
    lines=(
        CountingLine(name="Door", a=(0.0, 0.55), b=(0.3, 0.55)),
        CountingLine(name="Aisle", a=(0.5, 0.0), b=(0.5, 0.55)),
    ),
)


def wander(people: int, frames: int, fps: float, seed: int) -> list[Tracks]:
    """`people` walking about at 0.1 picture per second; one leaves and another comes in
    every 30 s or so (new track ids)."""
    rng = np.random.default_rng(seed)
    where = rng.uniform(0.05, 0.95, (people, 2))
    heading = rng.uniform(-1, 1, (people, 2))
    ids = np.arange(people, dtype=np.int64)
    next_id = people
    out = []
    for index in range(frames):
        heading += rng.normal(0, 0.3, heading.shape)
        heading /= np.linalg.norm(heading, axis=1, keepdims=True)
        where = np.clip(where + heading * 0.1 / fps, 0.02, 0.98)
        if rng.random() < people / (30 * fps):  # someone leaves, someone new comes
            ids[rng.integers(people)] = next_id
            next_id += 1
        feet = where * [WIDTH, HEIGHT]
        keypoints = np.repeat(feet[:, None, :], NUM_KEYPOINTS, axis=1).astype(np.float32)
        keypoints[:, :15, 1] -= 60
        offset = np.asarray([15.0, 80.0, 15.0, 2.0])
        boxes = (np.tile(feet, 2) + offset * [-1, -1, 1, 1]).astype(np.float32)
        out.append(
            Tracks(
                ts=1_800_000_000.0 + index / fps,
                track_id=ids.copy(),
                xyxy=boxes,
                keypoints=keypoints,
                keypoint_conf=np.full((people, NUM_KEYPOINTS), 0.9, np.float32),
                score=np.full((people,), 0.9, np.float32),
            )
        )
    return out


def measure(people: int, fps: float, minutes: float, seed: int = 1) -> dict[str, float]:
    frames = wander(people, int(minutes * 60 * fps), fps, seed)
    analytics = CameraAnalytics(1, LAYOUT, AnalyticsConfig())
    minutes_out = 0
    started_cpu, started_wall = time.process_time(), time.perf_counter()
    for index, tracks in enumerate(frames):
        if analytics.take(tracks, WIDTH, HEIGHT) is not None:
            minutes_out += 1
        if index and index % int(10 * 60 * fps) == 0:
            _say(f"  {index / fps / 60:.0f} of {minutes:g} minutes")
    analytics.finish()
    cpu = time.process_time() - started_cpu
    wall = time.perf_counter() - started_wall
    per_frame = cpu / len(frames)
    return {
        "people": people,
        "fps": fps,
        "frames": len(frames),
        "minutes_out": minutes_out,
        "cpu_ms_per_frame": round(per_frame * 1000, 4),
        "wall_ms_per_frame": round(wall / len(frames) * 1000, 4),
        "core_share": round(per_frame * fps, 6),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10])
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = []
    for people in args.people:
        _say(f"{people} people, {args.fps:g} fps, {args.minutes:g} minutes of video:")
        result = measure(people, args.fps, args.minutes)
        results.append(result)
        _say(
            f"  {result['cpu_ms_per_frame']:.3f} ms CPU a frame: "
            f"{100 * result['core_share']:.3f}% of a core per camera"
        )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
