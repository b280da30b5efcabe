"""The realistic-day bench as a picture (issue 20): p95 latency against channels for each day
mix, with the 500 ms line a channel count must stay under, and where the CPU went at one
count with the presence gate off and on.

    python -m server.bench.day_plot docs/bench/pipeline-day.json \
        --ungated docs/bench/pipeline-day-ungated.json --cameras 16 --out docs/img/pipeline-day.png
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

STAGES = ("pose", "camera", "tracking", "event loop")  # cores_by_thread's main groups


def stage_cores(run: dict[str, Any]) -> list[float]:
    """Cores per stage of one run, in `STAGES` order, the rest summed as a last entry."""
    cores: dict[str, float] = run["cores_by_thread"]
    main = [cores.get(stage, 0.0) for stage in STAGES]
    return [*main, max(sum(cores.values()) - sum(main), 0.0)]


def run_of(results: dict[str, Any], occupancy: float, cameras: int) -> dict[str, Any] | None:
    for mix in results["mixes"]:
        if mix["occupancy_pc"] == occupancy:
            for run in mix["ours"]:
                if run["cameras"] == cameras:
                    return run  # type: ignore[no-any-return]
    return None


def plot(results: dict[str, Any], ungated: dict[str, Any] | None, cameras: int, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency, cpu) = plt.subplots(1, 2, figsize=(11, 4.2))
    limit = results["plan"]["criteria"]["max_latency_p95_ms"]
    for mix in results["mixes"]:
        runs = mix["ours"]
        latency.plot(
            [r["cameras"] for r in runs],
            [r["latency_p95_ms_max"] for r in runs],
            marker="o",
            label=f"{mix['occupancy_pc']:g}% of the time occupied",
        )
    latency.axhline(limit, color="grey", linestyle="--", label=f"sustained: p95 under {limit:g} ms")
    latency.set_xlabel("channels (1080p main + 360p sub-stream at 5 fps)")
    latency.set_ylabel("worst camera's p95 latency, ms")
    latency.set_title("Presence gate on: latency against channels")
    latency.legend(fontsize=8)

    bars = []
    if ungated is not None and (off := run_of(ungated, 50.0, cameras)) is not None:
        bars.append(("gate off", off))
    if (on := run_of(results, 50.0, cameras)) is not None:
        bars.append(("gate on", on))
    bottom = [0.0] * len(bars)
    for index, stage in enumerate((*STAGES, "other")):
        heights = [stage_cores(run)[index] for _, run in bars]
        cpu.bar([name for name, _ in bars], heights, bottom=bottom, label=stage)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    cpu.set_ylabel("cores (of 2)")
    cpu.set_title(f"{cameras} channels, 50% occupied: CPU by stage")
    cpu.legend(fontsize=8)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=100)
    plt.close(figure)


def main(
    results: Annotated[Path, typer.Argument(help="The bench's JSON (gate on).")],
    ungated: Annotated[Path | None, typer.Option(help="The same bench, gate off.")] = None,
    cameras: Annotated[int, typer.Option(help="Channel count of the CPU bars.")] = 16,
    out: Annotated[Path, typer.Option(help="The PNG.")] = Path("docs/img/pipeline-day.png"),
) -> None:
    """Plot the realistic-day bench."""
    loaded = json.loads(results.read_text())
    off = json.loads(ungated.read_text()) if ungated is not None else None
    plot(loaded, off, cameras, out)
    typer.echo(f"wrote {out}")


if __name__ == "__main__":
    typer.run(main)
