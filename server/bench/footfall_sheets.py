"""Contact sheets for counting people across a line by hand:

    .venv/bin/python -m server.bench.footfall_sheets CLIP --line ax,ay,bx,by --out DIR
        [--step 3] [--cols 5] [--rows 4] [--width 300] [--region x0,y0,x1,y1]
        [--first N] [--last N] [--format png|jpg]

Decodes CLIP and writes grids of downscaled frames (every `--step`th frame, its 0-based
number stamped on it) with the counting line drawn in red and an arrow towards its "in" side: the
right-hand side of a→b as seen on the picture (shared/schemas/cameras.py `CountingLine`).
Line and `--region` (a part of the picture to show, e.g. around the line) are fractions
0..1 of the picture's width and height. Follow each person's feet across the line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, ImageDraw

LINE_COLOUR, ARROW_COLOUR = (255, 40, 40), (255, 220, 0)
STAMP_COLOUR, STAMP_BACKGROUND = (255, 255, 255), (0, 0, 0)
GAP = 4  # pixels between tiles


@dataclass(frozen=True, slots=True)
class SheetSpec:
    line: tuple[float, float, float, float]  # ax, ay, bx, by: fractions of the picture
    region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)  # x0, y0, x1, y1
    step: int = 3
    cols: int = 5
    rows: int = 4
    tile_width: int = 300
    suffix: str = "png"


def numbered_frames(
    clip: Path, step: int, first: int = 0, last: int | None = None
) -> Iterator[tuple[int, Image.Image]]:
    """Every `step`th frame of `clip` from `first` to `last`, with its index (0 = the first)."""
    with av.open(str(clip)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if last is not None and index > last:
                return
            if index >= first and (index - first) % step == 0:
                yield index, Image.fromarray(frame.to_ndarray(format="rgb24"))


def tile(picture: Image.Image, index: int, spec: SheetSpec) -> Image.Image:
    """`picture` cut to the region, scaled to the tile width, with line, arrow and number."""
    w, h = picture.size
    x0, y0, x1, y1 = spec.region
    box = (round(x0 * w), round(y0 * h), round(x1 * w), round(y1 * h))
    scale = spec.tile_width / (box[2] - box[0])
    small = picture.crop(box).resize(
        (spec.tile_width, round((box[3] - box[1]) * scale)), Image.Resampling.LANCZOS
    )

    def at(fx: float, fy: float) -> tuple[float, float]:
        return ((fx * w - box[0]) * scale, (fy * h - box[1]) * scale)

    ax, ay, bx, by = spec.line
    (pax, pay), (pbx, pby) = at(ax, ay), at(bx, by)
    draw = ImageDraw.Draw(small)
    draw.line([(pax, pay), (pbx, pby)], fill=LINE_COLOUR, width=2)
    # "in" is the side where (b - a) x (p - a) > 0 with y down: the normal (-dy, dx).
    dx, dy = pbx - pax, pby - pay
    length = max((dx * dx + dy * dy) ** 0.5, 1e-6)
    nx, ny = -dy / length, dx / length
    mx, my = (pax + pbx) / 2, (pay + pby) / 2
    reach = max(12.0, spec.tile_width / 12)
    tip = (mx + nx * reach, my + ny * reach)
    draw.line([(mx, my), tip], fill=ARROW_COLOUR, width=2)
    head = reach / 3
    for side in (1, -1):  # the two barbs of the arrow head
        draw.line(
            [tip, (tip[0] - nx * head + side * ny * head, tip[1] - ny * head - side * nx * head)],
            fill=ARROW_COLOUR,
            width=2,
        )
    draw.text((tip[0] + nx * 4, tip[1] + ny * 4), "in", fill=ARROW_COLOUR)
    label = str(index)
    left, top, right, bottom = draw.textbbox((3, 3), label)
    draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=STAMP_BACKGROUND)
    draw.text((3, 3), label, fill=STAMP_COLOUR)
    return small


def write_sheets(
    clip: Path, spec: SheetSpec, out: Path, first: int = 0, last: int | None = None
) -> list[Path]:
    """Write the contact sheets of `clip` to `out`, named by their frame range."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    batch: list[tuple[int, Image.Image]] = []
    per_sheet = spec.cols * spec.rows
    for index, picture in numbered_frames(clip, spec.step, first, last):
        batch.append((index, tile(picture, index, spec)))
        if len(batch) == per_sheet:
            written.append(_sheet(batch, spec, out))
            batch = []
    if batch:
        written.append(_sheet(batch, spec, out))
    return written


def _sheet(tiles: list[tuple[int, Image.Image]], spec: SheetSpec, out: Path) -> Path:
    tw, th = tiles[0][1].size
    rows = -(-len(tiles) // spec.cols)
    sheet = Image.new("RGB", (spec.cols * (tw + GAP) - GAP, rows * (th + GAP) - GAP), (40, 40, 40))
    for n, (_, small) in enumerate(tiles):
        sheet.paste(small, ((n % spec.cols) * (tw + GAP), (n // spec.cols) * (th + GAP)))
    path = out / f"sheet_{tiles[0][0]:04d}-{tiles[-1][0]:04d}.{spec.suffix}"
    if spec.suffix == "jpg":
        sheet.save(path, quality=85)
    else:
        sheet.save(path)
    return path


def _four(text: str) -> tuple[float, float, float, float]:
    values = tuple(float(v) for v in text.split(","))
    if len(values) != 4 or not all(0.0 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError("give four fractions 0..1, e.g. 0.5,0.2,0.5,0.9")
    return values[0], values[1], values[2], values[3]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--line", type=_four, required=True, help="ax,ay,bx,by (fractions)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--region", type=_four, default=(0.0, 0.0, 1.0, 1.0))
    parser.add_argument("--step", type=int, default=3, help="show every Nth frame")
    parser.add_argument("--cols", type=int, default=5)
    parser.add_argument("--rows", type=int, default=4)
    parser.add_argument("--width", type=int, default=300, help="tile width, pixels")
    parser.add_argument("--first", type=int, default=0, help="first frame shown")
    parser.add_argument("--last", type=int, default=None, help="last frame shown")
    parser.add_argument("--format", choices=("png", "jpg"), default="png")
    args = parser.parse_args(argv)
    spec = SheetSpec(
        args.line, args.region, args.step, args.cols, args.rows, args.width, args.format
    )
    for path in write_sheets(args.clip, spec, args.out, args.first, args.last):
        sys.stdout.write(f"{path}\n")


if __name__ == "__main__":
    main()
