"""⑤ features: what a track's body did over its last few seconds, as one row of numbers.

The same code serves training (a row for every pose of every PoseLift track) and the live
pipeline (a row per live track, ending now). To make a row mean the same everywhere:
- each window is resampled onto a fixed grid of `step_s` steps ending at its end time
  (`resample.py`), so it does not depend on the frame rate (15 fps PoseLift, 5 fps live);
- a row holds the features of several windows ending at the same time (1, 3 and 6 s by
  default: a gesture, an action, what led up to it), named `reach_max@3s` and so on
  (`FeatureSpec.feature_names`). A window longer than `max_grid` grid times takes every
  2nd (3rd, ...) one: the 6 s window looks at 0.4 s steps. All windows come from one
  resampling and go through the feature code in one pass, side by side;
- distances are in torso lengths (the window's median shoulder-to-hip length) and measured
  between body points, speeds in torso lengths per second; box motion is in box heights;
- a keypoint under `min_conf` is unknown. Gaps of up to `max_gap_s` are filled in along
  time; what the known joints cannot give takes the feature's fill value, never NaN.

Example:
    >>> row = window_features(tracker.history(track_id), end_ts=frame.captured_at)
    >>> row.shape == (len(DEFAULT_SPEC.feature_names),)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from server.behaviour.geometry import (
    ANKLES,
    EARS,
    ELBOWS,
    F32,
    HIPS,
    NOSE,
    SHOULDERS,
    WRISTS,
    Floats,
    nanmax,
    nanmean,
    nanmedian,
    nanmin,
    nanstd,
    norm,
    pair_mean,
    segment_distance,
    share,
)
from server.behaviour.resample import NUM_POINTS, Timeline
from server.records.people import NUM_KEYPOINTS, TrackHistory

# one window's features; distances in torso lengths (shoulder to hip), speeds in torso
# lengths or box heights per s
FEATURE_NAMES: tuple[str, ...] = (
    # coverage
    "seen_frac",  # share of the window's grid times at which the person is tracked
    "wrist_hidden_frac",  # share of the seen (time, wrist) pairs where the wrist is unknown
    # hands relative to the body
    "wrist_pocket_dist_min",  # closest a wrist came to a hip (trouser pocket)
    "wrist_pocket_frac",  # share of seen times with a wrist near a hip
    "wrist_waist_frac",  # share of seen times with a wrist near the waist (above the hips)
    "wrist_chest_frac",  # share of seen times with a wrist near the chest (jacket)
    "wrist_torso_dist_mean",  # mean distance of the nearer wrist from the torso centre
    "wrist_height_max",  # highest a wrist got above the hip centre (reaching up)
    "wrist_height_min",  # lowest (negative: below the hips, reaching down)
    "wrist_lateral_max",  # farthest a wrist got sideways from the torso centre
    "hands_together_frac",  # share of seen times with the two wrists close together
    "elbow_angle_min",  # tightest elbow bend, radians (pi: a straight arm)
    "elbow_angle_mean",  # mean elbow angle over both arms, radians
    # reach and wrist speed
    "reach_max",  # farthest a wrist got from the torso (shoulder-to-hip segment)
    "reach_out_frac",  # share of seen times with an arm reaching out
    "wrist_speed_mean",  # the faster wrist's speed, mean over the window
    "wrist_speed_max",  # the faster wrist's top speed
    "near_body_after_reach_s",  # seconds a hand then spent near the body, after reaching out
    "since_reach_s",  # seconds from the last reach out to the window's end (window_s: none)
    # posture and head
    "torso_lean_mean",  # angle of the hip-to-shoulder axis from upright, radians
    "torso_lean_max",  # the most it leaned
    "shoulder_width",  # mean shoulder spread (small when side-on to the camera)
    "leg_extent",  # mean height of the ankles below the hip centre (crouching shortens it)
    "head_yaw_std",  # spread of the nose's sideways offset from the ears (looking around)
    "head_turn_rate",  # mean change of that offset per second (head turns)
    "head_drop_mean",  # mean height of the nose below the shoulders (negative: above)
    # box motion and dwell
    "box_aspect",  # median box height / width (lower when crouching or bending)
    "box_height_change",  # (max - min) / median box height
    "box_speed_mean",  # mean box-centre speed, box heights/s
    "box_speed_max",  # top box-centre speed
    "box_net_disp",  # box-centre displacement from the first to the last seen time
    "still_frac",  # share of grid steps with the box almost still (dwelling)
)

# fill for a feature the window's known joints cannot give: -1 (never a real value) where 0
# would claim something (a hand at the pocket, an arm fully bent, a crouch), else 0
_UNKNOWN_AS_MINUS_ONE = frozenset(
    {
        "wrist_pocket_dist_min",
        "wrist_torso_dist_mean",
        "wrist_lateral_max",
        "elbow_angle_min",
        "elbow_angle_mean",
        "reach_max",
        "shoulder_width",
        "leg_extent",
        "box_aspect",
    }
)
_FILL = np.asarray([-1.0 if n in _UNKNOWN_AS_MINUS_ONE else 0.0 for n in FEATURE_NAMES], np.float32)

NEAR_POCKET = 0.25  # a wrist this close to a hip is at the pocket (arms hang ~0.3 away)
NEAR_WAIST = 0.35  # ... to the waist point
NEAR_CHEST = 0.4  # ... to the chest point
WAIST_UP = 0.15  # the waist point: this share of the way from the hip centre to the shoulders
CHEST_DOWN = 0.3  # the chest point: this share of the way from the shoulders to the hips
HANDS_TOGETHER = 0.3  # wrists closer than this are together
REACH_OUT = 0.7  # a wrist farther than this from the torso is reaching out (arms hang ~0.5)
STILL_SPEED = 0.15  # box heights per second under which a person is dwelling
TORSO_PER_BOX_HEIGHT = 0.32  # PoseLift's median; the scale when no torso is known
MIN_SCALE_PX = 1.0  # smaller torsos (or boxes) are unknown: no division blows up
_CHUNK = 1024  # windows computed at once: ~50 MB of temporaries, and no slower than more


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """How a row's windows are cut. Store it with a model: rows only compare under the
    same spec."""

    windows_s: tuple[float, ...] = (1.0, 3.0, 6.0)  # window lengths, seconds, ascending
    step_s: float = 0.2  # grid spacing: 5 Hz, the slowest analysis rate we run
    max_gap_s: float = 0.5  # longest gap in a point's frames that is filled in
    min_conf: float = 0.3  # keypoints under this confidence are unknown
    max_grid: int = 16  # grid times per window at most: longer windows take wider steps

    def __post_init__(self) -> None:
        if not (self.step_s > 0 and math.isfinite(self.step_s)):
            raise ValueError(f"step_s: must be positive, got {self.step_s}")
        if not self.max_grid >= 2:
            raise ValueError(f"max_grid: must be at least 2, got {self.max_grid}")
        windows = tuple(float(w) for w in self.windows_s)  # a model file gives a list
        object.__setattr__(self, "windows_s", windows)
        if not windows or list(windows) != sorted(set(windows)):
            raise ValueError(f"windows_s: must be distinct and ascending, got {windows}")
        for window in windows:
            steps = window / self.step_s
            if not (steps >= 1 and abs(steps - round(steps)) < 1e-6):
                raise ValueError(
                    f"windows_s: each must be a whole number (>= 1) of steps of "
                    f"{self.step_s} s, got {window}"
                )
        for window, stride in zip(windows, self.strides, strict=True):
            if round(window / self.step_s) % stride:
                raise ValueError(
                    f"windows_s: {window} s is not a whole number of its {stride * self.step_s:g}"
                    f" s steps (max_grid {self.max_grid})"
                )
        if not (0 <= self.max_gap_s < math.inf):
            raise ValueError(f"max_gap_s: must be >= 0, got {self.max_gap_s}")
        if not 0 <= self.min_conf <= 1:
            raise ValueError(f"min_conf: must be within 0..1, got {self.min_conf}")

    @property
    def window_s(self) -> float:
        """The longest window: the history a track must keep."""
        return self.windows_s[-1]

    @property
    def strides(self) -> tuple[int, ...]:
        """Per window, its grid step in `step_s` steps (1, or more for long windows)."""
        return tuple(
            max(1, math.ceil(round(w / self.step_s) / (self.max_grid - 1))) for w in self.windows_s
        )

    @property
    def grids(self) -> tuple[int, ...]:
        """Per window, its grid times, both ends included."""
        pairs = zip(self.windows_s, self.strides, strict=True)
        return tuple(round(w / self.step_s) // k + 1 for w, k in pairs)

    @property
    def n_grid(self) -> int:
        """Grid times of a row's windows side by side: the most of any window."""
        return max(self.grids)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """A row's columns: every window's `FEATURE_NAMES`, shortest window first."""
        return tuple(f"{name}@{w:g}s" for w in self.windows_s for name in FEATURE_NAMES)

    def column(self, name: str, window_s: float) -> int:
        """Where feature `name` of the `window_s` window is in a row."""
        return self.feature_names.index(f"{name}@{window_s:g}s")


