"""③ presence gate: pose only for cameras that show someone (issue 20).

While a camera shows nobody, each of its frames is shrunk to a 64x36 grey picture and
compared with a slowly updated background. A frame goes on to pose when enough of the
picture moved, preceded by the gated-out frames of the last `lead_s` seconds that already
stirred (some patch changed by half the motion threshold: a person coming in at low
contrast), oldest first, so the tracker and the behaviour windows still get a person's
first seconds; and every `check_s` seconds anyway, so a person who stands still is found.
Once a frame shows someone, every frame goes on, as without the gate, until `quiet_s`
seconds of frames showed nobody; the last of them becomes the background.

Pure computation on `Frame` records: the worker (`worker.py`) does the pose and tracking.

Example:
    gate = PresenceGate(PresenceSettings.from_config(config))
    for item in gate.admit(frame).frames:  # empty: gated out
        gate.analysed(item, people=len(poses) > 0)
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

from server.config import PipelineConfig
from server.records.video import Frame

GRID_HW = (36, 64)  # rows, columns of the grey picture motion is measured on
BACKGROUND_S = 5.0  # the background follows a changed scene over about this many seconds

Reason = Literal["gated", "awake", "motion", "check"]


@dataclass(frozen=True, slots=True)
class PresenceSettings:
    check_s: float = 2.0  # seconds between pose checks of an empty view
    lead_s: float = 1.0  # seconds of gated-out frames analysed before a waking one
    motion_threshold: float = 12.0  # grey levels (0-255) a cell must change by
    motion_share: float = 0.002  # share of cells that must change
    quiet_s: float = 1.0  # seconds of analysed frames showing nobody before the gate closes

    @classmethod
    def from_config(cls, config: PipelineConfig) -> PresenceSettings:
        return cls(
            check_s=config.presence_check_s,
            lead_s=config.presence_lead_s,
            motion_threshold=config.presence_motion_threshold,
            motion_share=config.presence_motion_share,
            quiet_s=config.presence_quiet_s,
        )


@dataclass(frozen=True, slots=True)
class Admitted:
    """The frames to analyse now, oldest first (none: the frame was gated out), and why."""

    frames: tuple[Frame, ...]
    reason: Reason


def small_grey(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Mean brightness of each cell of a `GRID_HW` grid over `image` (H, W, 3) BGR.

    Returns:
        shape `GRID_HW` (fewer cells for an image smaller than the grid), grey levels 0-255.
    """
    rows, cols = min(GRID_HW[0], image.shape[0]), min(GRID_HW[1], image.shape[1])
    cell_h, cell_w = image.shape[0] // rows, image.shape[1] // cols
    picture = Image.fromarray(image[: cell_h * rows, : cell_w * cols])
    # PIL weighs the channels as RGB: on BGR the weights swap, which motion does not mind
    return np.asarray(picture.convert("L").reduce((cell_w, cell_h)), np.float32)


class PresenceGate:
    """Decides which of one camera's frames go to pose. Starts awake (the first frame is
    analysed, and when it shows nobody it becomes the background)."""

    def __init__(self, settings: PresenceSettings) -> None:
        self.settings = settings
        self.awake = True
        self._background: npt.NDArray[np.float32] | None = None
        self._background_ts = -math.inf
        self._newest: npt.NDArray[np.float32] | None = None  # the last admitted frame's grey
        self._lead: deque[tuple[Frame, bool]] = deque()  # gated out, and whether it stirred
        self._analysed_ts = -math.inf
        self._people_ts = -math.inf  # the last analysed frame that showed someone

    def admit(self, frame: Frame) -> Admitted:
        """What to analyse now that `frame` arrived (frames arrive in capture order)."""
        grey = self._newest = small_grey(frame.image)
        background = self._background
        if self.awake or background is None or background.shape != grey.shape:
            self._lead.clear()
            return Admitted((frame,), "awake")
        change = np.abs(grey - background)
        self._follow(grey, frame.captured_at)
        if (change > self.settings.motion_threshold).mean() > self.settings.motion_share:
            lead = (*(item for item, stirred in self._lead if stirred), frame)
            self._lead.clear()
            self.awake = True
            return Admitted(lead, "motion")
        since = frame.captured_at - self._analysed_ts
        if not 0.0 <= since < self.settings.check_s:
            self._lead.clear()
            return Admitted((frame,), "check")
        self._lead.append((frame, bool(change.max() >= self.settings.motion_threshold / 2)))
        while self._lead[0][0].captured_at < frame.captured_at - self.settings.lead_s:
            self._lead.popleft()
        return Admitted((), "gated")

    def analysed(self, frame: Frame, *, people: bool) -> None:
        """After pose and tracking of an admitted frame: whether it showed anyone."""
        self._analysed_ts = frame.captured_at
        if people:
            self._people_ts = frame.captured_at
        self.awake = frame.captured_at - self._people_ts < self.settings.quiet_s
        if not self.awake and self._newest is not None:
            self._background, self._background_ts = self._newest, frame.captured_at

    @property
    def waiting(self) -> int:
        """Gated-out frames held for a wake-up."""
        return len(self._lead)

    def _follow(self, grey: npt.NDArray[np.float32], ts: float) -> None:
        """Move the background a step towards `grey` (a share of the time since the last)."""
        assert self._background is not None
        step = min(max(ts - self._background_ts, 0.0) / BACKGROUND_S, 1.0)
        self._background = self._background + np.float32(step) * (grey - self._background)
        self._background_ts = ts
