"""The arithmetic that keeps the charts readable on a phone: whole-number tick steps and
how many bottom labels fit."""

from __future__ import annotations

import pytest

from mobile.ui import charts


@pytest.mark.parametrize(
    ("top", "step"),
    [(0, 1), (1, 1), (4, 1), (5, 2), (8, 2), (9, 5), (17, 5), (20, 5), (21, 10), (100, 50)],
)
def test_tick_steps_are_whole_numbers_with_at_most_four_steps(top: int, step: int) -> None:
    assert charts.nice_step(top) == step
    assert -(-max(top, 1) // step) <= 4


@pytest.mark.parametrize(
    ("count", "plot_px", "label_px", "step", "every"),
    [
        (7, 300, 21, 1, 1),  # a week: every day
        (30, 300, 21, 1, 4),  # a month: every 4th day
        (24, 300, 14, 3, 3),  # hours: every 3rd, though every 2nd would fit
        (24, 150, 14, 3, 6),  # narrower: every 6th
        (1, 300, 40, 1, 1),
    ],
)
def test_bottom_labels_thin_out_to_fit(
    count: int, plot_px: float, label_px: float, step: int, every: int
) -> None:
    assert charts.label_every(count, plot_px, label_px, step) == every