DEFAULT_SPEC = FeatureSpec()


def window_features(history: TrackHistory, end_ts: float, spec: FeatureSpec = DEFAULT_SPEC) -> F32:
    """Features of one track over the `spec.window_s` seconds up to `end_ts`.

    Returns:
        shape (len(spec.feature_names),), float32, finite.
    """
    return batch_features([history], [np.asarray([end_ts])], spec).reshape(-1)


def batch_features(
    histories: Sequence[TrackHistory],
    end_ts: Sequence[npt.ArrayLike] | None = None,
    spec: FeatureSpec = DEFAULT_SPEC,
) -> F32:
    """Features of many tracks, each over windows ending at its own end times.

    Args:
        histories: the tracks.
        end_ts: for each track, the end times (seconds) of its windows, shape (E_i,);
            None for a window ending at each of its frames (training).
    Returns:
        shape (sum E_i, len(spec.feature_names)), float32, finite: track by track, and
        within a track in the order of its end times.
    """
    ends = [h.ts for h in histories] if end_ts is None else [np.ravel(e) for e in end_ts]
    if len(ends) != len(histories):
        raise ValueError(f"end_ts: {len(ends)} arrays for {len(histories)} tracks")
    t_end = np.concatenate([np.zeros(0), *ends]).astype(np.float64)
    if not np.isfinite(t_end).all():
        raise ValueError("end_ts: must be finite")
    track = np.repeat(np.arange(len(ends)), [len(e) for e in ends])
    timeline = Timeline.build(histories, min_conf=spec.min_conf, margin_s=spec.max_gap_s + 1.0)
    picks = _grid_picks(spec)
    needed = np.unique(np.concatenate(picks))  # (U,) steps of `step_s` before the end
    width = len(spec.feature_names)
    out = np.empty((len(t_end), width), np.float32)
    per_chunk = _CHUNK // len(spec.windows_s)
    for lo in range(0, len(t_end), per_chunk):
        chunk = slice(lo, lo + per_chunk)
        times = t_end[chunk, None] - spec.step_s * needed[::-1]  # (W, U), ascending
        points = timeline.sample(
            np.repeat(track[chunk], len(needed)),
            times.ravel(),
            spec.max_gap_s,
            until=np.repeat(t_end[chunk], len(needed)),  # causal: as live, nothing after the end
        ).reshape(len(times), len(needed), NUM_POINTS, 2)
        where = [len(needed) - 1 - np.searchsorted(needed, pick) for pick in picks]
        out[chunk] = _rows(points, where, spec)
    return out


