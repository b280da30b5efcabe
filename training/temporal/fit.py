"""Fitting the temporal network on person rows, and scoring rows with it.

The rows are chosen and weighted as the XGBoost's are (`training/fit.py`): every row of
the labelled videos, every `normal_every`-th of the normal-only ones; the normal-only
videos weigh `normal_share` times the labelled videos' normal rows, the positives as much
as all normal rows. Each window is also shown mirrored (left and right swapped) half the
time. Seeds are fixed and torch runs on `threads` threads, so a fit repeats exactly.

Example:
    >>> fitted = fit_sequence(rows, keep, say=print)
    >>> raw = predict_sequence(fitted, scoring_rows)   # (N,) probabilities
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from server.behaviour.sequence import CHANNELS, DEFAULT_SEQUENCE_SPEC, SequenceSpec
from training.dataset import PersonRows
from training.fit import row_weights, training_rows
from training.temporal.network import TemporalNet, parameter_count
from training.temporal.rows import RowTracks

Say = Callable[[str], None]
SEED = 20260
_PREDICT_CHUNK = 8192  # rows made into inputs and scored at once


@dataclass(frozen=True, slots=True)
class TrainSettings:
    """The network's size and how it is trained."""

    width: int = 32
    dropout: float = 0.1
    epochs: int = 12  # 20 and 40 fitted the training folds better and the held ones worse
    batch: int = 256
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    normal_every: int = 3  # every n-th row of the normal-only videos (neighbours are 1/15 s)
    normal_share: float = 1.0  # as `training.fit.Params.normal_share`
    store_weight: float = 1.0  # as `training.fit.Params.store_weight`
    mirror: bool = True  # show each window mirrored half the time
    seed: int = SEED
    threads: int = 2

    def row(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_SETTINGS = TrainSettings()


@dataclass(frozen=True, slots=True)
class EpochLog:
    epoch: int
    loss: float  # weighted log-loss, mean over the epoch's batches
    seconds: float


@dataclass(frozen=True, slots=True)
class SequenceFit:
    """A fitted network (in eval mode) with the spec and settings it was trained with."""

    net: TemporalNet
    spec: SequenceSpec
    settings: TrainSettings
    rows: int  # training rows used
    epochs: tuple[EpochLog, ...]

    def info(self) -> dict[str, Any]:
        """How it was trained, for the model's metadata."""
        return {
            "settings": self.settings.row(),
            "parameters": parameter_count(self.net),
            "training_rows": self.rows,
            "final_loss": round(self.epochs[-1].loss, 5) if self.epochs else None,
            "torch": torch.__version__,
        }


def fit_sequence(
    rows: PersonRows,
    keep: npt.NDArray[np.bool_] | None = None,
    *,
    settings: TrainSettings = DEFAULT_SETTINGS,
    spec: SequenceSpec = DEFAULT_SEQUENCE_SPEC,
    say: Say = lambda _: None,
) -> SequenceFit:
    """A network fitted on the `keep` rows (all when None) of `rows` (binary: shoplifting
    frame or not), thinned and weighted as the XGBoost's rows are."""
    torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    chosen = training_rows(rows, settings.normal_every)
    if keep is not None:
        chosen &= keep
    y = rows.label[chosen].astype(np.float32)
    if not 0 < y.sum() < len(y):
        raise ValueError("training needs rows of both classes")
    weight = row_weights(rows, chosen, settings.normal_share, settings.store_weight)
    x = torch.from_numpy(RowTracks.of(rows).inputs(np.flatnonzero(chosen), spec))
    net = TemporalNet(len(CHANNELS), settings.width, settings.dropout)
    std, mean = torch.std_mean(x, dim=(0, 2))
    net.set_scale(mean, torch.where(std > 1e-3, std, torch.ones_like(std)))
    say(
        f"fitting {parameter_count(net)} parameters on {len(y)} rows "
        f"({int(y.sum())} positive), {settings.epochs} epochs"
    )
    logs = _train(
        net, x, torch.from_numpy(y), torch.from_numpy(weight / weight.mean()), settings, say
    )
    net.eval()
    return SequenceFit(net, spec, settings, len(y), tuple(logs))


def predict_sequence(fitted: SequenceFit, rows: PersonRows) -> npt.NDArray[np.float64]:
    """Each row's probability, shape (N,), float64: the window ending at its frame."""
    out = np.zeros(len(rows), np.float64)
    if len(rows) == 0:
        return out
    torch.set_num_threads(fitted.settings.threads)
    tracks = RowTracks.of(rows)
    fitted.net.eval()
    with torch.no_grad():
        for lo in range(0, len(rows), _PREDICT_CHUNK):
            which = np.arange(lo, min(lo + _PREDICT_CHUNK, len(rows)))
            x = torch.from_numpy(tracks.inputs(which, fitted.spec))
            out[which] = torch.sigmoid(fitted.net.logits(x)).double().numpy()
    return out


def _train(
    net: TemporalNet,
    x: torch.Tensor,
    y: torch.Tensor,
    weight: torch.Tensor,
    settings: TrainSettings,
    say: Say,
) -> list[EpochLog]:
    """Weighted log-loss, AdamW with a cosine schedule; one line per epoch."""
    generator = torch.Generator().manual_seed(settings.seed)
    batches = math.ceil(len(x) / settings.batch)
    optimiser = torch.optim.AdamW(
        net.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, settings.epochs * batches)
    swap, sign = mirror_map()
    logs = []
    for epoch in range(1, settings.epochs + 1):
        started, total = time.monotonic(), 0.0
        net.train()
        order = torch.randperm(len(x), generator=generator)
        for lo in range(0, len(x), settings.batch):
            pick = order[lo : lo + settings.batch]
            batch = x[pick]
            if settings.mirror:
                flip = torch.rand(len(pick), 1, 1, generator=generator) < 0.5
                batch = torch.where(flip, batch[:, swap] * sign, batch)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                net.logits(batch), y[pick], weight=weight[pick]
            )
            optimiser.zero_grad()
            torch.autograd.backward(loss)
            optimiser.step()
            schedule.step()
            total += float(loss.detach())
        logs.append(EpochLog(epoch, total / batches, time.monotonic() - started))
        say(f"epoch {epoch}/{settings.epochs}: loss {logs[-1].loss:.4f} ({logs[-1].seconds:.1f}s)")
    return logs


def mirror_map() -> tuple[torch.Tensor, torch.Tensor]:
    """The channel order and signs of a mirrored window: left and right swapped, x negated.

    Returns:
        (C,) int64 source channel of each channel, and (1, C, 1) float signs.
    """
    index = {name: i for i, name in enumerate(CHANNELS)}

    def other_side(name: str) -> str:
        return name.replace("left_", "@").replace("right_", "left_").replace("@", "right_")

    swap = torch.tensor([index[other_side(name)] for name in CHANNELS])
    sign = torch.tensor([-1.0 if name.endswith(("_x", "_vx")) else 1.0 for name in CHANNELS])
    return swap, sign.reshape(1, -1, 1)
