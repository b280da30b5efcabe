"""Numpy pre- and post-processing around a YOLO pose model: letterbox, decode, NMS.

Matches Ultralytics' `LetterBox` (grey 114 padding, centred) and pose post-processing
(confidence filter, greedy NMS, boxes and keypoints mapped back to the original frame).
Models come in two output layouts: Ultralytics' export, decoded in the graph ((B, 5 + 3K,
A) pixel boxes and keypoints), or the head's raw maps per stride (B, 4·16 + 1 + 3K, h, w),
decoded here for the few anchors over the score threshold (`head_candidates`), which spares
the model a softmax and the decode arithmetic over every anchor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from server.records.people import NUM_KEYPOINTS

PAD_VALUE = 114.0
InputType = Literal["float32", "uint8"]  # what a model's input tensor holds
REG_MAX = 16  # DFL bins per box side in the raw head
HEAD_CHANNELS = 4 * REG_MAX + 1 + 3 * NUM_KEYPOINTS  # box bins, person logit, keypoints


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a frame was fitted into the model input: `gain` scale, then `left`/`top` padding."""

    gain: float
    left: int
    top: int


def resize_bilinear(
    image: npt.NDArray[np.uint8], width: int, height: int
) -> npt.NDArray[np.float32]:
    """Bilinear resize with half-pixel centres (OpenCV's INTER_LINEAR).

    Args:
        image: (H, W, C) uint8.
        width, height: output size in pixels.
    Returns:
        (height, width, C) float32 in 0..255.
    """
    src_h, src_w = image.shape[:2]
    ys = (np.arange(height, dtype=np.float32) + 0.5) * (src_h / height) - 0.5
    xs = (np.arange(width, dtype=np.float32) + 0.5) * (src_w / width) - 0.5
    ys, xs = np.clip(ys, 0, src_h - 1), np.clip(xs, 0, src_w - 1)
    y0, x0 = ys.astype(np.intp), xs.astype(np.intp)
    y1, x1 = np.minimum(y0 + 1, src_h - 1), np.minimum(x0 + 1, src_w - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    rows0 = image[y0]
    out: npt.NDArray[np.float32] = rows0[:, x0].astype(np.float32)
    if wx.any():  # zero weights (e.g. 1080p to 360p) make it a plain gather
        out += (rows0[:, x1] - out) * wx
    if wy.any():
        rows1 = image[y1]
        below = rows1[:, x0].astype(np.float32)
        if wx.any():
            below += (rows1[:, x1] - below) * wx
        out += (below - out) * wy
    return out


def letterbox(
    image: npt.NDArray[np.uint8],
    input_hw: tuple[int, int],
    dtype: InputType = "float32",
) -> tuple[npt.NDArray[np.float32] | npt.NDArray[np.uint8], Letterbox]:
    """Fit a BGR frame into the model input, keeping its aspect ratio.

    Args:
        image: (H, W, 3) uint8, BGR.
        input_hw: model input (height, width).
        dtype: float32 (RGB in 0..1) or uint8 (RGB in 0..255, for models that scale their
            input themselves; a resized frame is rounded as OpenCV rounds it).
    Returns:
        the (1, 3, height, width) RGB tensor, and the `Letterbox` used.
    Example:
        >>> tensor, box = letterbox(np.zeros((1080, 1920, 3), np.uint8), (384, 640))
        >>> tensor.shape, box.top
        ((1, 3, 384, 640), 12)
    """
    in_h, in_w = input_hw
    h, w = image.shape[:2]
    gain = min(in_h / h, in_w / w)
    new_w, new_h = round(w * gain), round(h * gain)
    left, top = round((in_w - new_w) / 2 - 0.1), round((in_h - new_h) / 2 - 0.1)
    if dtype == "uint8":
        canvas8 = np.full((in_h, in_w, 3), int(PAD_VALUE), np.uint8)
        if (new_w, new_h) != (w, h):
            resized = np.rint(resize_bilinear(image, new_w, new_h)).astype(np.uint8)
        else:
            resized = image
        canvas8[top : top + new_h, left : left + new_w] = resized
        rgb8 = canvas8[:, :, ::-1].transpose(2, 0, 1)[None]  # BGR→RGB, CHW
        return np.ascontiguousarray(rgb8), Letterbox(gain, left, top)
    resized_f = resize_bilinear(image, new_w, new_h) if (new_w, new_h) != (w, h) else image
    canvas = np.full((in_h, in_w, 3), PAD_VALUE, np.float32)
    canvas[top : top + new_h, left : left + new_w] = resized_f
    tensor = canvas[:, :, ::-1].transpose(2, 0, 1)[None] / np.float32(255.0)  # BGR→RGB, CHW
    return np.ascontiguousarray(tensor, dtype=np.float32), Letterbox(gain, left, top)


def nms(
    xyxy: npt.NDArray[np.float32], score: npt.NDArray[np.float32], iou: float
) -> npt.NDArray[np.intp]:
    """Greedy non-maximum suppression.

    Args:
        xyxy: (N, 4) boxes; score: (N,).
        iou: boxes overlapping a kept one by more than this are dropped.
    Returns:
        indices of the kept boxes, highest score first.
    """
    order = np.argsort(-score, kind="stable")
    area = (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])
    keep: list[int] = []
    while order.size:
        i, rest = int(order[0]), order[1:]
        keep.append(i)
        lt = np.maximum(xyxy[i, :2], xyxy[rest, :2])
        rb = np.minimum(xyxy[i, 2:], xyxy[rest, 2:])
        inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
        union = area[i] + area[rest] - inter
        overlap = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[overlap <= iou]
    return np.asarray(keep, dtype=np.intp)


