"""`shopguard model train | cv | eval`: the behaviour classifier's commands. They import the
`training` package (scikit-learn, matplotlib: the `train` extra) only when run."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from server.errors import ShopGuardError

model_app = typer.Typer(help="Train and evaluate the behaviour classifier.", no_args_is_help=True)

DataOption = Annotated[
    Path,
    typer.Option(help="A folder in the PoseLift layout: Train/*.pkl, Test/*.pkl, GT/*.npy."),
]
FoldsOption = Annotated[int, typer.Option(min=2, max=20, help="Folds of whole recording sessions.")]
TrialsOption = Annotated[
    int,
    typer.Option(
        min=1,
        max=64,
        help="Hyper-parameter settings tried by session-grouped CV (bounded search), chosen "
        "by the share of episodes caught within 0.5-4 false alerts per hour: the fixed "
        "defaults first, then draws. 1 keeps the defaults (docs/model-card.md).",
    ),
]
SmoothingOption = Annotated[
    float, typer.Option(min=0.0, max=10.0, help="Seconds a track's scores are averaged over.")
]
BudgetOption = Annotated[
    float,
    typer.Option(
        min=0.0,
        help="False alerts per hour with people in view (normal video) the threshold may allow.",
    ),
]
AgeOption = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        help="Seconds a track must have been seen before it may alert (the scoring policy's "
        "track-age rule); default: the policy's own.",
    ),
]
BandOption = Annotated[
    float,
    typer.Option(
        min=0.0,
        help="Seconds of normal-only video around a labelled episode that count neither as "
        "normal nor as shoplifting (don't-care bands).",
    ),
]


class GroupBy(StrEnum):
    """What `cv`'s folds are made of."""

    session = "session"
    video = "video"


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
    band: BandOption = 10.0,
    min_track_age: AgeOption = None,
    candidate: Annotated[
        bool,
        typer.Option(
            help="Write into the data directory's candidate slot (<data_dir>/models/candidate/, "
            "instead of --out): the server scores with it in shadow until an admin promotes it."
        ),
    ] = False,
    evaluate: Annotated[
        bool,
        typer.Option(
            help="Also run the evaluation protocol (as `cv` does, a few minutes) and store its "
            "figures with intervals in the model file's info."
        ),
    ] = True,
    store_data: Annotated[
        Path | None,
        typer.Option(
            help="The store's labelled episodes (a server data dir, its pose-tracks folder, or "
            "a folder of episode files) added to the final fit; PoseLift alone sets the "
            "calibration, the threshold and the figures."
        ),
    ] = None,
    learner: Annotated[
        str,
        typer.Option(
            help="xgb+temporal: the XGBoost and the temporal network averaged (the shipped "
            "model; the network's files are written beside the model file); xgb: alone."
        ),
    ] = "xgb+temporal",
    plots: Annotated[
        Path | None,
        typer.Option(help="With the evaluation: folder for its roc.png, pr.png and events.png."),
    ] = None,
    store_weight: Annotated[
        float,
        typer.Option(
            min=0.01,
            help="With --store-data: a store row weighs this many times a PoseLift row of "
            "its class.",
        ),
    ] = 1.0,
) -> None:
    """Train the classifier on every video of DATA and write the model file."""
    from training.commands import train as run

    if candidate:
        out = _candidate_file()

    _run(
        lambda: run(
            data,
            out,
            folds=folds,
            trials=trials,
            smoothing_s=smoothing,
            max_false_per_hour=max_false_per_hour,
            band_s=band,
            evaluate=evaluate,
            min_track_age_s=min_track_age,
            store_data=store_data,
            learner=learner,
            plots=plots,
            store_weight=store_weight,
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
    band: BandOption = 10.0,
    min_track_age: AgeOption = None,
    plots: Annotated[
        Path | None, typer.Option(help="Folder for roc.png, pr.png and events.png.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON here.")] = None,
    normal_piece: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Seconds normal-only tracks are cut into, like the labelled clips (0: uncut, "
            "which lets 'the track just began' tell clips from normal video).",
        ),
    ] = 4.0,
    group_by: Annotated[
        GroupBy,
        typer.Option(
            help="Folds of whole recording sessions, or of single videos (the first "
            "protocol's folds, which split recordings: only to compare).",
        ),
    ] = GroupBy.session,
    learner: Annotated[
        str, typer.Option(help="The learner evaluated (with --trials: XGBoost settings).")
    ] = "xgb",
    resamples: Annotated[
        int, typer.Option(min=0, max=100_000, help="Bootstrap resamples of sessions.")
    ] = 1000,
) -> None:
    """The evaluation protocol: session-grouped folds, calibration and threshold fitted
    inside them, event figures on recording timelines, bootstrap intervals."""
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
            grouping="video" if group_by is GroupBy.video else "session",
            band_s=band,
            learner=learner,
            resamples=resamples,
            min_track_age_s=min_track_age,
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
    band: BandOption = 10.0,
) -> None:
    """Frame- and event-level figures of MODEL on the videos of DATA, at its threshold: event
    rates only when DATA holds normal video (Train/), counts otherwise."""
    from training.commands import evaluate as run

    figures = _run(lambda: run(data, model, plots, _say, band))
    if as_json:
        sys.stdout.write(json.dumps(figures) + "\n")
        return
    for key, value in figures.items():
        typer.echo(f"{key}: {value}")


def _candidate_file() -> Path:
    """The candidate slot of the data directory the settings name (`--config` included)."""
    from server.behaviour.registry import ModelRegistry
    from server.cli import State
    from server.config import load_settings

    return ModelRegistry.of(load_settings(State.config_file)).candidate_path


def _print(figures: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(figures, indent=2)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
