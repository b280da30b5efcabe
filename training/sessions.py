"""Recording sessions: PoseLift's videos stitched back into the recordings they were cut from.

PoseLift's normal-only Train videos and its labelled Test clips are consecutive cuts of the
same camera recordings: a clip's neighbours by video number are often Train videos, and a
person's box often continues across the cut. Cross-validation that splits a recording puts
the same people, minutes apart, on both sides; event figures that stop at a cut miss the
incident going on in the next video.

**The rule.** Videos are named `<camera>_<number>`. Two videos belong to one session when
they are of the same camera and their numbers differ by exactly 1, Train and Test alike; a
session is a maximal run of such videos, in number order, stitched end to end into one
timeline (each video starts where the previous one ends: the cut is taken to lose no
frames). A video's length on the timeline is its pose frames plus the GT labels past its
last pose (`PoseLiftVideo.gt_frames_dropped`): those frames were filmed but hold nobody.
Numbers further apart start a new session: what lay between them (a video outside the
release, or one of the 8 withheld Test videos) is unknown, so no offset can be given. A
few such pairs still show a box at the same place on both sides (1_281 and 1_283, IoU
0.78); all of them are pairs of videos without shoplifting.

**Measured on the release here** (104 Train + 39 Test videos; `cuts` below): 71 sessions,
46 of them a single video, the longest 10 videos; 72 stitched cuts, 60 of which continue a
box (a box in the frame before the cut and one in the frame after it overlap by IoU >=
0.5; most of the 12 others have nobody in view at the cut). 54 of the 104 Train videos are
next to a labelled clip, and none of the 34 clips with shoplifting is a session of its own:
the 24 sessions holding shoplifting all hold normal-only video too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from training.poselift import PoseLiftVideo

Item = TypeVar("Item", bound=np.generic)
CONTINUITY_IOU = 0.5  # a box continues across a cut when its boxes overlap at least this
_NAME = re.compile(r"(\d+)_(\d+)")


@dataclass(frozen=True, slots=True)
class Session:
    """Consecutive cuts of one camera's recording, stitched end to end into one timeline.

    `videos` index the video list the session was stitched from, in time order; `offsets`
    is each video's first frame on the timeline and `lengths` its frames there.
    """

    camera: int
    numbers: tuple[int, ...]  # video numbers, each the previous one + 1
    videos: tuple[int, ...]
    offsets: tuple[int, ...]
    lengths: tuple[int, ...]

    def __post_init__(self) -> None:
        n = len(self.videos)
        if not n or not (len(self.numbers) == len(self.offsets) == len(self.lengths) == n):
            raise ValueError("session: one number, offset and length per video, at least one")
        if any(b - a != 1 for a, b in zip(self.numbers, self.numbers[1:], strict=False)):
            raise ValueError(f"session: numbers must be consecutive, got {self.numbers}")
        expected = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).tolist()
        if list(self.offsets) != expected:
            raise ValueError("session: each video must start where the previous one ends")

    @property
    def n_frames(self) -> int:
        return self.offsets[-1] + self.lengths[-1]

    @property
    def name(self) -> str:
        """`<camera>_<first>` or `<camera>_<first>-<last>`."""
        last = f"-{self.numbers[-1]}" if len(self.numbers) > 1 else ""
        return f"{self.camera}_{self.numbers[0]}{last}"


@dataclass(frozen=True, slots=True)
class Sessions:
    """The sessions of a video list, and each video's place in them."""

    items: tuple[Session, ...]
    video_session: npt.NDArray[np.int32]  # (M,) each video's session
    video_offset: npt.NDArray[np.int64]  # (M,) its first frame on that session's timeline

    def __len__(self) -> int:
        return len(self.items)

    def stitch(
        self, per_video: Sequence[npt.NDArray[Item]], fill: float = 0
    ) -> list[npt.NDArray[Item]]:
        """Per session, the videos' arrays (each indexed by its frames) end to end on the
        timeline; a video's frames past its array's end are `fill`."""
        if len(per_video) != len(self.video_session):
            raise ValueError(f"per_video: one array per video ({len(self.video_session)})")
        out = []
        for session in self.items:
            dtype = np.result_type(*(per_video[i].dtype for i in session.videos))
            line: npt.NDArray[Item] = np.full(session.n_frames, fill, dtype)
            for index, offset, length in zip(
                session.videos, session.offsets, session.lengths, strict=True
            ):
                values = per_video[index][:length]
                line[offset : offset + len(values)] = values
            out.append(line)
        return out


