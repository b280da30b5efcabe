"""COCO-17 joint indices and NaN-aware array helpers that stay silent on all-NaN input.

NaN marks an unknown value throughout the feature code. numpy's `nanmean`, `nanmedian` and
`nanstd` warn on an all-NaN slice (and the test suite turns warnings into errors), so these
helpers count the known values themselves and return NaN where there are none.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
Floats = npt.NDArray[np.floating[Any]]  # what numpy's stubs make of float32 arithmetic

NOSE = 0
EARS = (3, 4)
SHOULDERS = (5, 6)  # left, right: every pair below is (left, right)
ELBOWS = (7, 8)
WRISTS = (9, 10)
HIPS = (11, 12)
ANKLES = (15, 16)


def nanmean(x: Floats, axis: int | tuple[int, ...]) -> F32:
    """Mean of the non-NaN values along `axis`; NaN where there are none."""
    known = ~np.isnan(x)
    total = np.where(known, x, 0).sum(axis=axis, dtype=np.float32)
    count = known.sum(axis=axis)
    out = np.full(total.shape, np.nan, np.float32)
    np.divide(total, count, out=out, where=count > 0)
    return out


def nanstd(x: Floats, axis: int) -> F32:
    """Standard deviation of the non-NaN values along `axis`; NaN where there are none."""
    mean = nanmean(x, axis)
    return np.sqrt(nanmean((x - np.expand_dims(mean, axis)) ** 2, axis))


def nanmax(x: Floats, axis: int | tuple[int, ...]) -> F32:
    """Max of the non-NaN values along `axis`; NaN where there are none."""
    return _reduce(np.fmax, x, axis)


def nanmin(x: Floats, axis: int | tuple[int, ...]) -> F32:
    """Min of the non-NaN values along `axis`; NaN where there are none."""
    return _reduce(np.fmin, x, axis)


def nanmedian(x: Floats) -> F32:
    """Median of the non-NaN values along the last axis; NaN where there are none."""
    ordered = np.sort(x, axis=-1)  # NaNs sort last
    count = (~np.isnan(x)).sum(axis=-1, keepdims=True)
    lo = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0), axis=-1)
    hi = np.take_along_axis(ordered, np.minimum(count // 2, x.shape[-1] - 1), axis=-1)
    return np.where(count > 0, (lo + hi) / 2, np.nan)[..., 0].astype(np.float32)


def pair_mean(pair: Floats) -> F32:
    """Mean of a (left, right) pair on axis -2, or the known one: (..., 2, C) -> (..., C)."""
    return nanmean(pair, axis=-2)


def norm(v: Floats) -> F32:
    """Length of vectors on the last axis; NaN if a component is."""
    return np.asarray(np.sqrt((v**2).sum(axis=-1)), np.float32)


def segment_distance(p: Floats, a: Floats, b: Floats) -> Floats:
    """Distance from points `p` to the segments `a`-`b` (all (..., 2)), same units; NaN if
    any is NaN. A zero-length segment measures to its point."""
    p, a, b = np.broadcast_arrays(p, a, b)
    ab = b - a
    length2 = (ab**2).sum(axis=-1)
    along = np.zeros_like(length2)
    np.divide(((p - a) * ab).sum(axis=-1), length2, out=along, where=length2 > 0)
    nearest = a + np.clip(along, 0, 1)[..., None] * ab
    return norm(p - nearest)


def share(hit: npt.ArrayLike, among: npt.ArrayLike, axis: int | tuple[int, ...]) -> F32:
    """Share of the `among` entries along `axis` where `hit` holds; NaN where there are none."""
    hit, among = np.broadcast_arrays(np.asarray(hit, bool), np.asarray(among, bool))
    count = among.sum(axis=axis)
    hits = (hit & among).sum(axis=axis)
    out = np.full(count.shape, np.nan, np.float32)
    np.divide(hits, count, out=out, where=count > 0)
    return out


def _reduce(op: np.ufunc, x: Floats, axis: int | tuple[int, ...]) -> F32:
    return np.asarray(op.reduce(x, axis=axis), np.float32)  # fmax/fmin: NaN-skipping
