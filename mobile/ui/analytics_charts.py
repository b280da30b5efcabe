"""Analytics' bar charts: groups of side-by-side bars (in beside out, per hour or day) of
whole or fractional values, on the same readable axes as Stats' charts (whole-number
ticks, a label on every n-th group when they would crowd)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import flet as ft
import flet_charts as fch

from mobile.ui.charts import (
    GRID,
    LABEL_SIZE,
    MUTED,
    PADDING,
    bar_width,
    label_every,
    nice_step,
    text_px,
)

HEIGHT = 170
SMALL_HEIGHT = 110  # a zone's dwell histogram


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
    top = math.ceil(max((max(g.values, default=0.0) for g in groups), default=0.0))
    step = nice_step(top)
    max_y = max(step, math.ceil(top / step) * step)
    left_px = text_px(str(max_y)) + 12
    plot_px = max(width_px - left_px - PADDING.right, 40.0)
    widest = max((text_px(group.label) for group in groups), default=0.0)
    every = label_every(len(groups), plot_px, widest, label_step)
    series = max((len(group.values) for group in groups), default=1)
    width = bar_width(len(groups) * series, plot_px)
    chart = fch.BarChart(
        groups=[
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
        ],
        group_alignment=ft.MainAxisAlignment.SPACE_EVENLY,
        left_axis=fch.ChartAxis(
            labels=[
                fch.ChartAxisLabel(value=value, label=axis_label(str(value)))
                for value in range(0, max_y + 1, step)
            ],
            label_spacing=step,
            label_size=left_px,
        ),
        bottom_axis=fch.ChartAxis(
            labels=[
                fch.ChartAxisLabel(value=index, label=axis_label(group.label))
                for index, group in enumerate(groups)
                if index % every == 0
            ],
            label_size=8 + 15 * label_lines,
        ),
        horizontal_grid_lines=fch.ChartGridLines(interval=step, color=GRID, width=0.5),
        border=ft.Border(bottom=ft.BorderSide(1, GRID)),
        min_y=0,
        max_y=max_y,
        height=height,
    )
    return ft.Container(chart, padding=PADDING)


def axis_label(text: str) -> ft.Text:
    return ft.Text(text, size=LABEL_SIZE, color=MUTED, text_align=ft.TextAlign.CENTER)


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
