"""⑦' What the store analytics make of a camera's tracks: one `CameraMinute` per camera and
analysed minute, aggregates only (no person, no trail)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

WHOLE_VIEW = ""  # the zone name of a camera's whole picture


@dataclass(frozen=True, slots=True)
class ZoneCount:
    """One zone in one minute ("" the camera's whole view).

    `occupancy_sum` is the person-seconds in the zone over the minute's analysed `seconds`
    (divided by them, the mean people); a visit is counted in `exits` and the dwell figures
    in the minute it ended.
    """

    zone: str
    kind: str | None  # the zone's kind; None for the whole view
    seconds: float
    occupancy_sum: float
    occupancy_max: int
    entries: int
    exits: int
    dwell_sum_s: float
    dwell_hist: tuple[int, ...]  # visits per bin of DWELL_EDGES_S

    @property
    def occupancy_mean(self) -> float:
        return self.occupancy_sum / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class LineCount:
    """People crossing one counting line in one minute."""

    line: str
    entered: int
    left: int


@dataclass(frozen=True, slots=True)
class CameraMinute:
    """One camera's analytics for the minute starting at `minute_ts` (Unix seconds, a
    multiple of 60). `heat` is person-seconds per cell of a grid over the picture, rows
    top to bottom."""

    camera_id: int
    minute_ts: float
    zones: tuple[ZoneCount, ...]  # the whole view first
    lines: tuple[LineCount, ...]
    heat: npt.NDArray[np.float32]  # (rows, cols) seconds

    def __post_init__(self) -> None:
        if not math.isfinite(self.minute_ts) or self.minute_ts % 60:
            raise ValueError(f"minute_ts: must be a whole minute, got {self.minute_ts}")
        if self.heat.dtype != np.float32 or self.heat.ndim != 2:
            raise ValueError(f"heat: must be a 2-d float32 grid, got {self.heat.dtype}")

    @property
    def seconds(self) -> float:
        """Seconds analysed in the minute."""
        return self.zones[0].seconds if self.zones else 0.0
