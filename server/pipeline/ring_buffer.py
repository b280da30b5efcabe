"""② The ring buffer: a camera's last seconds of encoded packets, from a keyframe on.

Whole GOPs (a keyframe and the packets up to the next one) are dropped from the front, so
the buffer always starts on a keyframe and a clip can be cut without re-encoding. It keeps
at least `seconds` of video once that much has arrived, at most `seconds` plus one GOP.
Times are the packets' wall-clock `captured_at`. Thread-safe: the camera's reader thread
pushes while the event loop cuts windows.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from server.records.video import Frame, Packet, StreamInfo


@dataclass(slots=True)
class _Gop:
    packets: list[Packet] = field(default_factory=list)
    nbytes: int = 0

    @property
    def start(self) -> float:
        return self.packets[0].captured_at


class PacketRing:
    """The last `seconds` of one camera's packets, plus its latest analysis frame.

    Example:
        ring = PacketRing(seconds=10.0)
        ring.push(packet); clip = ring.window(alert_start - 5.0, alert_start + 5.0)
    """

    def __init__(self, seconds: float = 10.0, max_bytes: int = 64 * 1024 * 1024) -> None:
        if seconds <= 0:
            raise ValueError(f"seconds: must be positive, got {seconds}")
        if max_bytes <= 0:
            raise ValueError(f"max_bytes: must be positive, got {max_bytes}")
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.latest_frame: Frame | None = None
        self.stream: StreamInfo | None = None  # how to decode or mux the packets held
        self.skipped = 0  # packets dropped while waiting for a first keyframe
        self._gops: deque[_Gop] = deque()
        self._nbytes = 0
        self._lock = threading.Lock()

    def push(self, packet: Packet) -> None:
        """Append a packet; a packet before the first keyframe is skipped and counted."""
        with self._lock:
            if packet.is_keyframe:
                self._gops.append(_Gop())
            elif not self._gops:
                self.skipped += 1
                return
            gop = self._gops[-1]
            gop.packets.append(packet)
            gop.nbytes += packet.nbytes
            self._nbytes += packet.nbytes
            self._trim(packet.captured_at)

    def _trim(self, newest: float) -> None:
        # Drop the oldest GOP while the rest still covers `seconds`, or while over budget
        # (a camera with a very long GOP then keeps less than `seconds`, never unbounded).
        while len(self._gops) >= 2 and (
            newest - self._gops[1].start >= self.seconds or self._nbytes > self.max_bytes
        ):
            self._nbytes -= self._gops.popleft().nbytes
        if self._nbytes > self.max_bytes:  # one GOP alone is over budget: start again
            self._gops.clear()
            self._nbytes = 0

    def window(self, start: float, end: float) -> list[Packet]:
        """Packets from the last keyframe at or before `start` (or the oldest) to `end`."""
        if end < start:
            raise ValueError(f"window: end {end} is before start {start}")
        with self._lock:
            first = 0
            for i, gop in enumerate(self._gops):
                if gop.start <= start:
                    first = i
            packets: list[Packet] = []
            for gop in list(self._gops)[first:]:
                packets.extend(p for p in gop.packets if p.captured_at <= end)
            return packets

    def clear(self) -> None:
        """Forget every packet (a new stream may not continue the old one's decoding)."""
        with self._lock:
            self._gops.clear()
            self._nbytes = 0

    def start_stream(self, stream: StreamInfo) -> None:
        """Forget every packet and hold those of `stream` from now on (a source (re)opened)."""
        with self._lock:
            self._gops.clear()
            self._nbytes = 0
            self.stream = stream

    @property
    def nbytes(self) -> int:
        """Bytes of encoded video held (packet payloads only)."""
        return self._nbytes

    def __len__(self) -> int:
        with self._lock:
            return sum(len(g.packets) for g in self._gops)

    @property
    def span_s(self) -> float:
        """Seconds from the first packet held to the newest."""
        with self._lock:
            if not self._gops:
                return 0.0
            return self._gops[-1].packets[-1].captured_at - self._gops[0].start
