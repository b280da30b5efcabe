"""Day clips for the pipeline bench: the asked share of time shows the empty scene, the rest
real people, in alternating stretches (issue 20)."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from server.bench.day_clips import CYCLE_S, day_channels, empty_scene, make_day_clip, plan_day
from server.bench.media import FPS, ChannelClips

ROOT = Path(__file__).resolve().parents[2]
DEMO_CLIP = ROOT / "media" / "demo" / "vtest.mp4"  # infra/scripts/prepare_demo.sh
CHANGED = 30  # grey levels: a pixel this far from the empty scene shows something else
PEOPLE_SHARE = 0.005  # pixels changed in a frame that shows people (the demo's: 1-5%)


@pytest.mark.parametrize("occupancy", [0.0, 0.25, 0.5, 0.75, 1.0])
@pytest.mark.parametrize("seed", range(8))
def test_a_day_plan_alternates_stretches_with_the_asked_share(occupancy: float, seed: int) -> None:
    total = 120 * FPS  # two minutes
    stretches = plan_day(total, occupancy, seed)
    assert sum(s.frames for s in stretches if s.occupied) == round(total * occupancy)
    assert [s.start for s in stretches] == [
        sum(s.frames for s in stretches[:i]) for i in range(len(stretches))
    ]
    assert sum(s.frames for s in stretches) == total
    assert all(a.occupied != b.occupied for a, b in itertools.pairwise(stretches))
    assert plan_day(total, occupancy, seed) == stretches  # the seed decides
    if 0.0 < occupancy < 1.0:  # another seed: people at other times
        assert plan_day(total, occupancy, seed + 100) != stretches
        assert all(s.frames <= CYCLE_S[1] * FPS for s in stretches)


@pytest.mark.parametrize("occupancy", [0.25, 0.5, 0.75])
@pytest.mark.parametrize("seed", range(8))
def test_any_part_of_a_day_as_long_as_two_cycles_shows_about_the_mix(
    occupancy: float, seed: int
) -> None:
    total = 120 * FPS
    flags = np.zeros(total, bool)
    for stretch in plan_day(total, occupancy, seed):
        flags[stretch.start : stretch.start + stretch.frames] = stretch.occupied
    window = round(2 * CYCLE_S[1] * FPS)  # a bench's measured 30 s fit in it
    shares = np.convolve(flags, np.ones(window), "valid") / window
    assert abs(shares - occupancy).max() <= 0.15


def grey(image: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
    picture: npt.NDArray[np.float32] = np.asarray(image, np.float32).mean(axis=2)
    return picture


def test_a_day_clip_shows_the_empty_scene_for_the_asked_share(tmp_path: Path) -> None:
    if not DEMO_CLIP.is_file():
        pytest.skip(f"{DEMO_CLIP} is missing: run ./infra/scripts/prepare_demo.sh")
    clip = make_day_clip(DEMO_CLIP, tmp_path, occupancy=0.25, seed=4, seconds=16.0)
    scene = grey(empty_scene(DEMO_CLIP, tmp_path / "empty_scene.npz"))
    changed, steps = [], []
    previous: npt.NDArray[np.float32] | None = None
    with av.open(str(clip.sub)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (640, 360) and stream.average_rate == FPS
        for decoded in container.decode(stream):
            picture = grey(decoded.to_ndarray(format="bgr24"))
            changed.append(float((np.abs(picture - scene) > CHANGED).mean()))
            if previous is not None:
                steps.append(float(np.abs(picture - previous).mean()))
            previous = picture
    shows_people = np.asarray(changed) > PEOPLE_SHARE
    assert len(shows_people) == 16 * FPS
    assert 1.0 - shows_people.mean() == pytest.approx(0.75, abs=0.01)  # measured: empty
    assert (shows_people == clip.occupied).mean() >= 0.99  # frame by frame, as planned
    empty = ~clip.occupied[1:] & ~clip.occupied[:-1]
    # sensor noise: the empty scene is not a still picture (the encoder keeps most of it)
    assert (np.asarray(steps)[empty] > 0.05).mean() > 0.9
    assert make_day_clip(DEMO_CLIP, tmp_path, occupancy=0.25, seed=4, seconds=16.0) == clip


def test_each_channel_of_a_mix_has_its_own_day(tmp_path: Path) -> None:
    if not DEMO_CLIP.is_file():
        pytest.skip(f"{DEMO_CLIP} is missing: run ./infra/scripts/prepare_demo.sh")
    base = ChannelClips(tmp_path / "main_1080p25.mp4", tmp_path / "sub_360p25.mp4", 30.0)
    channels = day_channels(base, DEMO_CLIP, tmp_path, occupancy=0.5, count=2, seconds=8.0)
    assert [c.main for c in channels] == [base.main] * 2  # the ring's stream: never decoded
    assert len({c.sub for c in channels}) == 2 and all(c.sub.is_file() for c in channels)
