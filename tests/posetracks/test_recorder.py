"""The pose-track sink on real tracked people: chunks per slot, read back bit for bit across
stored chunks and the live buffer, quiet cameras, damaged files, pruning by explicit times,
and the bytes a person-hour costs."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from server.posetracks.recorder import DUE_GRACE_S, PoseTrackRecorder
from server.posetracks.retention import prune_chunks
from server.posetracks.rows import PoseDataError, PoseRows
from server.posetracks.store import ChunkKey, LocalPoseStore
from tests.posetracks.people import (
    VTEST_WH,
    assert_rows_equal,
    expected_rows,
    feed,
    tracked_frames,
)

T0 = 1_800_000_000.0  # a multiple of 10 s: slots start there
CAMERA = 3


@pytest.fixture
async def recorder(tmp_path: Path) -> PoseTrackRecorder:
    return PoseTrackRecorder(LocalPoseStore(tmp_path / "pose-tracks"), chunk_s=10.0)


async def test_each_slot_becomes_one_chunk_and_reads_back_bit_for_bit(
    recorder: PoseTrackRecorder,
) -> None:
    frames = tracked_frames(CAMERA, T0, seconds=35)
    feed(recorder, frames)
    await recorder.drain()
    stored = sorted(f.key for f in recorder.store.files("chunks/"))
    # 0-10, 10-20, 20-30 s were written when the next slot began; 30-35 s is still buffered
    assert stored == [
        ChunkKey(CAMERA, round((T0 + s) * 1000), round((T0 + s + 9.8) * 1000)).key
        for s in (0, 10, 20)
    ]
    want = expected_rows(CAMERA, frames)
    assert len(want) > 150 and len(want.track_ids) >= 4  # real people, several tracks
    assert_rows_equal(await recorder.read(CAMERA, T0, T0 + 35), want)
    # a span across two chunks and the live buffer, cut at frame times
    assert_rows_equal(
        await recorder.read(CAMERA, T0 + 7.3, T0 + 32.1), want.between(T0 + 7.3, T0 + 32.1)
    )
    recorder.flush()
    await recorder.drain()
    assert len(recorder.store.files("chunks/")) == 4
    assert_rows_equal(await recorder.read(CAMERA, T0, T0 + 35), want)
    assert recorder.stats.chunks == 4 and recorder.stats.rows == len(want)
    assert recorder.stats.frames == 175 and recorder.stats.dropped == 0


async def test_histories_give_each_person_their_frames(recorder: PoseTrackRecorder) -> None:
    frames = tracked_frames(CAMERA, T0, seconds=12)
    feed(recorder, frames)
    rows = await recorder.read(CAMERA, T0, T0 + 12)
    histories = rows.histories()
    assert [h.track_id for h in histories] == rows.track_ids
    for history in histories:
        seen = [t.ts for _, t in frames if history.track_id in t.track_id.tolist()]
        np.testing.assert_array_equal(history.ts, seen)
        last = next(t for _, t in frames if t.ts == history.ts[-1])
        row = last.track_id.tolist().index(history.track_id)
        np.testing.assert_array_equal(history.keypoints[-1], last.keypoints[row])


async def test_a_camera_that_goes_quiet_is_written_once_its_slot_is_over(
    recorder: PoseTrackRecorder,
) -> None:
    feed(recorder, tracked_frames(CAMERA, T0 + 1, seconds=3))
    assert recorder.flush_due(T0 + 10 + DUE_GRACE_S - 0.1) == 0  # the slot may still get frames
    assert recorder.flush_due(T0 + 10 + DUE_GRACE_S) == 1
    await recorder.drain()
    [chunk] = recorder.store.files("chunks/")
    assert ChunkKey.parse(chunk.key) == ChunkKey(
        CAMERA, round((T0 + 1) * 1000), round((T0 + 3.8) * 1000)
    )


async def test_cameras_are_kept_apart(recorder: PoseTrackRecorder) -> None:
    one, two = tracked_frames(1, T0, 12), tracked_frames(2, T0, 12, nobody=True)
    for pair in zip(one, two, strict=True):
        feed(recorder, list(pair))
    recorder.flush()
    await recorder.drain()
    assert_rows_equal(await recorder.read(1, T0, T0 + 20), expected_rows(1, one))
    nobody = await recorder.read(2, T0, T0 + 20)
    assert nobody.frames == 60 and len(nobody) == 0  # analysed, and nobody was there
    assert (await recorder.read(4, T0, T0 + 20)).frames == 0


async def test_a_damaged_chunk_is_skipped_with_a_warning(
    recorder: PoseTrackRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    frames = tracked_frames(CAMERA, T0, seconds=20)
    feed(recorder, frames)
    recorder.flush()
    await recorder.drain()
    first = ChunkKey(CAMERA, round(T0 * 1000), round((T0 + 9.8) * 1000)).key
    recorder.store.put(first, b"not a pose file")
    with caplog.at_level(logging.WARNING):
        rows = await recorder.read(CAMERA, T0, T0 + 20)
    assert_rows_equal(rows, expected_rows(CAMERA, frames[50:]))
    assert f"pose chunk {first} is damaged" in caplog.text
    with pytest.raises(PoseDataError, match="not a readable pose file"):
        PoseRows.from_bytes(b"not a pose file")


async def test_chunks_older_than_the_kept_hours_go_unless_a_span_holds_them(
    recorder: PoseTrackRecorder,
) -> None:
    feed(recorder, tracked_frames(CAMERA, T0, seconds=40))
    feed(recorder, tracked_frames(CAMERA + 1, T0, seconds=40))
    recorder.flush()
    await recorder.drain()
    store = recorder.store
    # before T0 + 25: the chunks of 0-10 and 10-20 s are old; a hold on camera 3 at 12-13 s
    pruned = prune_chunks(store, before_s=T0 + 25, held={CAMERA: [(T0 + 12, T0 + 13)]})
    assert (pruned.chunks, pruned.chunks_held) == (3, 1)
    left = sorted(
        (k.camera_id, k.first_ms) for f in store.files("chunks/") if (k := ChunkKey.parse(f.key))
    )
    ms = [round((T0 + s) * 1000) for s in (0, 10, 20, 30)]
    assert left == [
        (CAMERA, ms[1]),
        (CAMERA, ms[2]),
        (CAMERA, ms[3]),
        (CAMERA + 1, ms[2]),
        (CAMERA + 1, ms[3]),
    ]
    assert pruned.freed_bytes > 0
    pruned = prune_chunks(store, before_s=T0 + 25, held={})
    assert (pruned.chunks, pruned.chunks_held) == (1, 0)
    assert (await recorder.read(CAMERA, T0, T0 + 19.9)).frames == 0  # gone, not half there


async def test_a_person_hour_costs_a_few_megabytes(recorder: PoseTrackRecorder) -> None:
    """The real poses of vtest (float32 boxes and keypoints, as YOLO gives them), 5 fps."""
    frames = tracked_frames(CAMERA, T0, seconds=120)
    feed(recorder, frames)
    recorder.flush()
    await recorder.drain()
    person_hours = recorder.stats.rows / 5.0 / 3600
    per_person_hour = recorder.stats.bytes / person_hours
    assert 0.5e6 < per_person_hour < 4.5e6, per_person_hour
    assert VTEST_WH == (768, 576)
