"""`ReplayPose`: a real `PoseEstimator` that replays poses recorded from a clip into an `.npz`.

Recording (once, by hand; the clip itself is never committed, see tests/data/README.md):

    .venv/bin/python -m tests.pipeline.replay /tmp/vtest.avi tests/data/vtest_poses.npz
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from server.records.people import NUM_KEYPOINTS, Poses

ROOT = Path(__file__).resolve().parents[2]
VTEST_POSES = ROOT / "tests" / "data" / "vtest_poses.npz"


class ReplayPose:
    """Hands back the poses recorded for frame 0, 1, 2, … on successive `estimate` calls.

    The image is not looked at: the replay stands in for the model in tests that feed their
    own (or synthetic) frames. Past the last recorded frame it starts again when `loop`,
    else raises `IndexError`.

    Example:
        >>> pose = ReplayPose(VTEST_POSES)
        >>> poses = pose.estimate(frame.image)  # the people of the clip's frame 0
    """

    def __init__(self, path: Path, *, loop: bool = False) -> None:
        with np.load(path) as npz:
            frame = npz["frame"].astype(np.int64)
            xyxy, kpts, conf = npz["xyxy"], npz["keypoints"], npz["keypoint_conf"]
            score = npz["score"]
            self.frames = int(npz["frames"])
            self.fps = float(npz["fps"])
            height, width = (int(v) for v in npz["frame_hw"])
        self.frame_hw = (height, width)
        starts = np.searchsorted(frame, np.arange(self.frames + 1))  # frame is sorted
        self._poses = [
            Poses(
                xyxy=xyxy[a:b].astype(np.float32),
                keypoints=kpts[a:b].astype(np.float32),
                keypoint_conf=conf[a:b].astype(np.float32),
                score=score[a:b].astype(np.float32),
            )
            for a, b in itertools.pairwise(starts.tolist())
        ]
        self.loop = loop
        self._next = 0

    def __len__(self) -> int:
        return self.frames

    input_hw = (384, 640)
    sizes_fixed = True

    def estimate_batch(
        self, images: Sequence[npt.NDArray[np.uint8]], input_hw: tuple[int, int] | None = None
    ) -> list[Poses]:
        """The next recorded frames' poses, one per image (images are ignored)."""
        return [self.estimate(image) for image in images]

    def estimate(
        self, image: npt.NDArray[np.uint8], input_hw: tuple[int, int] | None = None
    ) -> Poses:
        """The next recorded frame's poses (`image` is ignored)."""
        if self._next >= self.frames:
            if not self.loop:
                raise IndexError(f"all {self.frames} recorded frames were replayed")
            self._next = 0
        poses = self._poses[self._next]
        self._next += 1
        return poses


VTEST_ROI = (128, 60, 768, 420)  # x0, y0, x1, y1: the paths people walk, 640x360


def record(
    video: Path,
    out: Path,
    *,
    model: Path,
    frames: int = 100,
    roi: tuple[int, int, int, int] = VTEST_ROI,
) -> None:
    """Run `OnnxPose` on the `roi` of the first `frames` frames of `video`; save to `out`.

    Poses are in full-frame pixels. A 640x360 `roi` meets the 384x640 model at 1:1, where
    the whole 768x576 frame would be shrunk to 2/3 and most of its small people missed.
    """
    from server.pipeline.pose import OnnxPose

    x0, y0, x1, y1 = roi
    offset = np.asarray([x0, y0], np.float32)

    pose = OnnxPose(model, threads=2)
    rows: list[tuple[int, Poses]] = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        for index, decoded in enumerate(container.decode(stream)):
            if index == frames:
                break
            image = decoded.to_ndarray(format="bgr24")
            hw = image.shape[:2]
            found = pose.estimate(np.ascontiguousarray(image[y0:y1, x0:x1]))
            shifted = Poses(
                xyxy=found.xyxy + np.tile(offset, 2),
                keypoints=found.keypoints + offset,
                keypoint_conf=found.keypoint_conf,
                score=found.score,
            )
            rows.append((index, shifted))
    people = [p for _, p in rows]
    np.savez_compressed(
        out,
        frame=np.concatenate([np.full(len(p), i, np.int16) for i, p in rows]),
        xyxy=np.concatenate([p.xyxy for p in people]).astype(np.float32),
        keypoints=np.concatenate([p.keypoints for p in people]).astype(np.float32),
        keypoint_conf=np.concatenate([p.keypoint_conf for p in people]).astype(np.float16),
        score=np.concatenate([p.score for p in people]).astype(np.float16),
        frames=np.int32(len(rows)),
        fps=np.float32(fps),
        frame_hw=np.asarray(hw, np.int32),
        roi=np.asarray(roi, np.int32),
    )
    assert all(k.shape[1:] == (NUM_KEYPOINTS, 2) for k in (p.keypoints for p in people))


if __name__ == "__main__":
    record(Path(sys.argv[1]), Path(sys.argv[2]), model=ROOT / "weights" / "yolo11n-pose.onnx")
