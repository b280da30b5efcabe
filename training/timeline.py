"""Each recording session's frames end to end, with what is known about them: the labels, the
episodes, who is in view, and the don't-care bands.

**Don't-care bands.** A normal-only (Train) video next to a labelled clip is normal by the
release's say-so, not by a look at its frames: when a clip ends on a shoplifting frame the
incident goes on past the cut, and the person who just stole is still in view after it.
So the frames of normal-only videos within `band_s` seconds of a labelled episode (before
its start or after its end, on the timeline) count neither as normal nor as shoplifting:
they are left out of frame figures, and an alert that starts in them is not a false alert.
Labelled frames always keep their label, whatever their distance to an episode.

An episode that begins on its clip's first frame or ends on its last (`Episode.cut_before`,
`cut_after`) began before or lasted past what was labelled; its band reaches into the
normal-only video on that side like any other. Where the clip is the first or last video of
its session nothing lies on that side to mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from training.metrics import runs
from training.poselift import PoseLiftVideo
from training.sessions import Session, Sessions

BAND_S = 10.0  # seconds around an episode that are neither normal nor shoplifting

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Episode:
    """A run of shoplifting frames on a timeline, frames [start, end)."""

    start: int
    end: int
    video: str  # the clip it begins in
    cut_before: bool  # begins on its clip's first frame: it may have begun earlier
    cut_after: bool  # ends on its clip's last frame: it may have lasted longer


@dataclass(frozen=True, slots=True)
class Timeline:
    """One session's T frames: their truth, bands and people, all shape (T,)."""

    session: Session
    fps: float
    label: npt.NDArray[np.int8]  # 1 shoplifting
    labelled: Mask  # a frame of a labelled (Test) clip
    band: Mask  # don't care: a normal-only frame within the band of an episode
    people: Mask  # at least one person in view
    episodes: tuple[Episode, ...]

    def __post_init__(self) -> None:
        n = self.session.n_frames
        for name in ("label", "labelled", "band", "people"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name}: shape must be ({n},)")
        if (self.band & (self.labelled | (self.label == 1))).any():
            raise ValueError("band: only normal-only frames can be in a band")

    def __len__(self) -> int:
        return self.session.n_frames

    @property
    def normal(self) -> Mask:
        """Frames that count as normal: not shoplifting, not in a band."""
        return np.asarray((self.label == 0) & ~self.band, bool)

    def video_at(self, frame: int) -> int:
        """Which of the session's videos (an index into the video list) holds `frame`."""
        place = int(np.searchsorted(self.session.offsets, frame, side="right")) - 1
        return self.session.videos[place]


def video_people(video: PoseLiftVideo) -> Mask:
    """Which of the video's frames show at least one person, shape (n_frames,)."""
    seen = np.zeros(video.n_frames, bool)
    for track in video.tracks:
        seen[video.frames(track)] = True
    return seen


def timelines(
    videos: Sequence[PoseLiftVideo], sessions: Sessions, band_s: float = BAND_S
) -> tuple[Timeline, ...]:
    """Every session's timeline, with bands of `band_s` seconds around its episodes."""
    if band_s < 0:
        raise ValueError(f"band_s: must be >= 0, got {band_s}")
    labels = sessions.stitch([_labels(v) for v in videos])
    labelled = sessions.stitch([np.full(v.n_frames, v.labels is not None) for v in videos])
    people = sessions.stitch([video_people(v) for v in videos])
    out = []
    for session, label, is_labelled, seen in zip(
        sessions.items, labels, labelled, people, strict=True
    ):
        fps = videos[session.videos[0]].fps
        episodes = _episodes(videos, session, label.astype(bool))
        band = np.zeros(session.n_frames, bool)
        reach = round(band_s * fps)
        for episode in episodes:
            band[max(0, episode.start - reach) : episode.end + reach] = True
        band &= ~is_labelled.astype(bool)
        out.append(
            Timeline(
                session,
                fps,
                label.astype(np.int8),
                is_labelled.astype(bool),
                band,
                seen.astype(bool),
                episodes,
            )
        )
    return tuple(out)


def _labels(video: PoseLiftVideo) -> npt.NDArray[np.int8]:
    return video.labels if video.labels is not None else np.zeros(video.n_frames, np.int8)


def _episodes(
    videos: Sequence[PoseLiftVideo], session: Session, shoplifting: Mask
) -> tuple[Episode, ...]:
    starts = np.asarray(session.offsets)
    label_ends = starts + np.asarray([videos[i].n_frames for i in session.videos])
    found = []
    for start, end in runs(shoplifting):
        place = int(np.searchsorted(starts, start, side="right")) - 1
        found.append(
            Episode(
                start,
                end,
                videos[session.videos[place]].name,
                cut_before=bool(start in starts),
                cut_after=bool(end in label_ends),
            )
        )
    return tuple(found)
