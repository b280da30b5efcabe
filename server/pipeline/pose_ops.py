"""Numpy pre- and post-processing around a YOLO pose model: letterbox, decode, NMS.

Matches Ultralytics' `LetterBox` (grey 114 padding, centred) and pose post-processing
(confidence filter, greedy NMS, boxes and keypoints mapped back to the original frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from server.pipeline.records import NUM_KEYPOINTS

PAD_VALUE = 114.0


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
    image: npt.NDArray[np.uint8], input_hw: tuple[int, int]
) -> tuple[npt.NDArray[np.float32], Letterbox]:
    """Fit a BGR frame into the model input, keeping its aspect ratio.

    Args:
        image: (H, W, 3) uint8, BGR.
        input_hw: model input (height, width).
    Returns:
        the (1, 3, height, width) float32 RGB tensor in 0..1, and the `Letterbox` used.
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
    resized = resize_bilinear(image, new_w, new_h) if (new_w, new_h) != (w, h) else image
    canvas = np.full((in_h, in_w, 3), PAD_VALUE, np.float32)
    canvas[top : top + new_h, left : left + new_w] = resized
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


def decode(
    output: npt.NDArray[np.float32],
    box: Letterbox,
    frame_hw: tuple[int, int],
    *,
    conf: float,
    iou: float,
    max_det: int,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Turn a YOLO pose output into people in original-frame pixels.

    Args:
        output: (1, 5 + 3K, A) float32: cx, cy, w, h, score, K times (x, y, conf); input pixels.
        box: the letterbox the input was made with; frame_hw: the original (height, width).
        conf, iou, max_det: score threshold, NMS overlap, most people kept.
    Returns:
        xyxy (N, 4), score (N,) and keypoints (N, K, 3) as x, y, conf; highest score first.
    """
    pred = output[0].T  # (A, 5 + 3K)
    pred = pred[pred[:, 4] > conf]
    cx, cy, bw, bh = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
    xyxy = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
    keep = nms(xyxy, pred[:, 4], iou)[:max_det]
    xyxy, score = xyxy[keep], pred[keep, 4]
    kpts = pred[keep, 5:].reshape(-1, NUM_KEYPOINTS, 3).copy()
    h, w = frame_hw
    offset = np.array([box.left, box.top], np.float32)
    xyxy = (xyxy.reshape(-1, 2, 2) - offset) / np.float32(box.gain)
    xyxy = np.clip(xyxy, 0, np.array([w, h], np.float32)).reshape(-1, 4)
    kpts[..., :2] = np.clip((kpts[..., :2] - offset) / np.float32(box.gain), 0, [w, h])
    return xyxy.astype(np.float32), score.astype(np.float32), kpts.astype(np.float32)
