"""A candidate's would-be alerts on a real database: scored frames in, decided with the
camera's zones at the candidate's threshold for that camera, deduplicated as live alerts
are, stored as shadow rows (never as alerts), and its track peaks stored under its own
identity for its alert budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from server.alerting.shadow import ShadowAlerts
from server.behaviour.models import model_identity
from server.records.analysis import FrameAnalysis
from server.records.people import NUM_KEYPOINTS, Tracks, Verdicts
from server.records.video import Frame
from server.storage import cameras, migrate, stores
from server.storage.db import make_engine, make_sessionmaker
from server.storage.models import Alert, ScoredSpan, ShadowAlert, TrackPeak
from shared.schemas.cameras import CameraCreate, SourceKind, Zone, ZoneKind
from shared.schemas.stores import StoreCreate
from tests.conftest import make_settings
from tests.models.builders import write_model

WIDTH, HEIGHT = 640, 360
STAFF = Zone(name="Staff", kind=ZoneKind.ignore, polygon=[(0, 0), (0.3, 0), (0.3, 1), (0, 1)])
T0 = 1_800_000_000.0  # Unix seconds


def scored(
    camera_id: int, ts: float, people: dict[int, tuple[float, float]]
) -> tuple[Frame, Tracks, Verdicts]:
    """A frame of `camera_id` at `ts` with people {track id: (x pixel, score)}, scored by a
    candidate whose own threshold is 0.5."""
    ids = np.asarray(sorted(people), np.int64)
    x = np.asarray([people[i][0] for i in sorted(people)], np.float32)
    keypoints = np.zeros((len(ids), NUM_KEYPOINTS, 2), np.float32)
    keypoints[..., 0], keypoints[..., 1] = x[:, None], 200.0
    tracks = Tracks(
        ts=ts,
        track_id=ids,
        xyxy=np.c_[x - 20, np.full_like(x, 100), x + 20, np.full_like(x, 300)],
        keypoints=keypoints,
        keypoint_conf=np.ones((len(ids), NUM_KEYPOINTS), np.float32),
        score=np.ones(len(ids), np.float32),
    )
    scores = np.asarray([people[i][1] for i in sorted(people)], np.float32)
    frame = Frame(camera_id, np.zeros((HEIGHT, WIDTH, 3), np.uint8), ts, 0)
    return frame, tracks, Verdicts(ts, ids, scores, scores, 0.5)


async def test_would_be_alerts_are_decided_deduplicated_and_stored_apart(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path / "data", database_url)
    engine = make_engine(database_url)
    await migrate.upgrade(engine)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        store = await stores.create_store(session=session, store_in=StoreCreate(name="S"))
        made = [
            await cameras.create_camera(
                session=session,
                camera_in=CameraCreate(
                    store_id=store.id,
                    name=name,
                    source_kind=SourceKind.rtsp,
                    source_url=f"rtsp://10.0.0.5/{name}",
                    **fields,
                ),
            )
            for name, fields in (
                ("Aisle", {"zones": [STAFF]}),
                ("Door", {"threshold": 0.95}),  # the camera's own threshold holds
            )
        ]
        await session.commit()
    aisle, door = made[0].id, made[1].id
    candidate = write_model(tmp_path / "candidate.json", 0.5)
    identity = model_identity(candidate)
    clock = [T0]
    shadow = ShadowAlerts(
        settings=settings,
        sessionmaker=sessionmaker,
        model=candidate,
        identity=identity,
        clock=lambda: clock[0],
    )
    try:
        await shadow.start()
        frames = [
            scored(aisle, T0, {7: (400, 0.6), 8: (500, 0.3)}),  # 7 opens an episode
            scored(aisle, T0 + 0.4, {7: (400, 0.8)}),  # ... and raises its peak
            scored(aisle, T0 + 1.0, {8: (500, 0.7), 9: (50, 0.99)}),  # 8 joins; 9 is staff
            scored(aisle, T0 + 400.0, {12: (400, 0.55)}),  # past the 5-minute window: anew
            scored(door, T0, {3: (400, 0.9)}),  # under the camera's own 0.95
        ]
        for frame, tracks, verdicts in frames:
            clock[0] = tracks.ts
            shadow.take(FrameAnalysis(frame, tracks, verdicts))
            await shadow.drain()
        assert shadow.stats.opened == 2
        assert await shadow.flush() == 2  # both episodes, once
        assert await shadow.flush() == 0
        clock[0] = T0 + 1000.0
        await shadow.stop()  # stores the live tracks' peaks too
        async with sessionmaker() as session:
            rows = (await session.scalars(select(ShadowAlert).order_by(ShadowAlert.id))).all()
            alerts = await session.scalar(select(func.count(Alert.id)))
            peaks = (
                await session.execute(
                    select(TrackPeak.camera_id, TrackPeak.track_id, TrackPeak.peak, TrackPeak.model)
                )
            ).all()
            spans = (await session.scalars(select(ScoredSpan.model))).all()
    finally:
        await shadow.stop()
        await engine.dispose()
    assert [
        (r.camera_id, r.model, r.zone, r.event_type, r.started_at.timestamp(),
         r.last_seen_at.timestamp(), round(r.peak_score, 3), r.tracks)
        for r in rows
    ] == [
        (aisle, identity, "", "concealment", T0, T0 + 1.0, 0.8, 2),
        (aisle, identity, "", "concealment", T0 + 400.0, T0 + 400.0, 0.55, 1),
    ]  # fmt: skip
    assert alerts == 0  # nothing was raised for real
    assert {(camera, track): round(peak, 3) for camera, track, peak, _ in peaks} == {
        (aisle, 7): 0.8,
        (aisle, 8): 0.7,
        (aisle, 9): 0.99,
        (aisle, 12): 0.55,
        (door, 3): 0.9,
    }  # every track's peak, for the candidate's budget on each camera
    assert {model for *_, model in peaks} == {identity} and set(spans) == {identity}
