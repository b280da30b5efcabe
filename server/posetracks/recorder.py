"""The pipeline sink that keeps every camera's tracked poses: buffered per camera on the
event loop, written as one compressed chunk per `chunk_s` of wall-clock time (e.g. a
minute) by a writer thread, and read back (stored chunks, chunks being written and the
live buffer) for a span of time."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from server.logs import ids
from server.posetracks.rows import PoseDataError, PoseRows, span_ms
from server.posetracks.store import CHUNKS, ChunkKey, PoseStore
from server.records.analysis import FrameAnalysis
from server.records.people import Tracks

logger = logging.getLogger(__name__)

MAX_PENDING_CHUNKS = 64  # chunks waiting for the writer before new ones are dropped
DUE_GRACE_S = 2.0  # a quiet camera's chunk is written this long after its slot ends


@dataclass(slots=True)
class _Buffer:
    """A camera's analysed frames of the current chunk slot, not yet written."""

    slot: int  # floor(ts / chunk_s)
    frames: list[Tracks] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class RecorderStats:
    frames: int = 0  # analysed frames taken
    rows: int = 0  # poses taken
    chunks: int = 0  # chunks written
    bytes: int = 0  # bytes of the chunks written
    dropped: int = 0  # chunks dropped: the writer was too far behind
    failed: int = 0  # chunks whose write failed (logged)


class PoseTrackRecorder:
    """Takes each analysed frame's `Tracks` (keypoints only, never pixels) and writes them.

    Example:
        recorder = PoseTrackRecorder(LocalPoseStore(root), chunk_s=60.0)
        pipeline.sink = fan_out(..., recorder.take)
        rows = await recorder.read(camera_id, start, end)  # PoseRows of that span
    """

    def __init__(self, store: PoseStore, *, chunk_s: float, enabled: bool = True) -> None:
        if not chunk_s > 0:
            raise ValueError(f"chunk_s: must be positive, got {chunk_s}")
        self.store = store
        self.chunk_s = chunk_s
        self.enabled = enabled
        self.stats = RecorderStats()
        self._buffers: dict[int, _Buffer] = {}
        self._writing: dict[str, PoseRows] = {}  # handed to the writer, by key
        self._lock = threading.Lock()  # guards `_writing` (the writer thread removes)
        self._pending: set[Future[None]] = set()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="pose-tracks")

    def take(self, analysis: FrameAnalysis, /) -> None:
        """Buffer the frame's tracks; a new chunk slot writes the last one."""
        if not self.enabled:
            return
        frame, tracks = analysis.frame, analysis.tracks
        camera_id = frame.camera_id
        slot = math.floor(tracks.ts / self.chunk_s)
        buffer = self._buffers.get(camera_id)
        if buffer is not None and (slot != buffer.slot or tracks.ts < buffer.frames[-1].ts):
            self._flush(camera_id)  # a new slot (or the clock stepped back)
            buffer = None
        if buffer is None:
            buffer = self._buffers[camera_id] = _Buffer(slot)
        buffer.frames.append(tracks)
        buffer.sizes.append((frame.width, frame.height))
        self.stats.frames += 1
        self.stats.rows += len(tracks)

    def flush_due(self, now: float) -> int:
        """Write the buffers whose slot ended (cameras that went quiet); how many."""
        due = [
            camera_id
            for camera_id, buffer in self._buffers.items()
            if now >= (buffer.slot + 1) * self.chunk_s + DUE_GRACE_S
        ]
        for camera_id in due:
            self._flush(camera_id)
        return len(due)

    def flush(self) -> None:
        """Hand every buffer to the writer (at shutdown, and in tests)."""
        for camera_id in list(self._buffers):
            self._flush(camera_id)

    async def drain(self) -> None:
        """Wait until every chunk handed to the writer is written."""
        pending = list(self._pending)
        if pending:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in pending))

    async def close(self) -> None:
        """Write what is buffered, wait for it, stop the writer (frames after: ignored)."""
        self.enabled = False
        self.flush()
        await self.drain()
        self._writer.shutdown(wait=True)

    async def read(self, camera_id: int, start: float, end: float) -> PoseRows:
        """The camera's frames and poses with `start <= ts <= end` (Unix seconds), from the
        stored chunks, those being written, and the live buffer."""
        buffer = self._buffers.get(camera_id)
        live = (
            PoseRows.from_tracks(camera_id, buffer.frames, buffer.sizes)
            if buffer is not None
            else PoseRows.empty(camera_id)
        )
        with self._lock:
            writing = {
                key: rows for key, rows in self._writing.items() if rows.camera_id == camera_id
            }
        stored = await asyncio.to_thread(self.read_stored, camera_id, start, end, set(writing))
        # anything stored from the live buffer's first frame on was written after the
        # buffer was copied above: the copy has it already
        cut = float(live.frame_ts[0]) if live.frames else math.inf
        older = [
            rows.between(start, min(end, np.nextafter(cut, -math.inf)))
            for rows in (stored, *writing.values())
        ]
        return PoseRows.concat(camera_id, [*older, live.between(start, end)])

    def read_stored(
        self, camera_id: int, start: float, end: float, skip: set[str] | None = None
    ) -> PoseRows:
        """The stored chunks' frames of the span (blocking: call it in a thread)."""
        parts = []
        for found in self.store.files(f"{CHUNKS}/{camera_id}/"):
            chunk = ChunkKey.parse(found.key)
            if chunk is None or found.key in (skip or ()) or not chunk.overlaps(start, end):
                continue
            data = self.store.get(found.key)
            if data is None:  # pruned meanwhile
                continue
            try:
                rows, _ = PoseRows.from_bytes(data)
            except PoseDataError:
                logger.warning("pose chunk %s is damaged; skipped", found.key)
                continue
            parts.append(rows.between(start, end))
        return PoseRows.concat(camera_id, parts)

    def _flush(self, camera_id: int) -> None:
        buffer = self._buffers.pop(camera_id)
        rows = PoseRows.from_tracks(camera_id, buffer.frames, buffer.sizes)
        if len(self._pending) >= MAX_PENDING_CHUNKS:  # the disk is far behind: drop, count
            self.stats.dropped += 1
            logger.warning(
                "camera %s: pose chunk dropped, the writer is behind",
                camera_id,
                extra=ids(camera=camera_id),
            )
            return
        key = ChunkKey(camera_id, *span_ms(rows)).key
        with self._lock:
            self._writing[key] = rows
        future = self._writer.submit(self._write, key, rows)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _write(self, key: str, rows: PoseRows) -> None:
        """On the writer thread."""
        try:
            stored = self.store.put(key, rows.to_bytes())
            self.stats.chunks += 1
            self.stats.bytes += stored.size
        except OSError:
            self.stats.failed += 1
            logger.exception(
                "camera %s: writing pose chunk %s failed",
                rows.camera_id,
                key,
                extra=ids(camera=rows.camera_id),
            )
        finally:
            with self._lock:
                self._writing.pop(key, None)
