"""④ tracks: a stable id per person (ByteTrack from `supervision`) and each track's history.

This is the only module that knows `supervision`'s types; the rest of the pipeline sees
`Poses` in and `Tracks` / `TrackHistory` out.
"""

from __future__ import annotations

import math
import warnings
from collections import deque

import numpy as np

from server.records.people import Poses, TrackHistory, Tracks

with warnings.catch_warnings():
    # supervision warns at import when OpenCV is absent: we use none of its drawing code,
    # and its tracker is numpy-only
    warnings.filterwarnings("ignore", "OpenCV .* is not installed", UserWarning)
    import supervision as sv
    from supervision.tracker.byte_tracker import single_object_track as sv_state

_EPS_S = 1e-6  # so that a window of exactly `history_s` keeps both ends despite float sums


class Tracker:
    """Follows the people of one camera from frame to frame, and keeps their recent keypoints.

    ByteTrack counts in frames: pass the camera's analysis `fps`. A track missed for more
    than `lost_timeout_s` ends (ByteTrack forgets it, and its history is dropped); a person
    who comes back after that gets a new id. The history of each live track covers the last
    `history_s` seconds by `ts`.

    Example:
        >>> tracker = Tracker(fps=5.0, history_s=4.0)
        >>> tracks = tracker.update(poses, frame.captured_at)
        >>> past = tracker.history(int(tracks.track_id[0]))  # past.keypoints: (T, 17, 2)
    """

    def __init__(
        self,
        *,
        fps: float,
        history_s: float = 4.0,
        lost_timeout_s: float = 2.0,
        activation_threshold: float = 0.25,
        matching_threshold: float = 0.9,
        box_buffer: float = 0.5,
    ) -> None:
        """
        Args:
            fps: the camera's analysis frame rate (frames per second handed to `update`).
            history_s: seconds of keypoints kept per track.
            lost_timeout_s: seconds a track may go unseen before it ends.
            activation_threshold: person score from which a detection may start a track;
                lower ones only continue existing tracks (ByteTrack's second pass).
            matching_threshold: ByteTrack's cost limit (1 - IoU, fused with the score) for
                matching a detection to a track.
            box_buffer: boxes are matched grown by this share of their width and height on
                each side (buffered IoU, as in C-BIoU): at 5 fps a walking person moves most
                of a box width between frames, and plain IoU loses them. On 40 s of
                vtest at 5 fps, 0.5 with `matching_threshold` 0.9 made 17 track ids where
                plain ByteTrack (0, 0.8) made 34 (docs/benchmarks.md).
        """
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f"fps: must be positive, got {fps}")
        if not history_s > 0:
            raise ValueError(f"history_s: must be positive, got {history_s}")
        if not lost_timeout_s >= 0:
            raise ValueError(f"lost_timeout_s: must be >= 0, got {lost_timeout_s}")
        if not box_buffer >= 0:
            raise ValueError(f"box_buffer: must be >= 0, got {box_buffer}")
        self.fps, self.history_s, self.lost_timeout_s = fps, history_s, lost_timeout_s
        self.box_buffer = box_buffer
        with warnings.catch_warnings():
            # deprecated in supervision 0.28 in favour of the `trackers` package (which needs
            # opencv-python); kept while supervision 0.30 is pinned
            warnings.filterwarnings("ignore", "The `ByteTrack` was deprecated", FutureWarning)
            self._byte_track = sv.ByteTrack(
                track_activation_threshold=activation_threshold,
                # supervision scales the buffer by frame_rate / 30 into frames
                lost_track_buffer=max(round(lost_timeout_s * 30), 1),
                minimum_matching_threshold=matching_threshold,
                frame_rate=fps,
            )
        self._frames: deque[Tracks] = deque()  # the last `history_s` seconds, oldest first
        self._last_seen: dict[int, float] = {}  # live track id -> ts it was last matched
        self._ts = -math.inf

    def update(self, poses: Poses, ts: float) -> Tracks:
        """Match `poses` (one frame, at `ts` seconds) to the live tracks.

        Returns the poses that belong to a track, with their ids, in id order. A new person
        shows from their second frame on (ByteTrack confirms a track before naming it),
        except in the tracker's very first frame.
        """
        if not math.isfinite(ts) or ts < self._ts:
            raise ValueError(f"ts: must be finite and not before the last frame's, got {ts}")
        self._ts = ts
        size = poses.xyxy[:, 2:] - poses.xyxy[:, :2]
        grow = np.tile(size * self.box_buffer, 2) * np.asarray([-1, -1, 1, 1], np.float32)
        detections = sv.Detections(
            xyxy=(poses.xyxy + grow).astype(np.float32),
            confidence=poses.score,
            class_id=np.zeros(len(poses), int),
            data={"row": np.arange(len(poses))},
        )
        matched = self._byte_track.update_with_detections(detections)
        # supervision 0.30 leaves a track it just removed in `lost_tracks` until the next
        # update, which may then bring it back under its old id: drop it now
        self._byte_track.lost_tracks = [
            t for t in self._byte_track.lost_tracks if t.state != sv_state.TrackState.Removed
        ]
        ids = np.asarray(matched.tracker_id, np.int64)
        rows = np.asarray(matched.data["row"], np.int64) if len(ids) else np.zeros(0, np.int64)
        order = np.argsort(ids, kind="stable")
        ids, rows = ids[order], rows[order]
        tracks = Tracks(
            ts=ts,
            track_id=ids,
            xyxy=poses.xyxy[rows],
            keypoints=poses.keypoints[rows],
            keypoint_conf=poses.keypoint_conf[rows],
            score=poses.score[rows],
        )
        self._remember(tracks)
        return tracks

    def live_ids(self) -> list[int]:
        """Ids of the tracks that have a history (seen within `lost_timeout_s`)."""
        return sorted(self._last_seen)

    def history(self, track_id: int) -> TrackHistory:
        """The track's frames of the last `history_s` seconds; KeyError once it has ended."""
        if track_id not in self._last_seen:
            raise KeyError(f"track {track_id} is not live")
        frames = list(self._frames)
        ids = np.concatenate([f.track_id for f in frames])
        pick = ids == track_id
        return TrackHistory(
            track_id=track_id,
            ts=np.repeat([f.ts for f in frames], [len(f) for f in frames])[pick],
            xyxy=np.concatenate([f.xyxy for f in frames])[pick],
            keypoints=np.concatenate([f.keypoints for f in frames])[pick],
            keypoint_conf=np.concatenate([f.keypoint_conf for f in frames])[pick],
        )

    def _remember(self, tracks: Tracks) -> None:
        """Add the frame, then drop frames older than the window and tracks past the timeout."""
        if self._frames and self._frames[-1].ts == tracks.ts:
            self._frames.pop()  # a repeated ts replaces that frame's rows: ts stays increasing
        self._frames.append(tracks)
        while self._frames[0].ts < tracks.ts - self.history_s - _EPS_S:
            self._frames.popleft()
        self._last_seen.update(dict.fromkeys(tracks.track_id.tolist(), tracks.ts))
        ended = [i for i, seen in self._last_seen.items() if tracks.ts - seen > self.lost_timeout_s]
        for track_id in ended:
            del self._last_seen[track_id]
