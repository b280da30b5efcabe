"""How closely one pose model's output agrees with a reference's, frame by frame.

People are matched by box IoU (optimal assignment; at least `iou_min`, 0.5). Over all frames:
recall (reference people found) and precision (candidate people that are in the reference);
for matched people, the keypoint error over keypoints visible in both (confidence > 0.5), as
distance / the reference box's diagonal: its mean and median, and PCK@0.05 (share within 5% of
the diagonal). Pure numpy; uses scipy's Hungarian solver when installed, else greedy matching.

As a script it compares two `.npz` files in the layout of `tests/data/vtest_poses.npz`
(`frame` (M,) frame index of each person, `xyxy` (M, 4), `keypoints` (M, 17, 2),
`keypoint_conf` (M, 17), `frames` the frame count):

    .venv/bin/python infra/weights/pose_agreement.py reference.npz candidate.npz
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]
NUM_KEYPOINTS = 17  # COCO


@dataclass(frozen=True, slots=True)
class FramePoses:
    """The people of one frame: boxes (N, 4) xyxy, keypoints (N, K, 2), keypoint_conf (N, K)."""

    boxes: Floats
    keypoints: Floats
    keypoint_conf: Floats

    @classmethod
    def of(
        cls,
        boxes: npt.ArrayLike,
        keypoints: npt.ArrayLike,
        keypoint_conf: npt.ArrayLike,
        num_keypoints: int = NUM_KEYPOINTS,
    ) -> FramePoses:
        """Build from array-likes (empty ones too), as float32 with consistent shapes."""
        b = np.asarray(boxes, np.float32).reshape(-1, 4)
        k = np.asarray(keypoints, np.float32).reshape(len(b), num_keypoints, 2)
        c = np.asarray(keypoint_conf, np.float32).reshape(len(b), num_keypoints)
        return cls(b, k, c)


@dataclass(frozen=True, slots=True)
class Agreement:
    """Candidate versus reference over a set of frames."""

    frames: int
    reference_people: int
    candidate_people: int
    matched: int
    recall: float  # matched / reference people
    precision: float  # matched / candidate people
    mean_box_iou: float  # over matched people
    keypoints: int  # keypoints visible in both, over matched people
    mean_error: float  # keypoint distance / reference box diagonal, mean
    median_error: float
    pck: float  # share of those keypoints within `pck_frac` of the diagonal

    def line(self) -> str:
        """A one-line summary."""
        return (
            f"recall {self.recall:.3f} precision {self.precision:.3f} "
            f"({self.matched}/{self.reference_people} ref, {self.candidate_people} cand) "
            f"box IoU {self.mean_box_iou:.3f} kpt err {self.mean_error:.4f} "
            f"(median {self.median_error:.4f}) PCK@0.05 {self.pck:.3f} over {self.keypoints}"
        )


def box_iou(a: Floats, b: Floats) -> Floats:
    """(len(a), len(b)) IoU of xyxy boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    iou: Floats = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return iou.astype(np.float32)


def match(iou: Floats, iou_min: float) -> list[tuple[int, int]]:
    """(reference, candidate) index pairs maximising total IoU, each pair at least `iou_min`."""
    if iou.size == 0:
        return []
    try:
        from scipy.optimize import (  # type: ignore[import-untyped, unused-ignore]
            linear_sum_assignment,
        )
    except ImportError:  # greedy: highest IoU first
        pairs: list[tuple[int, int]] = []
        used_r: set[int] = set()
        used_c: set[int] = set()
        for flat in np.argsort(-iou, axis=None, kind="stable"):
            r, c = divmod(int(flat), iou.shape[1])
            if iou[r, c] < iou_min:
                break
            if r not in used_r and c not in used_c:
                pairs.append((r, c))
                used_r.add(r)
                used_c.add(c)
        return sorted(pairs)
    rows, cols = linear_sum_assignment(np.where(iou >= iou_min, iou, 0.0), maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= iou_min]


def compare(
    reference: Sequence[FramePoses],
    candidate: Sequence[FramePoses],
    *,
    iou_min: float = 0.5,
    kpt_conf: float = 0.5,
    pck_frac: float = 0.05,
) -> Agreement:
    """Agreement of `candidate` with `reference`, the same frames in the same order."""
    if len(reference) != len(candidate):
        raise ValueError(f"{len(reference)} reference frames but {len(candidate)} candidate")
    ref_people = cand_people = 0
    ious: list[float] = []
    errors: list[Floats] = []
    for ref, cand in zip(reference, candidate, strict=True):
        ref_people += len(ref.boxes)
        cand_people += len(cand.boxes)
        iou = box_iou(ref.boxes, cand.boxes)
        for r, c in match(iou, iou_min):
            ious.append(float(iou[r, c]))
            visible = (ref.keypoint_conf[r] > kpt_conf) & (cand.keypoint_conf[c] > kpt_conf)
            diagonal = float(np.hypot(*(ref.boxes[r, 2:] - ref.boxes[r, :2])))
            if diagonal <= 0 or not visible.any():
                continue
            dist = np.linalg.norm(ref.keypoints[r, visible] - cand.keypoints[c, visible], axis=1)
            errors.append((dist / diagonal).astype(np.float32))
    err = np.concatenate(errors) if errors else np.zeros(0, np.float32)
    nan = float("nan")
    return Agreement(
        frames=len(reference),
        reference_people=ref_people,
        candidate_people=cand_people,
        matched=len(ious),
        recall=len(ious) / ref_people if ref_people else nan,
        precision=len(ious) / cand_people if cand_people else nan,
        mean_box_iou=float(np.mean(ious)) if ious else nan,
        keypoints=int(err.size),
        mean_error=float(err.mean()) if err.size else nan,
        median_error=float(np.median(err)) if err.size else nan,
        pck=float(np.mean(err <= pck_frac)) if err.size else nan,
    )


def load_npz(path: Path) -> list[FramePoses]:
    """Per-frame poses from an `.npz` in the `tests/data/vtest_poses.npz` layout."""
    with np.load(path) as data:
        frame = np.asarray(data["frame"], np.int64)
        frames = int(data["frames"]) if "frames" in data else int(frame.max(initial=-1)) + 1
        boxes, kpts, conf = data["xyxy"], data["keypoints"], data["keypoint_conf"]
        return [
            FramePoses.of(boxes[frame == i], kpts[frame == i], conf[frame == i])
            for i in range(frames)
        ]


def main(argv: list[str] | None = None) -> int:
    """Compare two `.npz` pose files; print the agreement (JSON with --json)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("reference", type=Path)
    parser.add_argument("candidate", type=Path)
    parser.add_argument("--iou", type=float, default=0.5, help="box IoU to match people (0.5)")
    parser.add_argument("--kpt-conf", type=float, default=0.5, help="visible keypoint (0.5)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    result = compare(
        load_npz(args.reference), load_npz(args.candidate), iou_min=args.iou, kpt_conf=args.kpt_conf
    )
    sys.stdout.write((json.dumps(asdict(result)) if args.json else result.line()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
