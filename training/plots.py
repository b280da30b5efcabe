"""Curves as PNG files (matplotlib, no display): ROC and precision-recall of frame scores,
and the event curve (episodes caught against false alerts per hour, with its band)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import numpy.typing as npt

matplotlib.use("Agg")  # files only: no display on a server or in CI

import matplotlib.pyplot as plt
from sklearn.metrics import precision_recall_curve, roc_curve

from training.metrics import frame_metrics


def write_curves(
    labels: Sequence[npt.NDArray[np.int8]],
    scores: Sequence[npt.NDArray[np.float64]],
    out_dir: Path,
    title: str,
    threshold: float | None = None,
) -> tuple[Path, Path]:
    """Write `roc.png` and `pr.png` into `out_dir`; the threshold, if given, is marked."""
    metrics = frame_metrics(labels, scores)
    y = np.concatenate([np.zeros(0, np.int8), *labels])
    s = np.concatenate([np.zeros(0), *scores])
    out_dir.mkdir(parents=True, exist_ok=True)
    fpr, tpr, roc_thresholds = roc_curve(y, s)
    precision, recall, pr_thresholds = precision_recall_curve(y, s)
    roc_path, pr_path = out_dir / "roc.png", out_dir / "pr.png"

    figure, axes = plt.subplots(figsize=(5, 5), dpi=120)
    axes.plot(fpr, tpr, label=f"ours, AUC-ROC {metrics.auc_roc:.1f}")
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    if threshold is not None:
        i = int(np.argmin(np.abs(roc_thresholds - threshold)))
        axes.plot(fpr[i], tpr[i], "o", color="crimson", label=f"threshold {threshold:.2f}")
    axes.set(xlabel="false positive rate (normal frames)", ylabel="true positive rate")
    axes.set_title(title, fontsize=9)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(roc_path)
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(5, 5), dpi=120)
    axes.plot(recall, precision, label=f"ours, AUC-PR {metrics.auc_pr:.1f}")
    base = metrics.positive_frames / metrics.frames
    axes.axhline(base, linestyle=":", color="grey", label=f"chance ({base:.2f})")
    if threshold is not None and len(pr_thresholds):
        i = int(np.argmin(np.abs(pr_thresholds - threshold)))
        axes.plot(recall[i], precision[i], "o", color="crimson", label=f"threshold {threshold:.2f}")
    axes.set(xlabel="recall (shoplifting frames)", ylabel="precision", ylim=(0, 1.02))
    axes.set_title(title, fontsize=9)
    axes.legend(loc="lower left")
    figure.tight_layout()
    figure.savefig(pr_path)
    plt.close(figure)
    return roc_path, pr_path


def write_event_curve(figures: dict[str, Any], out_dir: Path, title: str) -> Path:
    """Write `events.png`: the share of episodes caught within each false-alert budget
    (`figures["curve"]`), its bootstrap band, and the point the in-fold thresholds gave."""
    curve = figures["curve"]
    x = np.asarray(curve["false_alerts_per_hour"], np.float64)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "events.png"
    figure, axes = plt.subplots(figsize=(6, 4.5), dpi=120)
    axes.step(x, curve["caught_share"], where="post", label="held-out scores")
    if "low" in curve:
        axes.fill_between(
            x, curve["low"], curve["high"], step="post", alpha=0.25, label="90% band (sessions)"
        )
    chosen = figures["events_at_fold_thresholds"]
    axes.plot(
        chosen["false_alerts_per_hour"],
        chosen["episodes_caught_share"],
        "o",
        color="crimson",
        label="each fold's own threshold (budget fitted without it)",
    )
    axes.set(
        xlabel="false alerts per hour with people in view",
        ylabel="share of episodes caught",
        xlim=(0, float(x.max())),
        ylim=(0, 1.02),
    )
    axes.set_title(title, fontsize=9)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def write_event_comparison(reports: dict[str, dict[str, Any]], path: Path, title: str) -> Path:
    """Write one PNG with each report's events curve (`figures["curve"]`, as
    `write_event_curve` draws one), its bootstrap band and its in-fold thresholds' point:
    models side by side on the same protocol."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(figsize=(6, 4.5), dpi=120)
    longest = 0.0
    for name, figures in reports.items():
        curve = figures["curve"]
        x = np.asarray(curve["false_alerts_per_hour"], np.float64)
        longest = max(longest, float(x.max()))
        (line,) = axes.step(x, curve["caught_share"], where="post", label=name)
        if "low" in curve:
            axes.fill_between(
                x, curve["low"], curve["high"], step="post", alpha=0.15, color=line.get_color()
            )
        chosen = figures["events_at_fold_thresholds"]
        axes.plot(
            chosen["false_alerts_per_hour"],
            chosen["episodes_caught_share"],
            "o",
            color=line.get_color(),
            markeredgecolor="black",
        )
    axes.set(
        xlabel="false alerts per hour with people in view",
        ylabel="share of episodes caught",
        xlim=(0, longest),
        ylim=(0, 1.02),
    )
    axes.set_title(
        title + "\n(dots: each fold's own threshold; bands: 90% over sessions)", fontsize=9
    )
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def main(argv: list[str] | None = None) -> int:
    """`python -m training.plots NAME=cv.json ... --out events.png`: the events curves of
    `shopguard model cv --out` reports (or model files' `info.protocol`) side by side."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m training.plots", description=main.__doc__)
    parser.add_argument("reports", nargs="+", help="NAME=path of a cv report or model file")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--title", default="PoseLift, session folds, thresholds fitted in-fold")
    args = parser.parse_args(argv)
    reports = {}
    for item in args.reports:
        name, _, file = item.partition("=")
        if not file:
            parser.error(f"{item!r}: expected NAME=path")
        document = json.loads(Path(file).read_text(encoding="utf-8"))
        reports[name] = document.get("info", {}).get("protocol", document)
    print(write_event_comparison(reports, args.out, args.title))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
