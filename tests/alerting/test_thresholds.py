"""What a budget reads from the model file, and track peaks waiting out a database that is
down (a real SQLite file that appears later), without those of a camera deleted meanwhile."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from server.alerting.thresholds import (
    DEFAULT_BUDGET_PER_DAY,
    CameraThresholds,
    ModelFacts,
    model_path,
)
from server.records.analysis import FrameAnalysis
from server.records.people import NUM_KEYPOINTS, Tracks, Verdicts
from server.records.video import Frame
from server.storage import cameras, migrate, stores
from server.storage.db import make_engine, make_sessionmaker
from server.storage.models import ScoredSpan, TrackPeak
from server.weights import sha256_of
from shared.schemas.cameras import CameraCreate, SourceKind
from shared.schemas.stores import StoreCreate
from tests.conftest import make_settings


def model_file(tmp_path: Path, info: object) -> Path:
    path = tmp_path / "behaviour.json"
    path.write_text(json.dumps({"policy": {"threshold": 0.6}, "info": info}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("info", "budget"),
    [
        ({}, DEFAULT_BUDGET_PER_DAY),  # the evaluation states no figure: the default
        ({"alerts_per_camera_day": 5}, 5.0),
        ({"alerts_per_camera_day": 0.5}, 0.5),
        ({"alerts_per_camera_day": 0}, DEFAULT_BUDGET_PER_DAY),  # nonsense is ignored
        ({"alerts_per_camera_day": "many"}, DEFAULT_BUDGET_PER_DAY),
        (None, DEFAULT_BUDGET_PER_DAY),
    ],
)
def test_the_model_file_gives_identity_floor_and_default_budget(
    tmp_path: Path, info: object, budget: float
) -> None:
    path = model_file(tmp_path, info)
    facts = ModelFacts.read(path)
    assert facts == ModelFacts(sha256_of(path), 0.6, budget)
    assert facts.floor == pytest.approx(0.3)


def test_no_readable_model_means_no_budgets(tmp_path: Path) -> None:
    assert ModelFacts.read(tmp_path / "missing.json") is None
    broken = tmp_path / "broken.json"
    broken.write_text('{"policy": {}}', encoding="utf-8")
    assert ModelFacts.read(broken) is None


def test_the_shipped_model_is_read(tmp_path: Path) -> None:
    path = model_path(make_settings(tmp_path, "sqlite+aiosqlite:///unused.db"))
    facts = ModelFacts.read(path)
    assert facts is not None and 0 < facts.floor < facts.threshold < 1


def frame_of(
    camera_id: int, track_id: int, ts: float, score: float
) -> tuple[Frame, Tracks, Verdicts]:
    ids = np.asarray([track_id], np.int64)
    tracks = Tracks(
        ts=ts,
        track_id=ids,
        xyxy=np.zeros((1, 4), np.float32),
        keypoints=np.zeros((1, NUM_KEYPOINTS, 2), np.float32),
        keypoint_conf=np.ones((1, NUM_KEYPOINTS), np.float32),
        score=np.ones(1, np.float32),
    )
    scores = np.asarray([score], np.float32)
    frame = Frame(camera_id, np.zeros((8, 8, 3), np.uint8), ts, 0)
    return frame, tracks, Verdicts(ts, ids, scores, scores, 0.6)


async def test_peaks_wait_for_the_database_and_skip_deleted_cameras(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'later' / 'shopguard.db'}"
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    thresholds = CameraThresholds(
        settings=make_settings(tmp_path / "data", url),
        sessionmaker=sessionmaker,
        model=model_file(tmp_path, {}),
        clock=lambda: 1000.0,
    )
    thresholds.facts = ModelFacts.read(model_file(tmp_path, {}))
    try:
        for ts, score in ((100.0, 0.2), (100.4, 0.7), (100.8, 0.4)):
            thresholds.take(FrameAnalysis(*frame_of(1, 7, ts, score)))
        thresholds.take(FrameAnalysis(*frame_of(2, 9, 100.0, 0.9)))  # a camera that will not exist
        with pytest.raises(OperationalError):  # the database's folder is not there yet
            await thresholds.flush()
        (tmp_path / "later").mkdir()
        await migrate.upgrade(engine)
        async with sessionmaker() as session:
            store = await stores.create_store(session=session, store_in=StoreCreate(name="S"))
            camera = await cameras.create_camera(
                session=session,
                camera_in=CameraCreate(
                    store_id=store.id,
                    name="Door",
                    source_kind=SourceKind.rtsp,
                    source_url="rtsp://10.0.0.5/ch1",
                ),
            )
            await session.commit()
        assert camera.id == 1
        assert await thresholds.flush() == 1  # the waiting peak; camera 2's went with it
        assert await thresholds.flush() == 0  # written once
        async with sessionmaker() as session:
            peaks = (await session.scalars(select(TrackPeak))).all()
            spans = (await session.scalars(select(ScoredSpan))).all()
        assert [(p.camera_id, p.track_id, p.peak) for p in peaks] == [
            (1, 7, float(np.float32(0.7)))
        ]
        assert [(s.camera_id, s.started_at.timestamp(), s.ended_at.timestamp()) for s in spans] == [
            (1, 100.0, 100.8)
        ]
    finally:
        await engine.dispose()
