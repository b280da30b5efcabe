"""Counting lines and zones drawn over a camera's picture: zones as polygons tinted by their
kind, lines with an arrow towards their "in" side (the right-hand side of a→b as seen on
the picture), and the corners tapped so far of one being drawn. Points are fractions of the
picture (0..1, origin top left); shapes are in pixels of a picture `width` x `height`."""

from __future__ import annotations

import itertools
import math

import flet as ft
import flet.canvas as cv

from shared.schemas.cameras import CountingLine, Zone, ZoneKind

Point = tuple[float, float]

KIND_COLORS: dict[ZoneKind, str] = {
    ZoneKind.shelf: ft.Colors.BLUE_400,
    ZoneKind.exit: ft.Colors.RED_400,
    ZoneKind.checkout: ft.Colors.GREEN_500,
    ZoneKind.queue: ft.Colors.AMBER_500,
    ZoneKind.entrance: ft.Colors.CYAN_400,
    ZoneKind.staff: ft.Colors.PURPLE_300,
    ZoneKind.ignore: ft.Colors.GREY_500,
    ZoneKind.other: ft.Colors.BROWN_300,
}
LINE_COLOR = ft.Colors.YELLOW_ACCENT_400
DRAFT_COLOR = ft.Colors.PINK_ACCENT_200
ARROW_PX = 26.0  # the "in" arrow's length
HEAD_PX = 8.0
LABEL_STYLE = ft.TextStyle(size=12, color=ft.Colors.WHITE, weight=ft.FontWeight.BOLD)
SHADOW_STYLE = ft.TextStyle(size=12, color=ft.Colors.BLACK, weight=ft.FontWeight.BOLD)
DEFAULT_ASPECT = 9 / 16  # height over width while the picture's is unknown


def jpeg_size(jpeg: bytes) -> tuple[int, int] | None:
    """A JPEG's (width, height) from its frame header; None when it is not one."""
    if jpeg[:2] != b"\xff\xd8":
        return None
    at = 2
    while at + 9 < len(jpeg):
        if jpeg[at] != 0xFF:
            return None
        marker = jpeg[at + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a frame header
            height = int.from_bytes(jpeg[at + 5 : at + 7], "big")
            width = int.from_bytes(jpeg[at + 7 : at + 9], "big")
            return (width, height) if width and height else None
        at += 2 + int.from_bytes(jpeg[at + 2 : at + 4], "big")
    return None


def in_side(a: Point, b: Point, width: float, height: float) -> Point:
    """The unit normal (in pixels) pointing to the right-hand side of a→b on the picture:
    the way people go in. With y down, right of a direction (dx, dy) is (-dy, dx)."""
    dx, dy = (b[0] - a[0]) * width, (b[1] - a[1]) * height
    length = math.hypot(dx, dy) or 1.0
    return -dy / length, dx / length


def shapes(
    lines: list[CountingLine],
    zones: list[Zone],
    draft: list[Point],
    width: float,
    height: float,
    *,
    in_word: str,
) -> list[cv.Shape]:
    """Everything to draw over the picture: zones under lines, the draft on top."""
    drawn: list[cv.Shape] = []
    for zone in zones:
        drawn += _zone(zone, width, height)
    for line in lines:
        drawn += _line(line, width, height, in_word)
    drawn += _draft(draft, width, height)
    return drawn


def _zone(zone: Zone, width: float, height: float) -> list[cv.Shape]:
    color = KIND_COLORS[zone.kind]
    corners = [(x * width, y * height) for x, y in zone.polygon]
    outline = [
        cv.Path.MoveTo(*corners[0]),
        *(cv.Path.LineTo(x, y) for x, y in corners[1:]),
        cv.Path.Close(),
    ]
    left = min(x for x, _y in corners)
    top = min(y for _x, y in corners)
    return [
        cv.Path(outline, paint=ft.Paint(color=ft.Colors.with_opacity(0.3, color))),
        cv.Path(
            outline,
            paint=ft.Paint(color=color, stroke_width=2, style=ft.PaintingStyle.STROKE),
        ),
        *_label(zone.name, left + 4, top + 2),
    ]


def _line(line: CountingLine, width: float, height: float, in_word: str) -> list[cv.Shape]:
    (ax, ay), (bx, by) = (
        (line.a[0] * width, line.a[1] * height),
        (
            line.b[0] * width,
            line.b[1] * height,
        ),
    )
    nx, ny = in_side(line.a, line.b, width, height)
    mx, my = (ax + bx) / 2, (ay + by) / 2
    tip = (mx + nx * ARROW_PX, my + ny * ARROW_PX)
    # the head: two strokes back from the tip, at ±45° off the arrow
    back = (-nx, -ny)
    head = [
        (
            tip[0] + HEAD_PX * (back[0] * c - back[1] * s),
            tip[1] + HEAD_PX * (back[0] * s + back[1] * c),
        )
        for c, s in ((math.cos(0.8), math.sin(0.8)), (math.cos(-0.8), math.sin(-0.8)))
    ]
    stroke = ft.Paint(
        color=LINE_COLOR,
        stroke_width=3,
        style=ft.PaintingStyle.STROKE,
        stroke_cap=ft.StrokeCap.ROUND,
    )
    return [
        cv.Line(ax, ay, bx, by, paint=stroke),
        cv.Line(mx, my, *tip, paint=stroke),
        *(cv.Line(*tip, hx, hy, paint=stroke) for hx, hy in head),
        cv.Circle(ax, ay, 4, paint=ft.Paint(color=LINE_COLOR)),
        *_label(in_word, tip[0] + nx * 8 - 6, tip[1] + ny * 8 - 8),
        *_label(line.name, ax + 6, ay + 4),
    ]


def _draft(points: list[Point], width: float, height: float) -> list[cv.Shape]:
    pixels = [(x * width, y * height) for x, y in points]
    stroke = ft.Paint(color=DRAFT_COLOR, stroke_width=2, style=ft.PaintingStyle.STROKE)
    drawn: list[cv.Shape] = [
        cv.Line(x1, y1, x2, y2, paint=stroke) for (x1, y1), (x2, y2) in itertools.pairwise(pixels)
    ]
    drawn += [cv.Circle(x, y, 5, paint=ft.Paint(color=DRAFT_COLOR)) for x, y in pixels]
    return drawn


def _label(text: str, x: float, y: float) -> list[cv.Shape]:
    """Words readable on any picture: white over a black shadow."""
    return [
        cv.Text(x + 1, y + 1, text, style=SHADOW_STYLE),
        cv.Text(x, y, text, style=LABEL_STYLE),
    ]
