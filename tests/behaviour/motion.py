"""A literal person (COCO-17, pixels) and a shopping motion of them, sampled at any times."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from server.records.people import NUM_KEYPOINTS, TrackHistory

# standing, facing the camera, torso (shoulder to hip) ~101 px; their left is the image's right
STANDING = np.asarray(
    [
        [500, 200],  # nose
        [510, 190],  # left eye
        [490, 190],  # right eye
        [520, 195],  # left ear
        [480, 195],  # right ear
        [540, 250],  # left shoulder
        [460, 250],  # right shoulder
        [548, 310],  # left elbow
        [452, 310],  # right elbow
        [555, 372],  # left wrist
        [445, 372],  # right wrist
        [525, 350],  # left hip
        [475, 350],  # right hip
        [525, 450],  # left knee
        [475, 450],  # right knee
        [525, 550],  # left ankle
        [475, 550],  # right ankle
    ],
    np.float32,
)
STANDING_BOX = np.asarray([440, 180, 560, 560], np.float32)  # x1, y1, x2, y2

# the right wrist: hanging, then out and up to a shelf, then at the right hip (pocket),
# then hanging again; eased in and out between these (seconds, x, y)
REACH_KEYS = np.asarray(
    [
        [-9.0, 445, 372],
        [0.4, 445, 372],
        [1.2, 360, 240],
        [1.6, 360, 240],
        [2.4, 478, 352],
        [3.0, 478, 352],
        [3.6, 445, 372],
        [9.0, 445, 372],
    ],
    np.float32,
)
WALK_PX_S = 20.0  # the whole body drifts right, slowly
HEAD_TURN_PX = 12.0  # the face swings this far sideways, every 1.5 s


def shopping(
    ts: npt.ArrayLike,
    *,
    mirror_hands: bool = False,
    walk_px_s: float = WALK_PX_S,
    track_id: int = 1,
) -> TrackHistory:
    """The person at times `ts` (seconds, increasing): walking slowly, turning the head,
    reaching to a shelf with the right hand and then to the pocket.

    With `mirror_hands` the left arm mirrors the right one about the body's midline.
    """
    t = np.asarray(ts, np.float64)
    kp = np.repeat(STANDING[None], len(t), axis=0)
    seg = np.clip(np.searchsorted(REACH_KEYS[:, 0], t, side="right") - 1, 0, len(REACH_KEYS) - 2)
    t0, t1 = REACH_KEYS[seg, 0], REACH_KEYS[seg + 1, 0]
    u = np.clip((t - t0) / (t1 - t0), 0, 1)[:, None]
    wrist = REACH_KEYS[seg, 1:] + u * u * (3 - 2 * u) * (
        REACH_KEYS[seg + 1, 1:] - REACH_KEYS[seg, 1:]
    )
    kp[:, 10] = wrist
    kp[:, 8] = (STANDING[6] + wrist) / 2 + [-8, 0]  # the elbow, bent outwards
    if mirror_hands:
        kp[:, 9] = wrist * [-1, 1] + [1000, 0]
        kp[:, 7] = kp[:, 8] * [-1, 1] + [1000, 0]
    kp[:, :3, 0] += HEAD_TURN_PX * np.sin(2 * np.pi * t / 1.5)[:, None]
    kp[..., 0] += walk_px_s * t[:, None]
    box = np.repeat(STANDING_BOX[None], len(t), axis=0)
    box[:, [0, 2]] += walk_px_s * t[:, None]
    return TrackHistory(
        track_id=track_id,
        ts=t,
        xyxy=box.astype(np.float32),
        keypoints=kp.astype(np.float32),
        keypoint_conf=np.full((len(t), NUM_KEYPOINTS), 0.9, np.float32),
    )


def still(
    ts: npt.ArrayLike,
    keypoints: npt.NDArray[np.float32] = STANDING,
    box: npt.NDArray[np.float32] = STANDING_BOX,
    *,
    px_s: tuple[float, float] = (0.0, 0.0),
) -> TrackHistory:
    """One literal pose held at times `ts`, moving `px_s` pixels per second."""
    t = np.asarray(ts, np.float64)
    move = np.asarray(px_s, np.float32) * t[:, None].astype(np.float32)  # (T, 2)
    return TrackHistory(
        track_id=1,
        ts=t,
        xyxy=(box[None] + np.tile(move, 2)).astype(np.float32),
        keypoints=(keypoints[None] + move[:, None]).astype(np.float32),
        keypoint_conf=np.full((len(t), NUM_KEYPOINTS), 0.9, np.float32),
    )


def moved(
    history: TrackHistory,
    *,
    scale: float = 1.0,
    shift: tuple[float, float] = (0.0, 0.0),
    dt: float = 0.0,
    conf: npt.NDArray[np.float32] | None = None,
) -> TrackHistory:
    """`history` scaled about the image origin, shifted (pixels), delayed by `dt` seconds,
    or with other keypoint confidences."""
    offset = np.asarray(shift, np.float32)
    return TrackHistory(
        track_id=history.track_id,
        ts=history.ts + dt,
        xyxy=(history.xyxy * scale + np.tile(offset, 2)).astype(np.float32),
        keypoints=(history.keypoints * scale + offset).astype(np.float32),
        keypoint_conf=history.keypoint_conf if conf is None else conf,
    )


def at_fps(fps: float, end_s: float = 4.0) -> npt.NDArray[np.float64]:
    """Frame times 0, 1/fps, … up to `end_s` included."""
    return np.arange(round(end_s * fps) + 1) / fps
