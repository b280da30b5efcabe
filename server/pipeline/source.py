"""① camera → frames: a reader thread per camera, PyAV demux into the ring, paced decode.

The reader pushes every encoded packet into the camera's `PacketRing` and never waits on a
consumer: analysis frames go to a bounded asyncio queue that drops its oldest frame (and
counts it) when full. Only frames due at `analysis_fps` are converted to
arrays; inter-coded video is still decoded packet by packet, as it must be, while
intra-only video (MJPEG) skips decoding the packets it does not need.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, cast

import av
import av.container
import av.error
import av.video
import numpy as np
import numpy.typing as npt

from server.errors import CameraUnavailable
from server.logs import ids
from server.pipeline.ring_buffer import PacketRing
from server.pipeline.source_policy import PROTOCOLS, kind_of
from server.records.video import Frame, Packet, StreamInfo
from server.security.redact import redact_url
from shared.schemas.cameras import SourceKind

logger = logging.getLogger(__name__)

SourceState = Literal["starting", "running", "ended", "failed", "closed"]
INTRA_ONLY = frozenset({"mjpeg", "jpeg2000", "rawvideo", "png"})


@dataclass(slots=True)
class SourceStats:
    """Counters written by the reader thread; times are wall-clock Unix seconds."""

    packets: int = 0
    frames_decoded: int = 0
    frames_queued: int = 0
    frames_dropped: int = 0  # pushed out of the full queue by a newer frame
    loops: int = 0
    last_packet_at: float | None = None
    last_frame_at: float | None = None


def open_container(
    url: str, open_timeout_s: float, read_timeout_s: float
) -> av.container.InputContainer:
    """Open a file path, rtsp(s)://, http(s):// (MJPEG), or USB device (`0`, `/dev/video0`),
    with FFmpeg allowed only the protocols of that kind."""
    options: dict[str, str] = {}
    fmt: str | None = None
    kind = kind_of(url)
    if kind is SourceKind.rtsp:
        options = {"rtsp_transport": "tcp", "timeout": str(int(read_timeout_s * 1e6))}
    elif kind is SourceKind.usb:
        fmt, url = "v4l2", f"/dev/video{url}" if url.isdigit() else url
    elif kind is SourceKind.file:
        url = f"file:{url}"  # a path, never read as `concat:`, `pipe:`...
    if kind in PROTOCOLS:
        options["protocol_whitelist"] = PROTOCOLS[kind]
    return av.open(url, format=fmt, options=options, timeout=(open_timeout_s, read_timeout_s))


def stream_info(stream: av.video.stream.VideoStream) -> StreamInfo:
    """The codec parameters of an opened video stream."""
    context = stream.codec_context
    rate = stream.average_rate or stream.guessed_rate
    return StreamInfo(
        codec=context.name,
        width=context.width,
        height=context.height,
        extradata=bytes(context.extradata) if context.extradata else None,
        time_base=stream.time_base or Fraction(1, 90_000),
        fps=float(rate) if rate else None,
    )


class CameraSource:
    """Reads one camera in a thread; `get()` hands its analysis frames to the event loop.

    With `keep_packets`, every packet is kept in the `ring` (the evidence stream); with
    `decode`, frames due at `analysis_fps` are handed on, scaled down to `max_width` when
    wider, the newest also kept as `ring.latest_frame` (the analysis stream). A camera
    without a sub-stream does both from one source.

    Example:
        source = CameraSource("cam1", "rtsp://user:pw@10.0.0.5/ch1", PacketRing(10.0))
        source.start(asyncio.get_running_loop()); frame = await source.get(1.0)
    """

    def __init__(
        self,
        camera_id: int,
        url: str,
        ring: PacketRing,
        *,
        keep_packets: bool = True,
        analysis_fps: float = 5.0,
        max_width: int | None = None,
        decode: bool = True,
        queue_size: int = 4,
        loop_file: bool = False,
        realtime: bool = True,
        open_timeout_s: float = 10.0,
        read_timeout_s: float = 10.0,
    ) -> None:
        if analysis_fps <= 0:
            raise ValueError(f"analysis_fps: must be positive, got {analysis_fps}")
        self.camera_id = camera_id
        self.ring = ring
        self.stats = SourceStats()
        self.state: SourceState = "starting"
        self.error: str | None = None
        self._url = url
        self._interval = 1.0 / analysis_fps
        self._max_width = max_width
        self._decode = decode
        self._keep_packets = keep_packets
        self._is_file = "://" not in url and not url.isdigit() and not url.startswith("/dev/")
        self._loop_file = loop_file and self._is_file
        self._realtime = realtime and self._is_file  # a live source paces itself
        self._paced_on_stream = self._is_file and not self._realtime
        self._opening_since: float | None = None
        self._timeouts = (open_timeout_s, read_timeout_s)
        self._queue: asyncio.Queue[Frame | None] = asyncio.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._seq = 0
        self._next_due: float | None = None

    @property
    def url(self) -> str:
        """The source URL with credentials masked (safe to log and show)."""
        return redact_url(self._url)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the reader thread, delivering frames to `loop`."""
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run, name=f"camera-{self.camera_id}", daemon=True
        )
        self._thread.start()

    @property
    def queue_depth(self) -> int:
        """Analysis frames waiting for the camera's chain."""
        return self._queue.qsize()

    async def get(self, wait_s: float) -> Frame | None:
        """The next analysis frame, None after `wait_s`; raises when the stream is over."""
        try:
            frame = await asyncio.wait_for(self._queue.get(), wait_s)
        except TimeoutError:
            return None
        if frame is None:
            raise CameraUnavailable(self.error or f"camera {self.camera_id}: stream closed")
        return frame

    async def close(self) -> None:
        """Stop the reader and wait for it (at most about one read timeout)."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, self._timeouts[1] + 1.0)
        if self.state in ("starting", "running"):
            self.state = "closed"

    # --- reader thread -------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._read_once()
                if not self._loop_file or self._stop.is_set():
                    break
                self.stats.loops += 1
            if self.state != "closed" and not self._stop.is_set():
                self._finish("ended", f"camera {self.camera_id}: stream ended ({self.url})")
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            self._finish("failed", self._describe(exc))
        except Exception as exc:  # the thread must always report its end
            logger.exception(
                "camera %s reader crashed", self.camera_id, extra=ids(camera=self.camera_id)
            )
            self._finish("failed", self._describe(exc))
        else:
            if self._stop.is_set():
                self._finish("closed", None)

    def _read_once(self) -> None:
        self._opening_since = time.monotonic()
        with open_container(self._url, *self._timeouts) as container:
            self._opening_since = None
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            intra_only = stream.codec_context.name in INTRA_ONLY
            if self.state == "starting":
                logger.info(
                    "camera %s opened %s",
                    self.camera_id,
                    self.url,
                    extra=ids(camera=self.camera_id),
                )
            if self._keep_packets:  # a new stream need not continue the old one's decoding
                self.ring.start_stream(stream_info(stream))
            self.state = "running"
            wall_start, epoch_start, stream_start = time.monotonic(), time.time(), None
            for packet in container.demux(stream):
                if self._stop.is_set():
                    return
                if packet.size == 0:
                    continue
                now = time.time()
                time_base = packet.time_base or stream.time_base or Fraction(1, 90_000)
                # a file played in real time is read in decode order (dts): with B-frames,
                # pts order would deliver packets in bursts
                stamp = packet.dts if packet.dts is not None else packet.pts
                t = float(stamp * time_base) if stamp is not None else None
                if self._realtime and t is not None:
                    stream_start = t if stream_start is None else stream_start
                    delay = (t - stream_start) - (time.monotonic() - wall_start)
                    if delay > 0 and self._stop.wait(delay):
                        return
                    # stamped when a live camera would have sent it (one clock, so the
                    # stamps follow the stream's order): a reader that fell behind adds to
                    # the latency measured, as it would with a real camera
                    now = epoch_start + (t - stream_start)
                if self._keep_packets:
                    self.ring.push(
                        Packet(
                            bytes(packet),
                            packet.pts,
                            packet.dts,
                            time_base,
                            packet.is_keyframe,
                            now,
                        )
                    )
                self.stats.packets += 1
                self.stats.last_packet_at = now
                if not self._decode:
                    continue
                if intra_only and not self._due(self._clock(now, t)):
                    continue  # no picture depends on this one: skip decoding it
                for decoded in packet.decode():
                    self.stats.frames_decoded += 1
                    if intra_only or self._due(self._clock(now, decoded.time)):
                        self._emit(decoded, now)

    def _clock(self, now: float, shown: float | None) -> float:
        """The time analysis is paced on. Live sources and files played in real time: the
        wall clock, as frames arrive (RTSP's first frames carry no timestamp, MJPEG's are
        invented by FFmpeg at 25 fps, a looped file's restart). A file read as fast as it
        decodes: its presentation times."""
        return shown if self._paced_on_stream and shown is not None else now

    def _due(self, clock: float) -> bool:
        """Whether a frame at `clock` is due for analysis; keeps the average at the target.

        A frame up to a quarter interval early counts as due: frames arrive with jitter, and
        one that lands just before its time would otherwise wait for the next (at 10 fps in,
        5 fps out, that made 3.3 fps).
        """
        early = self._interval / 4
        due = self._next_due
        if due is not None and due - 2.0 <= clock < due - early:
            return False
        if due is None or clock < due - 2.0 or clock > due + self._interval:
            # the first frame, a jump back, or more than an interval late: restart from now
            self._next_due = clock + self._interval
        else:
            self._next_due = due + self._interval  # on time: keep the average at the target
        return True

    def _emit(self, decoded: av.VideoFrame, now: float) -> None:
        width, height = decoded.width, decoded.height
        if self._max_width is not None and width > self._max_width:
            # scaled by FFmpeg while converting; even sides, aspect kept
            width, height = self._max_width, max(2, round(height * self._max_width / width / 2) * 2)
        image = cast(
            "npt.NDArray[np.uint8]",  # (H, W, 3) BGR
            decoded.to_ndarray(format="bgr24", width=width, height=height),
        )
        frame = Frame(self.camera_id, image, now, self._seq)
        self._seq += 1
        self.ring.latest_frame = frame
        self.stats.last_frame_at = now
        self._call(self._offer, frame)

    def _finish(self, state: SourceState, error: str | None) -> None:
        self.state, self.error = state, error
        if error is not None:
            logger.warning("%s", error, extra=ids(camera=self.camera_id))
        self._call(self._offer, None)

    def _call(self, callback: Callable[[Frame | None], None], arg: Frame | None) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._loop.call_soon_threadsafe(callback, arg)

    def _describe(self, exc: BaseException) -> str:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        opening = self._opening_since
        if opening is not None and time.monotonic() - opening >= self._timeouts[0] - 0.05:
            # FFmpeg words an aborted open as "Invalid data" or "Immediate exit requested"
            reason = f"no answer within {self._timeouts[0]:g}s"
        text = f"camera {self.camera_id}: {reason} ({self.url})"
        return text.replace(self._url, self.url)

    # --- event loop ---------------------------------------------------------------

    def _offer(self, frame: Frame | None) -> None:
        """Queue a frame, dropping the oldest when full; None marks the end and always fits."""
        if self._queue.full():
            dropped = self._queue.get_nowait()
            if dropped is not None:
                self.stats.frames_dropped += 1
        self._queue.put_nowait(frame)
        if frame is not None:
            self.stats.frames_queued += 1
