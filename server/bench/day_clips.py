"""Channel clips of a realistic store day for `shopguard bench pipeline` (issue 20).

A store's cameras do not show people all the time: aisles stand empty for long stretches.
These clips alternate stretches of the empty scene and stretches of real people, with a
given share of the time occupied and a seed. They use the demo clip (vtest, real
pedestrians, fixed camera) cropped as `media.py` crops it (the 640x360 sub-stream, 25 fps,
a keyframe every 2 s; optionally the 1920x1080 main stream):

- the empty scene is the per-pixel median of frames spread over the whole demo clip (the
  walkers move on, the median keeps the ground), with fresh sensor noise in every frame so
  it is never a perfectly still picture;
- a people stretch is a run of consecutive demo frames from a seeded starting point.

Example:
    clip = make_day_clip(Path("media/demo/vtest.mp4"), Path("/tmp/day"), occupancy=0.5, seed=1)
    clip.sub, clip.occupied  # the 640x360 clip; per output frame, whether people are in it
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from server.bench.media import FPS, ROI, ChannelClips, add_h264

logger = logging.getLogger(__name__)

NOISE_SIGMA = 2.0  # grey levels of sensor noise on the empty scene
MEDIAN_EVERY = 8  # demo frames between those the background is the median of
CYCLE_S = (8.0, 24.0)  # shortest and longest people-and-empty cycle, seconds


@dataclass(frozen=True, slots=True)
class Stretch:
    start: int  # first output frame
    frames: int
    occupied: bool  # people (True) or the empty scene


@dataclass(frozen=True, slots=True)
class DayClip:
    sub: Path  # 640x360 25 fps H.264
    main: Path | None  # 1920x1080 25 fps H.264, when asked for
    seconds: float
    occupancy: float  # the share of frames asked to show people
    seed: int
    stretches: tuple[Stretch, ...]

    @property
    def occupied(self) -> npt.NDArray[np.bool_]:
        """Per output frame (25 fps), whether it shows people."""
        flags = np.zeros(sum(s.frames for s in self.stretches), bool)
        for stretch in self.stretches:
            flags[stretch.start : stretch.start + stretch.frames] = stretch.occupied
        return flags


def empty_scene(source: Path, cache: Path | None = None) -> npt.NDArray[np.uint8]:
    """The demo clip's scene without its walkers, (360, 640, 3) BGR, cropped to `ROI`."""
    if cache is not None and cache.is_file():
        with np.load(cache) as data:
            scene: npt.NDArray[np.uint8] = data["scene"]
            return scene
    x0, y0, x1, y1 = ROI
    with av.open(str(source)) as container:
        frames = [
            np.asarray(decoded.to_ndarray(format="bgr24")[y0:y1, x0:x1], np.uint8)
            for index, decoded in enumerate(container.decode(video=0))
            if index % MEDIAN_EVERY == 0
        ]
    scene = np.median(np.stack(frames), axis=0).round().astype(np.uint8)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cache, scene=scene)
    return scene


def plan_day(frames: int, occupancy: float, seed: int) -> tuple[Stretch, ...]:
    """Alternating stretches covering `frames`, `round(frames * occupancy)` of them occupied.

    The clip is cut into cycles of a drawn length within `CYCLE_S` (at `FPS`), each a people
    stretch and an empty one in the mix's proportion (the last cycle takes what is left), so
    any part of the clip as long as two cycles shows about the mix: a bench's measured window
    sees the share it is meant to. Which side the cycles start with is drawn too.
    """
    if not 0.0 <= occupancy <= 1.0:
        raise ValueError(f"occupancy: must be within 0..1, got {occupancy}")
    occupied = round(frames * occupancy)
    if occupied in (0, frames):
        return (Stretch(0, frames, occupied > 0),) if frames else ()
    rng = np.random.default_rng(seed)
    people_first = bool(rng.random() < occupancy)
    shortest, longest = (round(s * FPS) for s in CYCLE_S)
    sides: list[tuple[bool, int]] = []
    done = people = 0
    while done < frames:
        cycle = int(rng.integers(shortest, longest + 1))
        if frames - done < cycle + shortest:  # the last cycle: what is left
            cycle = frames - done
            with_people = min(max(occupied - people, 0), cycle)
        else:
            with_people = round(cycle * occupancy)
        pair = [(True, with_people), (False, cycle - with_people)]
        sides += pair if people_first else pair[::-1]
        done, people = done + cycle, people + with_people
    return tuple(_joined(sides))


def _joined(sides: list[tuple[bool, int]]) -> Iterator[Stretch]:
    """Stretches of the (side, frames) runs, empty runs left out and neighbours of one side
    joined."""
    start = 0
    pending: tuple[bool, int] | None = None
    for side, length in sides:
        if length <= 0:
            continue
        if pending is not None and pending[0] == side:
            pending = (side, pending[1] + length)
            continue
        if pending is not None:
            yield Stretch(start, pending[1], pending[0])
            start += pending[1]
        pending = (side, length)
    if pending is not None:
        yield Stretch(start, pending[1], pending[0])


