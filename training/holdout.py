"""Held-out check of the shipped training command: for each fold of whole recording sessions,
train with `shopguard model train` on the other folds' videos only, then run `shopguard
model eval` on that fold's videos (its labelled clips and the normal video recorded with
them), which the model never saw. Folders of symlinks in the PoseLift layout keep the two
apart on disk, as a user's folders would.

    python -m training.holdout --data ../shared/data/poselift --work data/holdout
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from training.commands import evaluate, train
from training.folds import session_folds
from training.poselift import PoseLiftVideo, load_split
from training.report_out import emit


def link_split(data: Path, videos: Sequence[PoseLiftVideo], out: Path) -> Path:
    """A PoseLift-layout folder under `out` holding symlinks to `videos`' files."""
    for video in videos:
        split = "Train" if video.labels is None else "Test"
        for folder, suffix in ((split, ".pkl"), ("GT", ".npy")):
            if folder == "GT" and video.labels is None:
                continue
            source = (data / folder / f"{video.name}{suffix}").resolve()
            target = out / folder / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            target.symlink_to(source)
    (out / "Train").mkdir(parents=True, exist_ok=True)
    return out


def say(line: str) -> None:
    sys.stderr.write(f"[holdout] {line}\n")


def run(data: Path, work: Path, folds: int, train_folds: int = 5) -> dict[str, Any]:
    """Per fold, the held-out figures of a model trained without that fold's videos."""
    videos = load_split(data, "Train") + load_split(data, "Test")
    fold = session_folds(videos, folds)
    results = []
    for k in range(folds):
        seen = [v for v, f in zip(videos, fold, strict=True) if f != k]
        held = [v for v, f in zip(videos, fold, strict=True) if f == k]
        say(f"fold {k + 1}/{folds}: training on {len(seen)} videos, {len(held)} held out")
        model = work / f"fold{k + 1}" / "behaviour-xgb.json"
        train(
            link_split(data, seen, work / f"fold{k + 1}" / "seen"),
            model,
            folds=train_folds,
            evaluate=False,
            say=say,
        )
        figures = evaluate(link_split(data, held, work / f"fold{k + 1}" / "held"), model, None, say)
        for key in ("auc_roc", "auc_pr", "eer"):
            figures.setdefault(key, None)  # one class: no curve
        names = [v.name for v in held if v.labels is not None]
        results.append({"fold": k + 1, "videos": names, **figures})
        say(f"fold {k + 1}/{folds}: held-out AUC-ROC {figures['auc_roc']}")
    aucs = [r["auc_roc"] for r in results if r["auc_roc"] is not None]
    return {"folds": results, "auc_roc_mean": round(float(np.mean(aucs)), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("data/holdout"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, help="Also write the JSON here.")
    args = parser.parse_args(argv)
    result = run(args.data, args.work, args.folds)
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