def _grid_picks(spec: FeatureSpec) -> list[npt.NDArray[np.int64]]:
    """Per window, its grid times as `step_s` steps before the end, oldest first."""
    return [
        stride * np.arange(grid - 1, -1, -1)
        for stride, grid in zip(spec.strides, spec.grids, strict=True)
    ]


def _rows(points: F32, where: list[npt.NDArray[np.int64]], spec: FeatureSpec) -> F32:
    """(W, U, NUM_POINTS, 2) resampled times -> (W, len(spec.feature_names)) finite rows.

    `where[s]` picks window s's grid times out of the U. Windows are stacked one under the
    other, each padded in front with unknown times to `spec.n_grid`, and go through the
    feature code in one pass."""
    n_windows, n_grid, n = len(spec.windows_s), spec.n_grid, len(points)
    stacked = np.full((n_windows, n, n_grid, NUM_POINTS, 2), np.nan, np.float32)
    for number, pick in enumerate(where):
        stacked[number, :, n_grid - len(pick) :] = points[:, pick]
    window_s = np.repeat(np.asarray(spec.windows_s, np.float32), n)
    step = np.repeat(spec.step_s * np.asarray(spec.strides, np.float32), n)
    columns = _columns(stacked.reshape(-1, n_grid, NUM_POINTS, 2), step, window_s)
    if columns.keys() != set(FEATURE_NAMES):
        raise RuntimeError(
            f"feature code and FEATURE_NAMES differ: {set(FEATURE_NAMES) ^ columns.keys()}"
        )
    rows = np.stack([columns[name] for name in FEATURE_NAMES], axis=-1)  # (S * W, F)
    rows = np.where(np.isfinite(rows), rows, _FILL).astype(np.float32)
    return rows.reshape(n_windows, len(points), -1).transpose(1, 0, 2).reshape(len(points), -1)


