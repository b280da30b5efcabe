"""The live picture of a camera whose presence gate keeps frames from pose (nobody in view):
its gated frames are shown as they come, with no one drawn, and the picture never steps
back when the frames that led up to a wake-up are analysed after later ones were shown."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.bench.day_clips import Stretch, write_day_clip
from server.bench.media import FPS
from server.live.frames import LiveFrame, LiveFrames
from server.records.analysis import FrameAnalysis
from server.records.people import NUM_KEYPOINTS, Tracks
from server.records.video import Frame
from server.runtime import Runtime
from tests.conftest import make_settings
from tests.helpers import LIFESPAN_S
from tests.pipeline.app_helpers import FAST, add_camera, add_store, eventually
from tests.pipeline.conftest import ROOT, admin_client

DEMO_CLIP = ROOT / "media" / "demo" / "vtest.mp4"  # infra/scripts/prepare_demo.sh
EMPTY_S = 3.0  # the clip's empty scene, then its people


def frame(ts: float, seq: int, grey: int = 100) -> Frame:
    return Frame(7, np.full((36, 64, 3), grey, np.uint8), ts, seq)


def one_person(ts: float) -> Tracks:
    return Tracks(
        ts=ts,
        track_id=np.array([1], np.int64),
        xyxy=np.array([[10, 5, 20, 30]], np.float32),
        keypoints=np.zeros((1, NUM_KEYPOINTS, 2), np.float32),
        keypoint_conf=np.zeros((1, NUM_KEYPOINTS), np.float32),
        score=np.ones(1, np.float32),
    )


async def test_gated_frames_are_shown_plain_and_the_picture_never_steps_back() -> None:
    live = LiveFrames()
    live.take_gated(frame(1.0, 0))
    shown = live.latest(7)
    assert shown is not None and shown.captured_at == 1.0 and shown.overlay is None
    # a viewer waiting on the camera is woken by a gated frame
    waiting = await live.next_after(7, after=1.0, timeout_s=0.01)
    assert waiting is None
    live.take_gated(frame(1.2, 1))
    woken = await live.next_after(7, after=1.0, timeout_s=0.01)
    assert woken is not None and woken.captured_at == 1.2
    # the lead-up of a wake-up, analysed after the gated frames were shown: not shown
    live.take(FrameAnalysis(frame(1.0, 0), one_person(1.0), None))
    assert live.latest(7) is woken
    # the newest shown frame, analysed: now with its person
    live.take(FrameAnalysis(frame(1.2, 1), one_person(1.2), None))
    with_people = live.latest(7)
    assert with_people is not None and with_people.captured_at == 1.2
    assert with_people.overlay is not None and len(with_people.overlay.tracks) == 1
    # a gated frame no newer than the shown one does not hide its people
    live.take_gated(frame(1.2, 1))
    live.take_gated(frame(1.1, 9))
    assert live.latest(7) is with_people
    live.take_gated(frame(1.4, 2, grey=50))
    plain = live.latest(7)
    assert plain is not None and plain.overlay is None and int(plain.image[0, 0, 0]) == 50


@pytest.fixture
def empty_then_people(tmp_path: Path) -> Path:
    """3 s of the demo's empty scene (with sensor noise), then 4 s of its pedestrians."""
    if not DEMO_CLIP.is_file():
        pytest.skip(f"{DEMO_CLIP} is missing: run ./infra/scripts/prepare_demo.sh")
    clip = tmp_path / "empty_then_people.mp4"
    empty = round(EMPTY_S * FPS)
    stretches = (Stretch(0, empty, False), Stretch(empty, 4 * FPS, True))
    write_day_clip(DEMO_CLIP, clip, stretches, seed=5)
    return clip


async def test_a_gated_camera_s_live_picture_keeps_up_with_its_frames(
    tmp_path: Path, empty_then_people: Path, model_path: Path
) -> None:
    pipeline = FAST.model_copy(update={"presence_gate": True})
    data_dir = tmp_path / "data"
    settings = make_settings(data_dir, f"sqlite+aiosqlite:///{data_dir}.db", pipeline=pipeline)
    app = create_app(settings)
    # what a viewer finds after each record the live view took (subscribed after it)
    shown: list[LiveFrame] = []
    gated: list[Frame] = []
    async with (
        LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S),
        admin_client(app) as api,
    ):
        runtime: Runtime = app.state.runtime
        live = runtime.live.frames

        def look(camera_id: int) -> None:
            newest = live.latest(camera_id)
            if newest is not None and (not shown or shown[-1] is not newest):
                shown.append(newest)

        runtime.records.subscribe(FrameAnalysis, lambda analysis: look(analysis.camera_id))
        runtime.records.subscribe(Frame, gated.append)
        runtime.records.subscribe(Frame, lambda record: look(record.camera_id))
        await add_camera(api, await add_store(api), "Entrance", empty_then_people)

        async def people_shown() -> bool:
            return any(f.overlay is not None and len(f.overlay.tracks) > 0 for f in shown)

        await eventually(people_shown, within_s=40)
    assert len(gated) >= 8  # the gate was at work in the empty scene
    times = [f.captured_at for f in shown]
    assert times == sorted(times)  # never a step back, lead-up included
    start = times[0]
    empty = [f for f in shown if f.captured_at - start < EMPTY_S - 0.5]
    # the empty scene refreshes with every frame taken (5 fps), not only at the 2 s checks
    gaps = [b.captured_at - a.captured_at for a, b in itertools.pairwise(empty)]
    assert len(empty) >= 8 and max(gaps) < 0.5, gaps
    plain = [f for f in empty if f.overlay is None]
    assert len(plain) >= len(empty) - 3  # the first frame and the checks are analysed
    assert {f.captured_at for f in plain} <= {f.captured_at for f in gated}
