"""③ presence gate: a camera showing nobody is checked cheaply, and wakes with the frames that
led up to a person's arrival, so nobody is tracked later than without the gate."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.bench.day_clips import Stretch, write_day_clip
from server.bench.media import FPS
from server.pipeline.presence import Admitted, PresenceGate, PresenceSettings, small_grey
from server.records.analysis import FrameAnalysis
from server.records.video import Frame
from server.runtime import Runtime
from tests.conftest import make_settings
from tests.helpers import LIFESPAN_S
from tests.pipeline.app_helpers import FAST, add_camera, add_store, eventually, pipeline_stats
from tests.pipeline.conftest import ROOT, admin_client

logger = logging.getLogger(__name__)

DEMO_CLIP = ROOT / "media" / "demo" / "vtest.mp4"  # infra/scripts/prepare_demo.sh
STEP_S = 0.25  # 4 analysed frames per second (exact in binary: no rounding at the edges)
HW = (360, 640)


def scene(seed: int = 0) -> npt.NDArray[np.uint8]:
    """A still 640x360 view: a grey gradient with some texture."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(60, 180, HW[1], dtype=np.float32)[None, :, None]
    texture = rng.normal(0, 10, (HW[0] // 8, HW[1] // 8, 1)).repeat(8, 0).repeat(8, 1)
    return np.clip(ramp + texture, 0, 255).astype(np.uint8).repeat(3, axis=2)


def noisy(image: npt.NDArray[np.uint8], rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """`image` with fresh sensor noise (2 grey levels)."""
    return np.clip(image + rng.normal(0, 2.0, image.shape), 0, 255).astype(np.uint8)


def with_person(image: npt.NDArray[np.uint8], x: int, width: int = 30) -> npt.NDArray[np.uint8]:
    """A dark upright blob (a person seen at 640x360) whose left side is at `x`."""
    out = image.copy()
    out[200:290, max(x, 0) : max(x + width, 0)] = 30
    return out


def faint_person(image: npt.NDArray[np.uint8], x: int) -> npt.NDArray[np.uint8]:
    """A person whose clothes are 8 grey levels off the background (under the motion
    threshold of 12, over half of it)."""
    out = image.copy()
    out[200:290, x : x + 30] -= 8
    return out


def frames_of(images: list[npt.NDArray[np.uint8]]) -> list[Frame]:
    return [Frame(1, image, i * STEP_S, i) for i, image in enumerate(images)]


@dataclass
class Run:
    """What the gate did with each frame, as the worker drives it."""

    admitted: list[Admitted]

    @property
    def reasons(self) -> list[str]:
        return [a.reason for a in self.admitted]

    def analysed_seqs(self) -> list[int]:
        return [f.seq for a in self.admitted for f in a.frames]


def drive(gate: PresenceGate, frames: list[Frame], people: Collection[int] = ()) -> Run:
    """Offer `frames` in order; an analysed frame shows someone when its seq is in `people`."""
    admitted: list[Admitted] = []
    for frame in frames:
        decision = gate.admit(frame)
        admitted.append(decision)
        for item in decision.frames:
            gate.analysed(item, people=item.seq in people)
    return Run(admitted)


def test_the_grey_picture_is_a_64x36_mean_of_any_frame() -> None:
    image = np.zeros((360, 640, 3), np.uint8)
    image[:10, :10] = 255  # exactly the top-left cell
    grey = small_grey(image)
    assert grey.shape == (36, 64) and grey.dtype == np.float32
    assert grey[0, 0] == pytest.approx(255, abs=1) and grey[0, 1] == 0 and grey[1, 0] == 0
    assert small_grey(np.zeros((363, 645, 3), np.uint8)).shape == (36, 64)  # odd sizes
    assert small_grey(np.zeros((20, 30, 3), np.uint8)).shape == (20, 30)  # smaller than it


def test_a_still_scene_is_gated_once_nobody_is_found_and_checked_every_few_seconds() -> None:
    rng = np.random.default_rng(1)
    view = scene()
    gate = PresenceGate(PresenceSettings(check_s=2.0))
    run = drive(gate, frames_of([noisy(view, rng) for _ in range(30)]))  # 7.5 s
    # the first frame is analysed (the gate starts awake), shows nobody and becomes the
    # background; then only a check every 2 s (8 frames), sensor noise wakes nothing
    assert run.reasons[0] == "awake" and "motion" not in run.reasons
    assert run.analysed_seqs() == [0, 8, 16, 24]
    assert [r for r in run.reasons if r != "gated"] == ["awake", "check", "check", "check"]
    assert gate.awake is False and gate.waiting == 5  # the last second held for a wake-up


def test_while_someone_is_found_every_frame_is_analysed_and_a_second_after() -> None:
    view = scene()
    gate = PresenceGate(PresenceSettings(quiet_s=1.0))
    frames = frames_of([view] * 16)
    # someone in frames 0..7, missed by pose in 8 and 9, found again in 10, then gone
    run = drive(gate, frames, people=[*range(8), 10])
    # a frame or two without them keeps the camera awake; a second without (11..14) closes
    assert run.analysed_seqs() == list(range(15))
    assert run.reasons[15:] == ["gated"]


def test_a_moving_blob_wakes_the_camera_with_the_stirring_lead_up_first_in_order() -> None:
    rng = np.random.default_rng(2)
    view = scene()
    gate = PresenceGate(PresenceSettings(check_s=60.0, lead_s=1.0))
    # 5 s of empty view; then a person comes in at low contrast (20, 21: too faint to wake
    # the camera), then clearly (22)
    images = [noisy(view, rng) for _ in range(20)]
    images += [noisy(faint_person(view, x), rng) for x in (0, 20)]
    images += [noisy(with_person(view, x), rng) for x in (40, 60, 80)]
    run = drive(gate, frames_of(images), people={21, 22, 23, 24})
    woke = run.admitted[22]
    assert run.reasons[:22] == ["awake"] + ["gated"] * 21
    assert woke.reason == "motion"
    # of the second before it (17..21), the frames that stirred, oldest first, then 22;
    # 17..19 match the empty scene: nobody new can be in them
    assert [f.seq for f in woke.frames] == [20, 21, 22]
    assert run.reasons[23:] == ["awake", "awake"]  # someone found: every frame
    assert run.analysed_seqs() == [0, 20, 21, 22, 23, 24]


def test_a_hard_cut_to_people_wakes_with_no_lead_up() -> None:
    rng = np.random.default_rng(4)
    view = scene()
    gate = PresenceGate(PresenceSettings(check_s=60.0, lead_s=1.0))
    images = [noisy(view, rng) for _ in range(10)] + [noisy(with_person(view, 300), rng)]
    run = drive(gate, frames_of(images), people={10})
    assert run.admitted[10].reason == "motion"
    assert [f.seq for f in run.admitted[10].frames] == [10]


def test_motion_that_shows_nobody_becomes_the_background() -> None:
    rng = np.random.default_rng(3)
    view, moved = scene(), with_person(scene(), 300, width=80)  # e.g. a cart left in view
    gate = PresenceGate(PresenceSettings(check_s=60.0))
    images = [noisy(view, rng) for _ in range(5)] + [noisy(moved, rng) for _ in range(10)]
    run = drive(gate, frames_of(images))  # pose finds nobody in any of them
    assert run.reasons[5] == "motion" and run.reasons.count("motion") == 1
    assert run.reasons[6:] == ["gated"] * 9


def test_a_person_standing_still_is_found_by_the_low_rate_check() -> None:
    view = scene()
    standing = with_person(view, 300)
    gate = PresenceGate(PresenceSettings(check_s=2.0))
    # they stood there from the start, so they are part of the first background: only the
    # pose check sees them (frame 8, after 2 s), and from then on every frame is analysed
    run = drive(gate, frames_of([standing] * 25), people=range(8, 25))
    assert "motion" not in run.reasons
    assert run.analysed_seqs() == [0, *range(8, 25)]
    assert run.reasons[8] == "check" and run.reasons[9:] == ["awake"] * 16


def test_gated_frames_are_kept_no_longer_than_the_lead() -> None:
    view = scene()
    gate = PresenceGate(PresenceSettings(check_s=60.0, lead_s=0.5))
    drive(gate, frames_of([view] * 12))
    assert gate.waiting == 3  # 0.5 s at 4 fps, both ends kept


# -- the real pipeline: a person's first frames, gated against ungated ------------------


@pytest.fixture
def empty_then_people(tmp_path: Path) -> Path:
    """3 s of the demo's empty scene (with sensor noise), then 4 s of its pedestrians."""
    if not DEMO_CLIP.is_file():
        pytest.skip(f"{DEMO_CLIP} is missing: run ./infra/scripts/prepare_demo.sh")
    clip = tmp_path / "empty_then_people.mp4"
    stretches = (Stretch(0, 3 * FPS, False), Stretch(3 * FPS, 4 * FPS, True))
    write_day_clip(DEMO_CLIP, clip, stretches, seed=5)
    return clip


@dataclass(frozen=True)
class Arrival:
    first_tracked_seq: int  # the camera's first analysis frame with a tracked person
    late_s: float  # its capture time after the people stretch began
    gated: int  # frames_gated in the API's pipeline stats
    wakeups: int
    failed: int
    analysed_seqs: list[int]  # in the order their `FrameAnalysis` records came
    published_seqs: list[int]  # gated frames, published as plain `Frame` records
    never_analysed: int  # the camera's gated-out frames, counted with the lists above


PEOPLE_FROM_S = 3.0


async def first_tracked(clip: Path, gate: bool) -> Arrival:
    """Play `clip` as a camera (gate on or off) until past the arrival of its people."""
    pipeline = FAST.model_copy(update={"presence_gate": gate})
    data_dir = clip.parent / ("gated" if gate else "ungated")  # the clip's folder is allowed
    # the pipeline is what is measured: SQLite only
    settings = make_settings(data_dir, f"sqlite+aiosqlite:///{data_dir}.db", pipeline=pipeline)
    seen: list[FrameAnalysis] = []
    gated_frames: list[Frame] = []
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S),
        admin_client(app) as api,
    ):
        runtime: Runtime = app.state.runtime
        runtime.records.subscribe(FrameAnalysis, seen.append)
        runtime.records.subscribe(Frame, gated_frames.append)
        camera_id = await add_camera(api, await add_store(api), "Entrance", clip)

        async def past_the_arrival() -> bool:
            return bool(seen) and seen[-1].frame.captured_at - seen[0].frame.captured_at > 5.0

        await eventually(past_the_arrival, within_s=40)
        never_analysed = runtime.pipeline.runners[camera_id].worker.gated
        analysed, published = [a.frame.seq for a in seen], [f.seq for f in gated_frames]
        stats = (await pipeline_stats(api))[camera_id]
    start = seen[0].frame.captured_at  # the clip's first frame (analysed either way)
    first = next(a for a in seen if len(a.tracks) > 0)
    return Arrival(
        first.frame.seq,
        round(first.frame.captured_at - start - PEOPLE_FROM_S, 3),
        stats["frames_gated"],
        stats["wakeups"],
        stats["frames_failed"],
        analysed,
        published,
        never_analysed,
    )


async def test_people_entering_are_tracked_no_later_with_the_gate(
    empty_then_people: Path, model_path: Path
) -> None:
    ungated = await first_tracked(empty_then_people, gate=False)
    gated = await first_tracked(empty_then_people, gate=True)
    logger.info("first tracked: ungated %s, gated %s", ungated, gated)
    assert ungated.gated == 0 and ungated.wakeups == 0
    # the gate did work: most of the empty 3 s were not analysed, and the people woke it
    assert gated.gated >= 8 and gated.wakeups >= 1
    assert 0.0 <= ungated.late_s < 1.0  # the people are tracked within their first second
    assert gated.first_tracked_seq <= ungated.first_tracked_seq  # no frame later
    # the lead-up went through in order (the tracker refuses a frame older than the last)
    assert gated.analysed_seqs == sorted(set(gated.analysed_seqs)) and gated.failed == 0
    # every frame is analysed or published as it is gated out (for the live view), and those
    # of the lead-up are both; the ones never analysed are counted
    analysed, published = set(gated.analysed_seqs), set(gated.published_seqs)
    assert analysed | published == set(range(max(analysed | published) + 1))
    assert len(published - analysed) == gated.never_analysed >= 8
    assert ungated.published_seqs == []