def _columns(points: F32, step: F32, window_s: F32) -> dict[str, Floats]:
    """Each feature, shape (W,), NaN where unknown, of windows `window_s` (W,) long on grids
    of `step` (W,) seconds whose times before the window are unknown."""
    kp, box = points[:, :, :NUM_KEYPOINTS], points[:, :, NUM_KEYPOINTS:]  # (W, G, K|2, 2)
    seen = ~np.isnan(box[:, :, 0, 0])  # (W, G)
    body = _Body.of(kp, box)
    return {
        "seen_frac": seen.sum(axis=1) / (np.rint(window_s / step) + 1),
        **_hands(kp, body, seen, step, window_s),
        **_posture(kp, body, step),
        **_box_motion(box, seen, body.box_h, step),
    }


@dataclass(frozen=True, slots=True)
class _Body:
    """A window's body frame. Scales are NaN or at least `MIN_SCALE_PX` (so plain divisions
    by them are safe); centres are NaN where their joints are unknown, `*_est` fill them in
    one torso length above or below the other centre."""

    scale: Floats  # (W, 1) torso length, pixels
    box_h: Floats  # (W,) median box height, pixels
    sh_c: Floats  # (W, G, 2) shoulder centre
    hip_c: Floats  # (W, G, 2) hip centre
    sh_est: Floats  # (W, G, 2)
    hip_est: Floats  # (W, G, 2)

    @classmethod
    def of(cls, kp: F32, box: F32) -> _Body:
        box_h = nanmedian(box[:, :, 1, 1] - box[:, :, 0, 1])
        box_h = np.where(box_h >= MIN_SCALE_PX, box_h, np.nan)
        torso = nanmedian(norm(kp[:, :, SHOULDERS] - kp[:, :, HIPS]).reshape(len(kp), -1))
        scale = np.where(np.isnan(torso), TORSO_PER_BOX_HEIGHT * box_h, torso)
        scale = np.where(scale >= MIN_SCALE_PX, scale, np.nan)[:, None]
        sh_c, hip_c = pair_mean(kp[:, :, SHOULDERS]), pair_mean(kp[:, :, HIPS])
        down = np.stack([np.zeros_like(scale), scale], axis=-1)  # (W, 1, 2)
        sh_est = np.where(np.isnan(sh_c), hip_c - down, sh_c)
        hip_est = np.where(np.isnan(hip_c), sh_c + down, hip_c)
        return cls(scale, box_h, sh_c, hip_c, sh_est, hip_est)


