"""Bar charts that stay readable on a 360 px phone: whole-number ticks only, room reserved
for every label, a label on every n-th bar when they would crowd, and bars with space
between them and from the edges."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import flet as ft
import flet_charts as fch

MUTED = ft.Colors.ON_SURFACE_VARIANT
GRID = ft.Colors.OUTLINE_VARIANT
LABEL_SIZE = 11  # points, axis labels
CHAR_PX = 7.0  # a label character's width at LABEL_SIZE, a little generous
LABEL_GAP_PX = 10.0  # at least this much between two bottom labels
HEIGHT = 190
PADDING = ft.Padding(left=0, top=14, right=14, bottom=0)  # off the card's edges
PHONE_PX = 360  # the page's width before it is known
MARGINS_PX = 24  # the page's padding either side of a chart, and a scroll bar
WIDEST_PX = 900.0  # charts stop growing here


@dataclass(frozen=True, slots=True)
class Segment:
    value: int
    color: ft.ColorValue


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its label under the axis, its parts stacked bottom up, and what a tap on it
    says."""

    label: str
    segments: list[Segment] = field(default_factory=list)
    tooltip: str = ""

    @property
    def total(self) -> int:
        return sum(segment.value for segment in self.segments)


def nice_step(top: int, most_ticks: int = 4) -> int:
    """The whole-number tick step (1, 2, 5, 10, 20, 50...) that labels 0..`top` with at most
    `most_ticks` steps."""
    if top <= most_ticks:
        return 1
    magnitude = int(10 ** int(math.log10(top / most_ticks)))  # top > most_ticks: >= 1
    for factor in (1, 2, 5, 10):
        if math.ceil(top / (factor * magnitude)) <= most_ticks:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover: factor 10 always fits


def label_every(count: int, plot_px: float, label_px: float, step: int = 1) -> int:
    """Label every n-th of `count` bars so that labels `label_px` wide never touch; n is a
    multiple of `step` (every 3rd hour, say)."""
    if count <= 1:
        return 1
    fit = math.ceil((label_px + LABEL_GAP_PX) / (plot_px / count))
    return max(step, math.ceil(fit / step) * step)


def bar_width(count: int, plot_px: float) -> float:
    """Half a bar's slot, the other half is space between bars and at the ends; 2 to 22 px."""
    return min(22.0, max(2.0, plot_px / max(count, 1) * 0.5))


def text_px(text: str) -> float:
    """About how wide `text` is at the label size, for its widest line."""
    return max((len(line) for line in text.splitlines()), default=0) * CHAR_PX


def bar_chart(
    bars: list[Bar], *, width_px: float, label_lines: int = 1, label_step: int = 1
) -> ft.Control:
    """A bar chart of `bars` for a chart `width_px` wide (the screen's width less its
    margins), labelling every `label_step`-th bar or fewer."""
    axes = Axes.fit(
        max((bar.total for bar in bars), default=0),
        [bar.label for bar in bars],
        width_px=width_px,
        label_step=label_step,
    )
    width = bar_width(len(bars), axes.plot_px)
    groups = [
        fch.BarChartGroup(
            x=index,
            rods=[
                fch.BarChartRod(
                    from_y=0,
                    to_y=bar.total,
                    width=width,
                    color=bar.segments[0].color if len(bar.segments) == 1 else None,
                    stack_items=_stack(bar) if len(bar.segments) > 1 else [],
                    border_radius=ft.BorderRadius.only(top_left=2, top_right=2),
                    tooltip=bar.tooltip or str(bar.total),
                )
            ],
        )
        for index, bar in enumerate(bars)
    ]
    return axes.chart(groups, label_lines=label_lines, height=HEIGHT)


@dataclass(frozen=True, slots=True)
class Axes:
    """A bar chart's axes: whole-number ticks up to `max_y`, room for the tick labels, and
    the labels under the bars (every `every`-th)."""

    labels: list[str]
    max_y: int
    step: int
    left_px: float
    plot_px: float
    every: int

    @classmethod
    def fit(cls, top: float, labels: list[str], *, width_px: float, label_step: int) -> Axes:
        step = nice_step(math.ceil(top))
        max_y = max(step, math.ceil(top / step) * step)  # the top tick is a whole step
        left_px = text_px(str(max_y)) + 12
        plot_px = max(width_px - left_px - PADDING.right, 40.0)
        widest = max((text_px(label) for label in labels), default=0.0)
        every = label_every(len(labels), plot_px, widest, label_step)
        return cls(labels, max_y, step, left_px, plot_px, every)

    def chart(
        self, groups: list[fch.BarChartGroup], *, label_lines: int, height: int
    ) -> ft.Control:
        chart = fch.BarChart(
            groups=groups,
            group_alignment=ft.MainAxisAlignment.SPACE_EVENLY,  # a whole gap at each edge too
            left_axis=fch.ChartAxis(
                labels=[
                    fch.ChartAxisLabel(value=value, label=axis_label(str(value)))
                    for value in range(0, self.max_y + 1, self.step)
                ],
                label_spacing=self.step,
                label_size=self.left_px,
            ),
            bottom_axis=fch.ChartAxis(
                labels=[
                    fch.ChartAxisLabel(value=index, label=axis_label(label))
                    for index, label in enumerate(self.labels)
                    if index % self.every == 0
                ],
                label_size=8 + 15 * label_lines,
            ),
            horizontal_grid_lines=fch.ChartGridLines(interval=self.step, color=GRID, width=0.5),
            border=ft.Border(bottom=ft.BorderSide(1, GRID)),
            min_y=0,
            max_y=self.max_y,
            height=height,
        )
        return ft.Container(chart, padding=PADDING)


def chart_width(control: ft.Control) -> float:
    """How wide a chart on `control`'s page may be."""
    try:
        width = control.page.width or PHONE_PX
    except RuntimeError:  # not on the page yet
        width = PHONE_PX
    return min(float(width), WIDEST_PX) - MARGINS_PX


def legend(entries: list[tuple[str, ft.ColorValue]]) -> ft.Control:
    """Colour swatches with their names, wrapping onto more lines on a narrow screen."""
    return ft.Row(
        [
            ft.Row(
                [
                    ft.Container(width=12, height=12, bgcolor=color, border_radius=2),
                    ft.Text(name, size=12),
                ],
                spacing=4,
                tight=True,
            )
            for name, color in entries
        ],
        wrap=True,
        spacing=12,
        run_spacing=4,
    )


def _stack(bar: Bar) -> list[fch.BarChartRodStackItem]:
    items, bottom = [], 0
    for segment in bar.segments:
        if segment.value:
            items.append(
                fch.BarChartRodStackItem(
                    from_y=bottom, to_y=bottom + segment.value, color=segment.color
                )
            )
            bottom += segment.value
    return items


def axis_label(text: str) -> ft.Text:
    return ft.Text(text, size=LABEL_SIZE, color=MUTED, text_align=ft.TextAlign.CENTER)
