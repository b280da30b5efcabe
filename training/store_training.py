"""The store's own labelled episodes beside PoseLift's videos: what `shopguard model train
--store-data DIR` fits on, and what the store simulation retrains on after each batch.

The episodes are the files the server keeps under `<data dir>/pose-tracks/episodes` (a
reviewed alert's people, a marked missed theft's span, each with margins), read back by
`training/store_data.py` as labelled videos. Their rows join the PoseLift training rows for
the fit only; a row counts when its frame's label is known (`StoreVideo.care`: a theft's
margins are context for the windows, never a label). The scoring policy (calibration,
threshold) stays the one fitted on PoseLift's out-of-fold scores: a few store episodes
cannot support a calibration of their own.

Example:
    >>> rows, keep, summary = with_store_episodes(training, keep, Path("data"), print)
    >>> booster = XGBoostLearner().fit(rows, keep)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from server.behaviour.features import DEFAULT_SPEC, FeatureSpec
from training.dataset import PersonRows, person_rows
from training.store_data import StoreVideo, describe, episode_files, load_store_videos

Mask = npt.NDArray[np.bool_]
Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class StoreEpisodes:
    """Labelled store episodes and their feature rows (N), with the rows that count."""

    videos: tuple[StoreVideo, ...]
    rows: PersonRows  # rows.videos are the episodes' videos, in `videos` order
    care: Mask  # (N,) the row's frame has a known label

    @classmethod
    def of(cls, videos: Sequence[StoreVideo], spec: FeatureSpec = DEFAULT_SPEC) -> StoreEpisodes:
        rows = person_rows([v.video for v in videos], spec)
        if not videos:
            return cls((), rows, np.zeros(0, bool))
        starts = np.concatenate([[0], np.cumsum([v.video.n_frames for v in videos])[:-1]])
        every = np.concatenate([v.care for v in videos])
        care = every[starts[rows.video] + rows.frame] if len(rows) else np.zeros(0, bool)
        return cls(tuple(videos), rows, np.asarray(care, bool))

    @classmethod
    def load(cls, root: Path, spec: FeatureSpec = DEFAULT_SPEC) -> StoreEpisodes:
        """The episodes under `root` (a server data dir, its `pose-tracks` folder, or a folder
        of episode files; see `store_data.episode_files`)."""
        return cls.of(load_store_videos(root), spec)

    def summary(self) -> dict[str, Any]:
        """Counts for the model file's info and reports."""
        counted = self.care
        return {
            **describe(self.videos),
            "rows": int(counted.sum()),
            "theft_rows": int((counted & (self.rows.label == 1)).sum()),
            "margin_rows_left_out": int((~counted).sum()),
        }


def joined(first: PersonRows, second: PersonRows) -> PersonRows:
    """The rows of both, `second`'s videos after `first`'s (its video indices shifted).
    `first.piece_s` holds: it only ever cuts normal-only videos, and store videos are all
    labelled."""
    if first.features.shape[1] != second.features.shape[1]:
        raise ValueError(
            f"features: {first.features.shape[1]} and {second.features.shape[1]} columns"
        )
    return PersonRows(
        np.concatenate([first.features, second.features]),
        np.concatenate([first.video, second.video + np.int32(len(first.videos))]),
        np.concatenate([first.frame, second.frame]),
        np.concatenate([first.track, second.track]),
        np.concatenate([first.label, second.label]),
        first.videos + second.videos,
        first.piece_s,
    )


def with_episodes(
    training: PersonRows, keep: Mask, episodes: StoreEpisodes
) -> tuple[PersonRows, Mask]:
    """The training rows and the rows to fit on, the episodes' counted rows added."""
    return joined(training, episodes.rows), np.concatenate([keep, episodes.care])


def check_store_data(store_data: Path) -> None:
    """Refuse, before any training, a `--store-data` folder that holds no episode file.

    Raises:
        FileNotFoundError: no such folder.
        ValueError: no episode file in it (an empty folder is most likely a wrong path).
    """
    if not episode_files(store_data):
        raise ValueError(f"{store_data}: no labelled store episodes (*.npz) found")


def with_store_episodes(
    training: PersonRows,
    keep: Mask,
    store_data: Path | None,
    say: Say,
    spec: FeatureSpec = DEFAULT_SPEC,
) -> tuple[PersonRows, Mask, dict[str, Any] | None]:
    """`training` and `keep` with the store episodes under `store_data` added, and their
    summary; unchanged (and None) without `store_data`.

    Raises:
        ValueError: `store_data` holds no episode (an empty folder is most likely a wrong
            path); PoseDataError (a ValueError) names a damaged file.
        FileNotFoundError: no such folder.
    """
    if store_data is None:
        return training, keep, None
    check_store_data(store_data)
    episodes = StoreEpisodes.load(store_data, spec)
    summary = episodes.summary()
    say(
        f"adding {summary['episodes']} store episodes ({summary['theft']} theft, "
        f"{summary['normal']} normal) from {store_data}: {summary['rows']} rows, "
        f"{summary['margin_rows_left_out']} margin rows left out"
    )
    rows, fit_on = with_episodes(training, keep, episodes)
    return rows, fit_on, summary | {"folder": str(store_data)}
