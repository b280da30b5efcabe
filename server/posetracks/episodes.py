"""A labelled episode's file: the poses kept (`PoseRows`) with what they are labelled, so a
trainer can read a folder of them without the database (`training/store_data.py`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from server.posetracks.rows import PoseDataError, PoseRows
from shared.schemas.episodes import EpisodeLabel, EpisodeSource


@dataclass(frozen=True, slots=True)
class EpisodeMeta:
    """What an episode file says about its poses. Times are Unix seconds.

    `start`..`end` is the labelled span (the alert's, or the marked one; an alert of one
    detection has start == end); the poses cover
    `kept_from`..`kept_to`, a margin wider on each side, as context for the model's windows.
    A file is rewritten under a new key when its label changes: of two files of one
    episode, the one with the later `labelled_at` holds.
    """

    episode_id: int
    store_id: int
    camera_id: int
    source: EpisodeSource
    label: EpisodeLabel
    alert_id: int | None
    start: float
    end: float
    kept_from: float
    kept_to: float
    track_ids: tuple[int, ...]
    labelled_at: float

    def __post_init__(self) -> None:
        if not self.kept_from <= self.start <= self.end <= self.kept_to:
            raise ValueError(
                "times: need kept_from <= start <= end <= kept_to, got "
                f"{self.kept_from}, {self.start}, {self.end}, {self.kept_to}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"track_ids": list(self.track_ids)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> EpisodeMeta:
        try:
            return cls(
                episode_id=int(raw["episode_id"]),
                store_id=int(raw["store_id"]),
                camera_id=int(raw["camera_id"]),
                source=EpisodeSource(raw["source"]),
                label=EpisodeLabel(raw["label"]),
                alert_id=None if raw["alert_id"] is None else int(raw["alert_id"]),
                start=float(raw["start"]),
                end=float(raw["end"]),
                kept_from=float(raw["kept_from"]),
                kept_to=float(raw["kept_to"]),
                track_ids=tuple(int(t) for t in raw["track_ids"]),
                labelled_at=float(raw["labelled_at"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PoseDataError(f"episode meta malformed: {exc}") from exc


def episode_bytes(meta: EpisodeMeta, rows: PoseRows) -> bytes:
    """The episode's file."""
    if rows.camera_id != meta.camera_id:
        raise ValueError(f"rows of camera {rows.camera_id} for camera {meta.camera_id}")
    return rows.to_bytes({"episode": meta.to_dict()})


def read_episode(data: bytes) -> tuple[EpisodeMeta, PoseRows]:
    """An episode file's meta and poses.

    Raises:
        PoseDataError: not an episode file, or damaged.
    """
    rows, meta = PoseRows.from_bytes(data)
    raw = meta.get("episode")
    if not isinstance(raw, dict):
        raise PoseDataError("a pose file without episode meta (a chunk?)")
    return EpisodeMeta.from_dict(raw), rows
