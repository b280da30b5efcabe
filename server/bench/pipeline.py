"""`shopguard bench pipeline`: how many DVR channels this box analyses in real time.

1. Clips: one channel's 1920x1080 main and 640x360 sub-stream (25 fps, real pedestrians),
   made once from the demo clip (`media.py`).
2. Ours: N cameras through the real server pipeline (`ours.py`), each main stream into its
   ring and its sub-stream analysed at `fps`; N grows until a run is not sustained. With
   occupancies (issue 20), once per mix: each camera's sub-stream is then its own seed's
   day clip (`day_clips.py`: stretches of the empty scene and of people, the given share of
   the time occupied), usually with the presence gate on; "sustained" counts the frames the
   gate held back as kept up (see `ours.py`).
3. Naive: the seeds' loop (`naive_loop.py`, in the export venv), on the main and on the
   sub-stream, as it was (`every` frame in order: the ratio is against this one) and in a
   kinder variant that skips to the newest frame (`latest`); N grows from 1 until not
   sustained. They play the clips full of people in every mix: they analyse whatever
   arrives, people or not, so emptier days cost them as much.
4. Agreement: the server's pose backend against Ultralytics at 640 on sampled sub-stream
   frames (`agreement.py`).
Results go to a JSON file; `docs/benchmarks.md` quotes them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

from server.bench.agreement import FramePoses, compare
from server.bench.day_clips import day_channels
from server.bench.media import ChannelClips, make_channel_clips
from server.bench.ours import Criteria, OursResult, run_ours
from server.config import PipelineConfig
from server.pipeline.pose import OnnxPose, input_hw_for
from server.weights import DEFAULT_WEIGHTS_DIR, INT8_NAME, PT_NAME

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
EXPORT_PYTHON = ROOT / ".venv-export" / "bin" / "python"
NAIVE_SCRIPT = Path(__file__).with_name("naive_loop.py")
NAIVE_MODES = ("every", "latest")  # naive_loop.py --mode: the seeds' loop, the kinder one
DAY_S = 60.0  # length of each camera's day clip (looped)


@dataclass(frozen=True, slots=True)
class BenchPlan:
    counts: list[int]  # camera counts to try for ours, ascending
    fps: float = 5.0
    warmup_s: float = 8.0
    measure_s: float = 20.0
    naive_max: int = 6
    naive: bool = True
    agreement_frames: int = 60
    occupancies: list[float] | None = None  # day mixes, 0..1 (None: clips full of people)
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    criteria: Criteria = field(default_factory=Criteria)


def run_bench(
    plan: BenchPlan, source: Path, work_dir: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    """Run every part of the benchmark, reporting progress through `say`."""
    say("clips: preparing one channel's main (1080p25) and sub-stream (360p25)")
    clips = make_channel_clips(source, work_dir)
    report: dict[str, Any] = {
        "plan": {
            "fps": plan.fps,
            "warmup_s": plan.warmup_s,
            "measure_s": plan.measure_s,
            "criteria": asdict(plan.criteria),
            "pose_workers": plan.pipeline.pose_workers,
            "pose_model": str(plan.pipeline.pose_model or DEFAULT_WEIGHTS_DIR / INT8_NAME),
            "analysis_width": plan.pipeline.analysis_width,
            "presence_gate": plan.pipeline.presence_gate,
            "occupancy_pc": None
            if plan.occupancies is None
            else [round(o * 100, 1) for o in plan.occupancies],
        }
    }
    if plan.occupancies is None:  # every channel the demo's people, all the time
        rows, sustained = _ours_series(plan, lambda count: [clips] * count, say)
        report["ours"], report["ours_sustained"] = rows, sustained
        mixes: list[dict[str, Any]] = [report]
    else:
        mixes = []
        for occupancy in plan.occupancies:
            say(f"day mix: people in view {occupancy:.0%} of the time, a seed per camera")

            def channels(count: int, occupancy: float = occupancy) -> list[ChannelClips]:
                day_dir = work_dir / "day"
                return day_channels(
                    clips, source, day_dir, occupancy=occupancy, count=count, seconds=DAY_S
                )

            rows, sustained = _ours_series(plan, channels, say)
            mixes.append(
                {
                    "occupancy_pc": round(occupancy * 100, 1),
                    "ours": rows,
                    "ours_sustained": sustained,
                }
            )
        report["mixes"] = mixes
    if plan.naive:
        for mode in NAIVE_MODES:
            best = 0
            for stream, video in (("main", clips.main), ("sub", clips.sub)):
                rows = _naive_series(plan, video, stream, mode, say)
                sustained = max((r["cameras"] for r in rows if r["sustained"]), default=0)
                report[f"naive_{mode}_{stream}"] = rows
                report[f"naive_{mode}_{stream}_sustained"] = sustained
                best = max(best, sustained)
            report[f"naive_{mode}_sustained"] = best
            for mix in mixes:
                # None: the naive loop sustained no camera, so any count of ours is more
                mix[f"ratio_{mode}"] = round(mix["ours_sustained"] / best, 2) if best else None
    if plan.occupancies is not None:
        say(
            f"channels sustained (presence gate {'on' if plan.pipeline.presence_gate else 'off'}): "
            + ", ".join(f"{m['occupancy_pc']:g}% occupied: {m['ours_sustained']}" for m in mixes)
        )
    if plan.agreement_frames > 0:
        say(f"agreement: our backend vs Ultralytics at 640 on {plan.agreement_frames} frames")
        report["agreement"] = agreement(plan, clips)
        say(f"  {_describe(report['agreement'])}")
    return report


def _ours_series(
    plan: BenchPlan, channels: Callable[[int], list[ChannelClips]], say: Callable[[str], None]
) -> tuple[list[dict[str, Any]], int]:
    """Our pipeline at each of `plan.counts` cameras until a run is not sustained (once one
    was); its rows and the most cameras sustained."""
    ours: list[OursResult] = []
    for count in plan.counts:
        say(f"ours: {count} cameras, {plan.warmup_s:g}s warm-up + {plan.measure_s:g}s measured")
        result = asyncio.run(
            run_ours(
                channels(count),
                fps=plan.fps,
                warmup_s=plan.warmup_s,
                measure_s=plan.measure_s,
                pipeline=plan.pipeline,
                criteria=plan.criteria,
            )
        )
        ours.append(result)
        say(f"  {_describe(result.row())}")
        if not result.sustained and any(r.sustained for r in ours):
            break
    return [r.row() for r in ours], max((r.cameras for r in ours if r.sustained), default=0)


def _naive_series(
    plan: BenchPlan, video: Path, stream: str, mode: str, say: Callable[[str], None]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for count in range(1, plan.naive_max + 1):
        say(f"naive, {mode} frame ({stream} stream): {count} cameras")
        row = run_naive(video, count, plan.warmup_s, plan.measure_s, mode)
        row["sustained"] = (
            row["fps_min"] >= plan.criteria.min_fps
            and row["latency_p95_ms_max"] <= plan.criteria.max_latency_p95_ms
        )
        rows.append(row)
        say(f"  {_describe(row)}")
        if not row["sustained"]:
            break
    return rows


def run_naive(
    video: Path, count: int, warmup_s: float, measure_s: float, mode: str = "every"
) -> dict[str, Any]:
    """One run of the seeds' loop in the export venv; its JSON line as a dict."""
    result = subprocess.run(
        [
            *_naive_command(video),
            *("--cameras", str(count), "--warmup", str(warmup_s), "--seconds", str(measure_s)),
            *("--mode", mode),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the naive loop failed: {result.stderr[-2000:]}")
    row: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}


def agreement(plan: BenchPlan, clips: ChannelClips, every: int = 10) -> dict[str, Any]:
    """Our pose backend, as the cameras run it, against Ultralytics at 640 on the same frames."""
    reference_file = clips.sub.with_name("reference_poses.npz")
    subprocess.run(
        [
            *_naive_command(clips.sub),
            *("--reference", str(reference_file), "--every", str(every)),
            *("--frames", str(plan.agreement_frames)),
        ],
        check=True,
        capture_output=True,
    )
    with np.load(reference_file) as data:
        frame_of = data["frame"]
        taken = int(data["frames"])
        reference = [
            FramePoses.of(data["xyxy"][m], data["keypoints"][m], data["conf"][m])
            for m in (frame_of == i * every for i in range(taken))
        ]
    model = plan.pipeline.pose_model or DEFAULT_WEIGHTS_DIR / INT8_NAME
    width = plan.pipeline.analysis_width
    ours = OnnxPose(model, input_hw=input_hw_for((640, 360), width), conf=0.25)
    candidate: list[FramePoses] = []
    with av.open(str(clips.sub)) as container:
        for index, decoded in enumerate(container.decode(video=0)):
            if len(candidate) == taken:
                break
            if index % every == 0:
                image = decoded.to_ndarray(format="bgr24").astype(np.uint8, copy=False)
                poses = ours.estimate(image)
                candidate.append(FramePoses.of(poses.xyxy, poses.keypoints, poses.keypoint_conf))
    result = compare(reference, candidate)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(result).items()}


def _naive_command(video: Path) -> list[str]:
    model = DEFAULT_WEIGHTS_DIR / PT_NAME
    return [str(EXPORT_PYTHON), str(NAIVE_SCRIPT), "--model", str(model), "--video", str(video)]


def _describe(row: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in row.items())


def main_cli(
    plan: BenchPlan, source: Path, work_dir: Path, out: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    """Run the benchmark and write its JSON to `out`."""
    if plan.naive and not EXPORT_PYTHON.is_file():
        raise FileNotFoundError(f"{EXPORT_PYTHON} missing: run ./infra/scripts/prepare_weights.sh")
    report = run_bench(plan, source, work_dir, say)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    say(f"wrote {out}")
    return report


if __name__ == "__main__":  # pragma: no cover — use `shopguard bench pipeline`
    sys.exit("run: shopguard bench pipeline --help")
