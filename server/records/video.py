"""Video records: encoded `Packet`s (and their `StreamInfo`), kept for evidence clips, and
decoded analysis `Frame`s."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Packet:
    """One encoded video packet exactly as the camera sent it (kept for evidence clips).

    `pts`/`dts` are in `time_base` units (None when the stream gives none); `captured_at`
    is the wall-clock time (Unix seconds) at which the reader received it.
    """

    data: bytes
    pts: int | None
    dts: int | None
    time_base: Fraction
    is_keyframe: bool
    captured_at: float

    def __post_init__(self) -> None:
        if not self.data:
            raise ValueError("data: a packet needs at least one byte")
        if self.time_base <= 0:
            raise ValueError(f"time_base: must be positive, got {self.time_base}")
        if not math.isfinite(self.captured_at):
            raise ValueError(f"captured_at: must be finite, got {self.captured_at}")

    @property
    def nbytes(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a decoder or muxer needs besides the packets: the codec and its parameters.

    `extradata` holds e.g. H.264's SPS/PPS when the container keeps them out of band (MP4);
    None when they travel in the packets (RTSP, MPEG-TS).
    """

    codec: str  # FFmpeg's codec name, e.g. "h264", "hevc", "mjpeg"
    width: int
    height: int
    extradata: bytes | None
    time_base: Fraction
    fps: float | None  # the stream's nominal frame rate, when it states one


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded analysis frame of one camera.

    `image` is (H, W, 3) uint8 in **BGR** order (OpenCV's and Ultralytics' convention), made
    read-only here so stages can share it; `captured_at` is wall-clock Unix seconds; `seq`
    counts the camera's analysis frames from 0.
    """

    camera_id: int
    image: npt.NDArray[np.uint8]  # (H, W, 3) BGR
    captured_at: float
    seq: int

    def __post_init__(self) -> None:
        if self.camera_id < 1:
            raise ValueError(f"camera_id: must be a camera's id (>= 1), got {self.camera_id}")
        if self.image.dtype != np.uint8:
            raise ValueError(f"image: dtype must be uint8, got {self.image.dtype}")
        if self.image.ndim != 3 or self.image.shape[2] != 3 or 0 in self.image.shape:
            raise ValueError(f"image: shape must be (H, W, 3), got {self.image.shape}")
        if not math.isfinite(self.captured_at):
            raise ValueError(f"captured_at: must be finite, got {self.captured_at}")
        if self.seq < 0:
            raise ValueError(f"seq: must be >= 0, got {self.seq}")
        self.image.flags.writeable = False

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])
