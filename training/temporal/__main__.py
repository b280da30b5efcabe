"""`python -m training.temporal {train,cv,bench}`: the temporal model's command line.

- `train --data ../shared/data/poselift --out weights/`: fit on every video (bystanders
  picked out by the XGBoost's out-of-fold scores, as `shopguard model train` does) and
  write `behaviour-tcn.onnx`, `behaviour-tcn.json` and their sha256 files;
- `cv --data ... [--out cv.json]`: out-of-fold figures of the XGBoost, the network and
  their average (`measure.compare`);
- `bench --model weights/behaviour-tcn.onnx --data ...`: milliseconds per scored frame.
Progress goes to stderr, results (JSON) to stdout or `--out`.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from server.behaviour.sequence import SequenceModel
from training.crossval import out_of_fold
from training.dataset import one_per_frame
from training.folds import assign
from training.learners import XGBoostLearner
from training.poselift import load_split
from training.report_out import emit
from training.temporal.export import export_sequence
from training.temporal.fit import TrainSettings, fit_sequence
from training.temporal.measure import (
    NORMAL_PIECE_S,
    compare,
    inference_cost,
    live_histories,
    load_rows,
)


def say(line: str) -> None:
    sys.stderr.write(f"[temporal] {line}\n")
    sys.stderr.flush()


def train(data: Path, out: Path, settings: TrainSettings, folds: int) -> dict[str, Any]:
    """Fit on every video of `data` and write the model files into `out`."""
    started = time.monotonic()
    videos, rows, _ = load_rows(data, say)
    say(f"XGBoost out-of-fold scores ({folds} session folds) to pick one positive per frame")
    raw = out_of_fold(rows, assign(videos, folds, "session"), XGBoostLearner(), say)[0]
    keep = one_per_frame(rows, raw)
    fitted = fit_sequence(rows, keep, settings=settings, say=say)
    labelled = [v for v in videos if v.labels is not None]
    info = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": {
            "normal_only_videos": len(videos) - len(labelled),
            "labelled_videos": len(labelled),
            "normal_piece_s": NORMAL_PIECE_S,
            "bystanders": "one positive per shoplifting frame, by XGBoost out-of-fold scores",
        },
        "command": "python -m training.temporal train",
    }
    model = export_sequence(fitted, out, info)
    SequenceModel.load(model)  # what the server will do with it
    say(f"wrote {model} and its metadata ({time.monotonic() - started:.0f}s in all)")
    return {"model": str(model), **fitted.info(), **info}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.temporal", description=__doc__)
    steps = parser.add_subparsers(dest="step", required=True)
    for name in ("train", "cv"):
        step = steps.add_parser(name)
        step.add_argument("--data", type=Path, required=True)
        step.add_argument("--folds", type=int, default=5)
        step.add_argument("--epochs", type=int, default=TrainSettings().epochs)
        step.add_argument("--width", type=int, default=TrainSettings().width)
        step.add_argument("--out", type=Path, default=Path("weights") if name == "train" else None)
        step.add_argument("--grouping", choices=["session", "video"], default="session")
    bench = steps.add_parser("bench")
    bench.add_argument("--model", type=Path, default=Path("weights/behaviour-tcn.onnx"))
    bench.add_argument("--data", type=Path, required=True)
    bench.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.step == "bench":
        model = SequenceModel.load(args.model)
        videos = load_split(args.data, "Train") + load_split(args.data, "Test")
        result: dict[str, Any] = {
            "model": str(args.model),
            "per_frame": inference_cost(model, live_histories(videos, model.spec.history_s)),
        }
    else:
        settings = TrainSettings(epochs=args.epochs, width=args.width)
        if args.step == "train":
            result = train(args.data, args.out, settings, args.folds)
        else:
            result = compare(
                args.data, folds=args.folds, grouping=args.grouping, settings=settings, say=say
            )
    emit(result, None if args.step == "train" else args.out)  # train: --out is a folder
    return 0


if __name__ == "__main__":
    sys.exit(main())