def _hands(
    kp: F32, body: _Body, seen: npt.NDArray[np.bool_], step: F32, window_s: F32
) -> dict[str, Floats]:
    """Where the wrists are relative to the body, how fast they move, and reaching out."""
    n_grid = kp.shape[1]
    shoulders, elbows, wrists, hips = (kp[:, :, j] for j in (SHOULDERS, ELBOWS, WRISTS, HIPS))
    s2 = body.scale[..., None]  # (W, 1, 1)
    sh, hip = body.sh_est, body.hip_est
    torso_c = (sh + hip) / 2

    def from_wrists(target: Floats) -> Floats:
        """(W, G, 2) body point -> (W, G, 2 wrists) distances, torso lengths."""
        return norm(wrists - target[:, :, None]) / s2

    pocket = nanmin(norm(wrists[:, :, :, None] - hips[:, :, None]), axis=-1) / s2
    near_pocket = pocket < NEAR_POCKET
    near_waist = from_wrists(hip + WAIST_UP * (sh - hip)) < NEAR_WAIST
    near_chest = from_wrists(sh + CHEST_DOWN * (hip - sh)) < NEAR_CHEST
    near_body = near_pocket | near_waist | near_chest  # (W, G, 2)
    height = (hip[:, :, None, 1] - wrists[..., 1]) / s2
    lateral = np.abs(wrists[..., 0] - torso_c[:, :, None, 0]) / s2
    together = norm(wrists[:, :, 0] - wrists[:, :, 1]) / body.scale < HANDS_TOGETHER
    upper, fore = shoulders - elbows, wrists - elbows
    cross = upper[..., 0] * fore[..., 1] - upper[..., 1] * fore[..., 0]
    elbow = np.arctan2(np.abs(cross), (upper * fore).sum(axis=-1))  # (W, G, 2)

    reach = segment_distance(wrists, sh[:, :, None], hip[:, :, None]) / s2  # (W, G, 2)
    out = reach > REACH_OUT
    speed = nanmax(norm(np.diff(wrists, axis=1)), axis=-1) / step[:, None] / body.scale
    grid = np.arange(n_grid)[None, :, None]
    last_out = np.where(out, grid, -1).max(axis=1)  # (W, 2) last grid index, -1: none
    after = (near_body & (grid > last_out[:, None])).sum(axis=1) * step[:, None]
    last_any = last_out.max(axis=1)
    return {
        "wrist_hidden_frac": share(np.isnan(wrists[..., 0]), seen[..., None], axis=(1, 2)),
        "wrist_pocket_dist_min": nanmin(pocket, axis=(1, 2)),
        "wrist_pocket_frac": share(near_pocket.any(axis=-1), seen, axis=1),
        "wrist_waist_frac": share(near_waist.any(axis=-1), seen, axis=1),
        "wrist_chest_frac": share(near_chest.any(axis=-1), seen, axis=1),
        "wrist_torso_dist_mean": nanmean(nanmin(from_wrists(torso_c), axis=-1), axis=1),
        "wrist_height_max": nanmax(height, axis=(1, 2)),
        "wrist_height_min": nanmin(height, axis=(1, 2)),
        "wrist_lateral_max": nanmax(lateral, axis=(1, 2)),
        "hands_together_frac": share(together, seen, axis=1),
        "elbow_angle_min": nanmin(elbow, axis=(1, 2)),
        "elbow_angle_mean": nanmean(elbow, axis=(1, 2)),
        "reach_max": nanmax(reach, axis=(1, 2)),
        "reach_out_frac": share(out.any(axis=-1), seen, axis=1),
        "wrist_speed_mean": nanmean(speed, axis=1),
        "wrist_speed_max": nanmax(speed, axis=1),
        "near_body_after_reach_s": np.where(last_out >= 0, after, 0).max(axis=1),
        "since_reach_s": np.where(last_any >= 0, (n_grid - 1 - last_any) * step, window_s),
    }


def _posture(kp: F32, body: _Body, step: F32) -> dict[str, Floats]:
    """Torso lean, shoulder spread, crouch and where the head points."""
    axis = body.sh_c - body.hip_c
    lean = np.arctan2(np.abs(axis[..., 0]), -axis[..., 1])  # (W, G), 0: upright
    shoulders = kp[:, :, SHOULDERS]
    nose = kp[:, :, NOSE]
    yaw = (nose[..., 0] - pair_mean(kp[:, :, EARS])[..., 0]) / body.scale
    legs = pair_mean(kp[:, :, ANKLES])[..., 1] - body.hip_c[..., 1]
    return {
        "torso_lean_mean": nanmean(lean, axis=1),
        "torso_lean_max": nanmax(lean, axis=1),
        "shoulder_width": nanmean(norm(shoulders[:, :, 0] - shoulders[:, :, 1]) / body.scale, 1),
        "leg_extent": nanmean(legs / body.scale, axis=1),
        "head_yaw_std": nanstd(yaw, axis=1),
        "head_turn_rate": nanmean(np.abs(np.diff(yaw, axis=1)), axis=1) / step,
        "head_drop_mean": nanmean((nose[..., 1] - body.sh_c[..., 1]) / body.scale, axis=1),
    }


def _box_motion(
    box: F32, seen: npt.NDArray[np.bool_], box_h: Floats, step: F32
) -> dict[str, Floats]:
    """Box shape, how it moves and how long it stays put, in box heights."""
    size = box[:, :, 1] - box[:, :, 0]  # (W, G, 2) width, height
    width = np.where(size[..., 0] > 0, size[..., 0], np.nan)
    centre = box.mean(axis=2)  # (W, G, 2)
    speed = norm(np.diff(centre, axis=1)) / step[:, None] / box_h[:, None]  # (W, G-1)
    rows = np.arange(len(box))
    first = np.argmax(seen, axis=1)
    last = seen.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1)
    return {
        "box_aspect": nanmedian(size[..., 1] / width),
        "box_height_change": (nanmax(size[..., 1], 1) - nanmin(size[..., 1], 1)) / box_h,
        "box_speed_mean": nanmean(speed, axis=1),
        "box_speed_max": nanmax(speed, axis=1),
        "box_net_disp": norm(centre[rows, last] - centre[rows, first]) / box_h,
        "still_frac": share(speed < STILL_SPEED, ~np.isnan(speed), axis=1),
    }
