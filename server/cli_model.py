"""`shopguard model train | cv | eval`: the behaviour classifier's commands. They import the
`training` package (scikit-learn, matplotlib: the `train` extra) only when run."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from server.errors import ShopGuardError

model_app = typer.Typer(help="Train and evaluate the behaviour classifier.", no_args_is_help=True)

DataOption = Annotated[
    Path,
    typer.Option(help="A folder in the PoseLift layout: Train/*.pkl, Test/*.pkl, GT/*.npy."),
]
FoldsOption = Annotated[int, typer.Option(min=2, max=20, help="Video-grouped folds.")]
TrialsOption = Annotated[
    int,
    typer.Option(
        min=1,
        max=64,
        help="Hyper-parameter settings tried by video-grouped CV (bounded search): the fixed "
        "defaults first, then draws. 1 keeps the defaults: in nested CV on PoseLift the "
        "search lost 8 points of AUC-ROC (docs/model-card.md).",
    ),
]
SmoothingOption = Annotated[
    float, typer.Option(min=0.0, max=10.0, help="Seconds a track's scores are averaged over.")
]
BudgetOption = Annotated[
    float,
    typer.Option(min=0.0, help="False alerts per hour of normal video the threshold may allow."),
]


def _say(line: str) -> None:
    typer.echo(f"[model] {line}", err=True)


def _run(step: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return step()
    except ImportError as exc:
        typer.echo(f"error: {exc.name or exc} is missing: pip install -e '.[train]'", err=True)
        raise typer.Exit(2) from exc
    except (ShopGuardError, ValueError, OSError) as exc:
        typer.echo(f"error: {getattr(exc, 'message', None) or exc}", err=True)
        raise typer.Exit(1) from exc


@model_app.command("train")
def train(
    data: DataOption,
    out: Annotated[Path, typer.Option(help="Model file to write.")] = Path(
        "weights/behaviour-xgb.json"
    ),
    folds: FoldsOption = 5,
    trials: TrialsOption = 1,
    smoothing: SmoothingOption = 1.0,
    max_false_per_hour: BudgetOption = 1.0,
) -> None:
    """Train the classifier on every video of DATA and write the model file."""
    from training.commands import train as run

    _run(
        lambda: run(
            data,
            out,
            folds=folds,
            trials=trials,
            smoothing_s=smoothing,
            max_false_per_hour=max_false_per_hour,
            say=_say,
        )
    )


@model_app.command("cv")
def cross_validate(
    data: DataOption,
    folds: FoldsOption = 5,
    trials: TrialsOption = 1,
    smoothing: SmoothingOption = 1.0,
    max_false_per_hour: BudgetOption = 1.0,
    plots: Annotated[Path | None, typer.Option(help="Folder for roc.png and pr.png.")] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON here.")] = None,
    normal_piece: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Seconds normal-only tracks are cut into, like the labelled clips (0: uncut, "
            "which lets 'the track just began' tell clips from normal video).",
        ),
    ] = 4.0,
) -> None:
    """Nested video-grouped cross-validation over the labelled videos: the honest figures."""
    from training.commands import cross_validate as run

    figures = _run(
        lambda: run(
            data,
            plots,
            folds=folds,
            trials=trials,
            smoothing_s=smoothing,
            max_false_per_hour=max_false_per_hour,
            normal_piece_s=normal_piece or None,
            say=_say,
        )
    )
    _print(figures, out)


@model_app.command("eval")
def evaluate(
    data: DataOption,
    model: Annotated[Path, typer.Option(help="The model file.")] = Path(
        "weights/behaviour-xgb.json"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plots: Annotated[Path, typer.Option(help="Folder for roc.png and pr.png.")] = Path("data/eval"),
) -> None:
    """Frame- and event-level figures of MODEL on the labelled videos of DATA."""
    from training.commands import evaluate as run

    figures = _run(lambda: run(data, model, plots, _say))
    if as_json:
        sys.stdout.write(json.dumps(figures) + "\n")
        return
    for key, value in figures.items():
        typer.echo(f"{key}: {value}")


def _print(figures: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(figures, indent=2)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