@dataclass(frozen=True, slots=True)
class Cut:
    """A boundary between two stitched videos, and whether a person's box continues over it."""

    before: str
    after: str
    box_iou: float  # best IoU between boxes of the last frame before and the first after

    @property
    def continues(self) -> bool:
        return self.box_iou >= CONTINUITY_IOU


def video_number(video: PoseLiftVideo) -> int:
    """The `<number>` of a `<camera>_<number>` video name."""
    if (match := _NAME.fullmatch(video.name)) is None:
        raise ValueError(f"{video.name}: a video name must be <camera>_<number>")
    return int(match[2])


def holds_shoplifting(video: PoseLiftVideo) -> bool:
    """Whether the video is a labelled clip with at least one shoplifting frame."""
    return video.labels is not None and bool(video.labels.any())


def timeline_length(video: PoseLiftVideo) -> int:
    """The video's frames on a timeline: its pose frames and the labels past them."""
    return video.n_frames + video.gt_frames_dropped


def stitch(videos: Sequence[PoseLiftVideo]) -> Sessions:
    """The sessions of `videos` by the rule in this module's docstring, in (camera, number)
    order. Two videos of one camera with the same number are refused."""
    keys = [(v.camera, video_number(v)) for v in videos]
    if len(set(keys)) != len(keys):
        raise ValueError("videos: two videos have the same camera and number")
    order = sorted(range(len(videos)), key=lambda i: keys[i])
    groups: list[list[int]] = []
    for index in order:
        camera, number = keys[index]
        if groups and keys[groups[-1][-1]] == (camera, number - 1):
            groups[-1].append(index)
        else:
            groups.append([index])
    items = []
    video_session = np.zeros(len(videos), np.int32)
    video_offset = np.zeros(len(videos), np.int64)
    for number, group in enumerate(groups):
        lengths = [timeline_length(videos[i]) for i in group]
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
        items.append(
            Session(
                camera=videos[group[0]].camera,
                numbers=tuple(keys[i][1] for i in group),
                videos=tuple(group),
                offsets=tuple(offsets),
                lengths=tuple(lengths),
            )
        )
        video_session[group] = number
        video_offset[group] = offsets
    return Sessions(tuple(items), video_session, video_offset)


def cuts(videos: Sequence[PoseLiftVideo], sessions: Sessions) -> list[Cut]:
    """Every stitched boundary and how well a box continues over it (0 when either side's
    frame next to the cut shows nobody)."""
    found = []
    for session in sessions.items:
        for a, b in zip(session.videos, session.videos[1:], strict=False):
            before = _boxes_at(videos[a], timeline_length(videos[a]) - 1)
            after = _boxes_at(videos[b], 0)
            found.append(Cut(videos[a].name, videos[b].name, _best_iou(before, after)))
    return found


def _boxes_at(video: PoseLiftVideo, frame: int) -> npt.NDArray[np.float32]:
    """The boxes of the people in `frame`, shape (P, 4)."""
    boxes = [t.xyxy[video.frames(t) == frame] for t in video.tracks]
    return np.concatenate([np.zeros((0, 4), np.float32), *boxes])


def _best_iou(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    if not len(a) or not len(b):
        return 0.0
    low = np.maximum(a[:, None, :2], b[None, :, :2])
    high = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=-1)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=-1)[:, None]
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=-1)[None, :]
    union = area_a + area_b - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return float(iou.max())
