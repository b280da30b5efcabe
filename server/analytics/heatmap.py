"""Where people stand: seconds spent per cell of a grid over the picture, by anyone's feet."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from shared.schemas.analytics import HEATMAP_COLS, HEATMAP_ROWS


class HeatGrid:
    def __init__(self, cols: int = HEATMAP_COLS, rows: int = HEATMAP_ROWS) -> None:
        self.cols, self.rows = cols, rows
        self.seconds = np.zeros((rows, cols), np.float32)

    def take(self, step_s: float, points: npt.NDArray[np.float64]) -> None:
        """Each foot point (N, 2 fractions) stood `step_s` seconds in its cell."""
        if not len(points):
            return
        col = np.minimum((points[:, 0] * self.cols).astype(np.intp), self.cols - 1)
        row = np.minimum((points[:, 1] * self.rows).astype(np.intp), self.rows - 1)
        np.add.at(self.seconds, (row, col), np.float32(step_s))

    def take_out(self) -> npt.NDArray[np.float32]:
        """The grid so far; the next starts empty."""
        out, self.seconds = self.seconds, np.zeros((self.rows, self.cols), np.float32)
        return out
