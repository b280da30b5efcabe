"""Track peaks, scored spans and review counts in the database (both backends): one row per
growing span, only the current model's peaks, reviews by outcome, pruning by age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from server.runtime import Runtime
from server.storage import alerts as alert_rows
from server.storage import cameras, peaks, stores
from server.storage.models import Alert, ScoredSpan, TrackPeak
from shared.schemas.alerts import AlertOutcome, AlertStatus
from shared.schemas.cameras import CameraCreate, SourceKind
from shared.schemas.stores import StoreCreate
from tests.helpers import add_alert

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
OLD, NEW = "a" * 64, "b" * 64  # two models' identities


async def _camera(runtime: Runtime, name: str = "Door") -> int:
    async with runtime.sessionmaker() as session:
        store = await stores.create_store(session=session, store_in=StoreCreate(name=name))
        camera = await cameras.create_camera(
            session=session,
            camera_in=CameraCreate(
                store_id=store.id,
                name=name,
                source_kind=SourceKind.rtsp,
                source_url="rtsp://10.0.0.5/ch1",
            ),
        )
        await session.commit()
        return camera.id


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_a_growing_span_stays_one_row_and_a_gap_starts_another(runtime: Runtime) -> None:
    camera_id = await _camera(runtime)
    writes = [  # (start, end) as the tracker hands them out, 30 s apart
        (0, 25),
        (0, 55),  # the same span, longer
        (0, 55),  # written again after a failed round: no change
        (100, 130),  # 45 s after its end: a new span
        (100, 160),
    ]
    async with runtime.sessionmaker() as session:
        for start, end in writes:
            await peaks.record_span(
                session=session,
                camera_id=camera_id,
                model=NEW,
                started_at=_at(start),
                ended_at=_at(end),
                join_s=30.0,
            )
        await peaks.record_span(  # another model's span is its own
            session=session,
            camera_id=camera_id,
            model=OLD,
            started_at=_at(0),
            ended_at=_at(1000),
            join_s=30.0,
        )
        await session.commit()
    async with runtime.sessionmaker() as session:
        rows = (
            await session.execute(
                select(ScoredSpan.started_at, ScoredSpan.ended_at)
                .where(ScoredSpan.model == NEW)
                .order_by(ScoredSpan.started_at)
            )
        ).all()
        assert [tuple(r) for r in rows] == [(_at(0), _at(55)), (_at(100), _at(160))]
        whole = await peaks.scored_seconds(
            session=session, camera_id=camera_id, model=NEW, since=_at(-60), until=_at(999)
        )
        clipped = await peaks.scored_seconds(
            session=session, camera_id=camera_id, model=NEW, since=_at(30), until=_at(130)
        )
    assert whole == 55 + 60
    assert clipped == 25 + 30  # only the seconds inside the window count


async def test_peaks_of_the_current_model_within_the_window(runtime: Runtime) -> None:
    camera_id = await _camera(runtime)
    other = await _camera(runtime, "Back")
    rows = [  # (camera, model, track, last seen, peak)
        (camera_id, NEW, 1, 10, 0.4),
        (camera_id, NEW, 2, 5000, 0.8),
        (camera_id, OLD, 3, 5000, 0.9),  # the model before: not mixed in
        (camera_id, NEW, 4, -3600, 0.7),  # ended before the window
        (other, NEW, 5, 5000, 0.6),  # another camera
    ]
    async with runtime.sessionmaker() as session:
        await peaks.add_track_peaks(
            session=session,
            peaks=[
                TrackPeak(
                    camera_id=camera,
                    model=model,
                    track_id=track,
                    first_seen=_at(last - 10),
                    last_seen=_at(last),
                    peak=peak,
                )
                for camera, model, track, last, peak in rows
            ],
        )
        await session.commit()
    async with runtime.sessionmaker() as session:
        found = await peaks.peak_rows(session=session, camera_id=camera_id, model=NEW, since=T0)
    assert sorted((r.first_seen, r.last_seen, r.peak) for r in found) == [
        (_at(0), _at(10), 0.4),
        (_at(4990), _at(5000), 0.8),
    ]


async def test_reviews_are_counted_by_outcome(runtime: Runtime) -> None:
    camera_id = await _camera(runtime)
    outcomes = [  # (started, status, outcome)
        (0, AlertStatus.reviewed, AlertOutcome.false_alarm),
        (60, AlertStatus.reviewed, AlertOutcome.false_alarm),
        (120, AlertStatus.reviewed, AlertOutcome.confirmed_theft),
        (180, AlertStatus.reviewed, AlertOutcome.deterred),
        (240, AlertStatus.acknowledged, None),  # not reviewed yet
        (-86400 * 40, AlertStatus.reviewed, AlertOutcome.false_alarm),  # before the window
    ]
    for started, status, outcome in outcomes:
        alert = await add_alert(runtime, camera_id, started_at=_at(started))
        async with runtime.sessionmaker() as session:
            row = await session.get(Alert, alert.id)
            assert row is not None
            row.status, row.outcome = status.value, outcome.value if outcome else None
            await session.commit()
    async with runtime.sessionmaker() as session:  # a test alert is no review of the model
        camera = await cameras.get_camera(session=session, camera_id=camera_id, store_ids=None)
        test = await alert_rows.create_alert(
            session=session,
            camera=camera,
            zone="",
            event_type="test",
            score=1.0,
            started_at=_at(300),
        )
        test.status, test.outcome = AlertStatus.reviewed.value, AlertOutcome.false_alarm.value
        await session.commit()
        counts = await peaks.review_counts(
            session=session, camera_id=camera_id, since=_at(-86400 * 28)
        )
    assert counts == {"false_alarm": 2, "confirmed_theft": 1, "deterred": 1}


async def test_pruning_removes_what_ended_before_the_cut(runtime: Runtime) -> None:
    camera_id = await _camera(runtime)
    async with runtime.sessionmaker() as session:
        for day in (0, 10, 20):
            session.add(
                TrackPeak(
                    camera_id=camera_id,
                    model=NEW,
                    track_id=day,
                    first_seen=_at(day * 86400),
                    last_seen=_at(day * 86400 + 5),
                    peak=0.5,
                )
            )
            session.add(
                ScoredSpan(
                    camera_id=camera_id,
                    model=NEW,
                    started_at=_at(day * 86400),
                    ended_at=_at(day * 86400 + 3600),
                )
            )
        await session.commit()
        removed = await peaks.prune_peaks(session=session, before=_at(15 * 86400))
        await session.commit()
        left = await session.scalar(select(func.count()).select_from(TrackPeak))
        spans = await session.scalar(select(func.count()).select_from(ScoredSpan))
    assert (removed, left, spans) == (4, 1, 1)
