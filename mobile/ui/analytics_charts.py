"""Analytics' bar charts: groups of side-by-side bars (in beside out, per hour or day) of
whole or fractional values, on the same readable axes as Stats' charts (whole-number
ticks, a label on every n-th group when they would crowd)."""

from __future__ import annotations

from dataclasses import dataclass, field

import flet as ft
import flet_charts as fch

from mobile.ui.charts import Axes, bar_width

HEIGHT = 170
SMALL_HEIGHT = 110  # a zone's dwell histogram, a queue's length by hour


@dataclass(frozen=True, slots=True)
class Group:
    """Bars side by side over one label (an hour, a day), one per series, and what a tap on
    them says."""

    label: str
    values: list[float] = field(default_factory=list)
    tooltip: str = ""


def grouped_bar_chart(
    groups: list[Group],
    colors: list[ft.ColorValue],
    *,
    width_px: float,
    height: int = HEIGHT,
    label_lines: int = 1,
    label_step: int = 1,
) -> ft.Control:
    """Bars of `groups` (series i in `colors[i]`) for a chart `width_px` wide."""
    axes = Axes.fit(
        max((max(g.values, default=0.0) for g in groups), default=0.0),
        [group.label for group in groups],
        width_px=width_px,
        label_step=label_step,
    )
    series = max((len(group.values) for group in groups), default=1)
    width = bar_width(len(groups) * series, axes.plot_px)
    bars = [
        fch.BarChartGroup(
            x=index,
            rods=[
                fch.BarChartRod(
                    from_y=0,
                    to_y=value,
                    width=width,
                    color=colors[i % len(colors)],
                    border_radius=ft.BorderRadius.only(top_left=2, top_right=2),
                    tooltip=group.tooltip or _plain(value),
                )
                for i, value in enumerate(group.values)
            ],
            spacing=1,
        )
        for index, group in enumerate(groups)
    ]
    return axes.chart(bars, label_lines=label_lines, height=height)


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