def _sigmoid(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), np.float32)


def head_candidates(
    maps: list[npt.NDArray[np.float32]], input_hw: tuple[int, int], conf: float
) -> npt.NDArray[np.float32]:
    """Decode a raw YOLO pose head where the person score passes `conf`.

    Args:
        maps: one image's head outputs, one per stride, each (4·16 + 1 + 3K, h, w): the
            box's DFL bins (4 sides x 16), the person logit, K keypoints as (x, y, logit).
        input_hw: the model input (height, width) the maps were computed on.
        conf: score threshold (after the sigmoid).
    Returns:
        (N, 5 + 3K) float32 rows as the decoded export gives them: cx, cy, w, h, score,
        then x, y, conf per keypoint, in input pixels.
    """
    threshold = np.float32(np.log(conf / (1.0 - conf)))  # the logit of `conf`
    rows: list[npt.NDArray[np.float32]] = []
    for head in maps:
        channels, h, w = head.shape
        if channels != HEAD_CHANNELS:
            raise ValueError(f"head map has {channels} channels, expected {HEAD_CHANNELS}")
        stride = np.float32(input_hw[0] / h)
        flat = head.reshape(channels, h * w)
        index = np.flatnonzero(flat[4 * REG_MAX] > threshold)
        if index.size == 0:
            continue
        picked = flat[:, index].astype(np.float32)  # (C, n)
        gx = (index % w).astype(np.float32)
        gy = (index // w).astype(np.float32)
        bins = picked[: 4 * REG_MAX].reshape(4, REG_MAX, -1)
        bins = np.exp(bins - bins.max(axis=1, keepdims=True))
        sides = (bins * np.arange(REG_MAX, dtype=np.float32)[:, None]).sum(1) / bins.sum(1)
        left, top, right, bottom = sides  # distances from the anchor (cell centre), in cells
        ax, ay = gx + 0.5, gy + 0.5
        box = np.stack(
            [
                (ax + (right - left) / 2) * stride,
                (ay + (bottom - top) / 2) * stride,
                (left + right) * stride,
                (top + bottom) * stride,
                _sigmoid(picked[4 * REG_MAX]),
            ]
        )
        kpts = picked[4 * REG_MAX + 1 :].reshape(NUM_KEYPOINTS, 3, -1).copy()
        kpts[:, 0] = (kpts[:, 0] * 2.0 + gx) * stride
        kpts[:, 1] = (kpts[:, 1] * 2.0 + gy) * stride
        kpts[:, 2] = _sigmoid(kpts[:, 2])
        rows.append(np.concatenate([box, kpts.reshape(3 * NUM_KEYPOINTS, -1)]).T)
    if not rows:
        return np.zeros((0, 5 + 3 * NUM_KEYPOINTS), np.float32)
    return np.ascontiguousarray(np.concatenate(rows), np.float32)


def decode(
    output: npt.NDArray[np.float32],
    box: Letterbox,
    frame_hw: tuple[int, int],
    *,
    conf: float,
    iou: float,
    max_det: int,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Turn a decoded YOLO pose output into people in original-frame pixels.

    Args:
        output: (1, 5 + 3K, A) float32: cx, cy, w, h, score, K times (x, y, conf); input pixels.
        box: the letterbox the input was made with; frame_hw: the original (height, width).
        conf, iou, max_det: score threshold, NMS overlap, most people kept.
    Returns:
        xyxy (N, 4), score (N,) and keypoints (N, K, 3) as x, y, conf; highest score first.
    """
    pred = output[0].T  # (A, 5 + 3K)
    return people(pred[pred[:, 4] > conf], box, frame_hw, iou=iou, max_det=max_det)


def people(
    pred: npt.NDArray[np.float32],
    box: Letterbox,
    frame_hw: tuple[int, int],
    *,
    iou: float,
    max_det: int,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """NMS over candidate rows (N, 5 + 3K), mapped from input pixels back to the frame."""
    cx, cy, bw, bh = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
    xyxy = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1).astype(np.float32)
    keep = nms(xyxy, pred[:, 4], iou)[:max_det]
    xyxy, score = xyxy[keep], pred[keep, 4]
    kpts = pred[keep, 5:].reshape(-1, NUM_KEYPOINTS, 3).copy()
    h, w = frame_hw
    offset = np.array([box.left, box.top], np.float32)
    xyxy = (xyxy.reshape(-1, 2, 2) - offset) / np.float32(box.gain)
    xyxy = np.clip(xyxy, 0, np.array([w, h], np.float32)).reshape(-1, 4)
    kpts[..., :2] = np.clip((kpts[..., :2] - offset) / np.float32(box.gain), 0, [w, h])
    return xyxy.astype(np.float32), score.astype(np.float32), kpts.astype(np.float32)