def make_day_clip(
    source: Path,
    out_dir: Path,
    *,
    occupancy: float,
    seed: int = 0,
    seconds: float = 60.0,
    main: bool = False,
) -> DayClip:
    """Write (or reuse) one channel's day clip: `occupancy` of its frames show people."""
    stretches = plan_day(round(seconds * FPS), occupancy, seed)
    cycles = "-".join(f"{s:g}" for s in CYCLE_S)  # a clip of another plan is not reused
    name = f"day_{occupancy * 100:g}pc_seed{seed}_{seconds:g}s_cycles{cycles}s"
    clip = DayClip(
        out_dir / f"{name}_sub_360p25.mp4",
        out_dir / f"{name}_main_1080p25.mp4" if main else None,
        seconds,
        occupancy,
        seed,
        stretches,
    )
    if clip.sub.is_file() and (clip.main is None or clip.main.is_file()):
        return clip
    write_day_clip(source, clip.sub, stretches, seed, main=clip.main)
    return clip


def day_channels(
    base: ChannelClips,
    source: Path,
    out_dir: Path,
    *,
    occupancy: float,
    count: int,
    seconds: float = 60.0,
) -> list[ChannelClips]:
    """`count` channels of one day mix, each with its own seed (its stretches fall at other
    times): each its own day sub-stream, which is what is analysed, and all the bench's main
    stream (`base.main`), which only fills the ring and is never decoded."""
    return [
        ChannelClips(
            base.main,
            make_day_clip(source, out_dir, occupancy=occupancy, seed=seed, seconds=seconds).sub,
            seconds,
        )
        for seed in range(count)
    ]


def write_day_clip(
    source: Path,
    sub: Path,
    stretches: tuple[Stretch, ...],
    seed: int,
    *,
    main: Path | None = None,
) -> None:
    """Write `stretches` of the demo clip's people and of its empty scene to `sub` (and
    `main`); the seed picks where in the demo each people stretch starts, and the noise."""
    if not source.is_file():
        raise FileNotFoundError(f"{source} not found: run ./infra/scripts/prepare_demo.sh")
    sub.parent.mkdir(parents=True, exist_ok=True)
    scene = empty_scene(source, sub.parent / "empty_scene.npz")
    rng = np.random.default_rng(seed)
    logger.info("writing day clip %s (%d stretches)", sub.name, len(stretches))
    writers = [_Writer(sub, 640, 360, "1000k")]
    if main is not None:
        writers.append(_Writer(main, 1920, 1080, "4000k"))
    with _DemoReel(source) as reel:
        for stretch in stretches:
            if stretch.occupied:
                reel.skip(int(rng.integers(reel.length)))  # a seeded point of the demo
            for _ in range(stretch.frames):
                if stretch.occupied:
                    picture = reel.next()
                else:
                    noise = rng.normal(0.0, NOISE_SIGMA, scene.shape)
                    picture = np.clip(scene + noise, 0, 255).astype(np.uint8)
                for writer in writers:
                    writer.write(picture)
    for writer in writers:
        writer.close()


class _DemoReel:
    """The demo clip's frames, cropped to `ROI`, at `FPS` (frames repeated as `media.py`
    does), looping; decoded as they are needed."""

    def __init__(self, source: Path) -> None:
        self.source = source
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            self.rate = float(stream.average_rate or 10)
            self.length = stream.frames or sum(1 for _ in container.demux(stream))
        self._container: av.container.InputContainer | None = None
        self._decoded: Iterator[av.VideoFrame] = iter(())
        self._shown = -1  # output frames' demo index, since the clip was opened
        self._tick = 0  # output frames handed out since opened
        self._picture: npt.NDArray[np.uint8] | None = None

    def __enter__(self) -> _DemoReel:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._container is not None:
            self._container.close()

    def skip(self, frames: int) -> None:
        """Move `frames` demo frames on (a jump, as a new stretch starts elsewhere)."""
        for _ in range(frames):
            self._decode_one()
        self._tick = 0
        self._shown = -1

    def next(self) -> npt.NDArray[np.uint8]:
        wanted = int(self._tick * self.rate / FPS)
        while self._shown < wanted or self._picture is None:
            x0, y0, x1, y1 = ROI
            image = self._decode_one().to_ndarray(format="bgr24")
            self._picture = np.array(image[y0:y1, x0:x1], np.uint8)
            self._shown += 1
        self._tick += 1
        return self._picture

    def _decode_one(self) -> av.VideoFrame:
        for _ in range(2):
            decoded = next(self._decoded, None)
            if decoded is not None:
                return decoded
            if self._container is not None:
                self._container.close()
            self._container = av.open(str(self.source))
            self._decoded = self._container.decode(video=0)
        raise ValueError(f"{self.source}: no video frames")


class _Writer:
    """An H.264 clip as `media.py` writes them, into `path` once closed."""

    def __init__(self, path: Path, width: int, height: int, bitrate: str) -> None:
        self.path, self.partial = path, path.with_suffix(".partial.mp4")
        self.container = av.open(str(self.partial), "w")
        self.stream = add_h264(self.container, width, height, bitrate)

    def write(self, picture: npt.NDArray[np.uint8]) -> None:
        frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
        if (frame.width, frame.height) != (self.stream.width, self.stream.height):
            frame = frame.reformat(self.stream.width, self.stream.height, "yuv420p")
        self.container.mux(self.stream.encode(frame))

    def close(self) -> None:
        self.container.mux(self.stream.encode(None))
        self.container.close()
        self.partial.replace(self.path)
