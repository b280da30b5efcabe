"""From person rows to the temporal network's inputs: each row is a window ending at its
frame, over its track as far as the track has got by then.

Each row's track comes from `dataset.row_histories`: its video's track, or, in rows
made with `normal_piece_s`, the piece of a normal-only track that the row's id names
(`dataset.cut`), which starts a track of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from server.behaviour.geometry import F32
from server.behaviour.sequence import (
    CHANNELS,
    DEFAULT_SEQUENCE_SPEC,
    SequenceSpec,
    sequence_inputs,
)
from server.records.people import TrackHistory
from training.dataset import PersonRows, row_histories


@dataclass(frozen=True, slots=True)
class RowTracks:
    """Each row's track: `histories[group[i]]` is row i's, `end_s[i]` its window's end."""

    histories: tuple[TrackHistory, ...]
    group: npt.NDArray[np.intp]  # (N,)
    end_s: npt.NDArray[np.float64]  # (N,) seconds, the row's frame time

    @classmethod
    def of(cls, rows: PersonRows) -> RowTracks:
        """The tracks of `rows`, cut as the rows were."""
        key = rows.video.astype(np.int64) * (1 << 32) + rows.track
        keys, group = np.unique(key, return_inverse=True)
        by_key = row_histories(rows)
        histories = []
        for k in keys.tolist():
            video, track = divmod(k, 1 << 32)
            if (video, track) not in by_key:
                raise ValueError(f"rows: video {rows.videos[video].name} has no track {track}")
            histories.append(by_key[(video, track)])
        fps = np.asarray([v.fps for v in rows.videos], np.float64)
        end_s = rows.frame / fps[rows.video] if len(rows) else np.zeros(0)
        return cls(tuple(histories), np.asarray(group, np.intp), end_s.astype(np.float64))

    def inputs(
        self, which: npt.NDArray[np.intp], spec: SequenceSpec = DEFAULT_SEQUENCE_SPEC
    ) -> F32:
        """The inputs of rows `which` (indices), in that order: (len(which), C, steps)."""
        if len(which) == 0:
            return np.zeros((0, len(CHANNELS), spec.steps), np.float32)
        groups = self.group[which]
        order = np.argsort(groups, kind="stable")
        present, starts = np.unique(groups[order], return_index=True)
        ends = np.split(self.end_s[which[order]], starts[1:])
        made = sequence_inputs([self.histories[g] for g in present.tolist()], ends, spec)
        out = np.empty_like(made)
        out[order] = made
        return out
