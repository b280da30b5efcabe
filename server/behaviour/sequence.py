"""⑥ the temporal model: a person's last seconds of keypoints as a sequence, scored by a
small temporal convolutional network on ONNX Runtime (no torch at run time).

The same code makes the network's inputs in training (`training/temporal/`, a window
ending at every pose of every PoseLift track) and live (a window per live track, ending
now), so an input means the same everywhere:
- each window is `spec.steps` grid times `spec.step_s` apart, ending at its end time, with
  the tracks resampled onto them by `resample.py` (a keypoint under `min_conf` is unknown;
  gaps up to `max_gap_s` are filled in along time, as `features.py` does). Only poses up to
  the end count, so a window over a whole PoseLift track equals one over the live tracker's
  history ending then;
- keypoints are relative to the body's centre at each step (the hip centre, else one torso
  length below the shoulders, else the box centre) and in torso lengths (the window's
  median shoulder-to-hip length, else `TORSO_PER_BOX_HEIGHT` box heights); velocities are
  in torso lengths per second; the box's centre is relative to where it was last seen in
  the window. Unknown values are 0, with a flag per keypoint (`*_known`) and per step
  (`box_seen`); every value is clipped to +-`spec.clip`.

The model file is `behaviour-tcn.onnx` (input `sequence`, (batch, channel, step) float32;
output `probability`, (batch, 1)) with `behaviour-tcn.json` beside it: the format, the
`SequenceSpec`, the ordered channel names, the ONNX file's sha256 and how it was trained.
Both have sha256 sidecars; `SequenceModel.load` checks all of it.

Example:
    >>> model = SequenceModel.load(Path("weights/behaviour-tcn.onnx"))
    >>> raw = model.raw_scores(sequence_inputs(histories, ends, model.spec))  # (N,)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from server.behaviour.features import MIN_SCALE_PX, TORSO_PER_BOX_HEIGHT
from server.behaviour.geometry import F32, HIPS, SHOULDERS, nanmedian, norm, pair_mean
from server.behaviour.resample import NUM_POINTS, Timeline
from server.errors import ModelError
from server.records.people import NUM_KEYPOINTS, TrackHistory
from server.weights import is_recorded, sha256_of, sha_path

SEQUENCE_FORMAT = "shopguard.sequence/1"
SEQUENCE_MODEL_NAME = "behaviour-tcn.onnx"
INPUT_NAME = "sequence"
OUTPUT_NAME = "probability"
TRAIN_HINT = "train one with `python -m training.temporal train`"

KEYPOINT_NAMES = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
# one step's values, in this order along the input's channel axis
CHANNELS: tuple[str, ...] = (
    *(
        f"{name}_{axis}" for name in KEYPOINT_NAMES for axis in "xy"
    ),  # torso lengths from the centre
    *(f"{name}_known" for name in KEYPOINT_NAMES),  # 1: known (seen or filled in), 0: unknown
    *(f"{name}_v{axis}" for name in KEYPOINT_NAMES for axis in "xy"),  # torso lengths/s
    "box_x",  # box centre from where it was last seen in the window, torso lengths
    "box_y",
    "box_w",  # box size, torso lengths
    "box_h",
    "box_vx",  # box centre velocity, torso lengths/s
    "box_vy",
    "box_seen",  # 1: the person is tracked at this step
)
_EPS_S = 1e-6  # a grid time this close to a frame's takes that frame (as `resample.py`)
_CHUNK = 2048  # windows made at once: ~30 MB of temporaries


@dataclass(frozen=True, slots=True)
class SequenceSpec:
    """How a window is cut and resampled. Stored with a model: inputs only compare under
    the same spec."""

    steps: int = 20  # grid times per window, the last at the window's end
    step_s: float = 0.2  # grid spacing: 5 Hz, the slowest analysis rate we run
    max_gap_s: float = 0.5  # longest gap in a point's frames that is filled in
    min_conf: float = 0.3  # keypoints under this confidence are unknown
    clip: float = 10.0  # every input value is clipped to +-clip

    def __post_init__(self) -> None:
        if not self.steps >= 2:
            raise ValueError(f"steps: must be at least 2, got {self.steps}")
        if not (self.step_s > 0 and math.isfinite(self.step_s)):
            raise ValueError(f"step_s: must be positive, got {self.step_s}")
        if not (0 <= self.max_gap_s < math.inf):
            raise ValueError(f"max_gap_s: must be >= 0, got {self.max_gap_s}")
        if not 0 <= self.min_conf <= 1:
            raise ValueError(f"min_conf: must be within 0..1, got {self.min_conf}")
        if not (self.clip > 0 and math.isfinite(self.clip)):
            raise ValueError(f"clip: must be positive, got {self.clip}")

    @property
    def window_s(self) -> float:
        """The window's length: `steps` steps of `step_s` (4 s at 5 Hz), the first step's
        time `step_s` after its start."""
        return self.steps * self.step_s

    @property
    def history_s(self) -> float:
        """Seconds of history a live track must keep for a full window."""
        return (self.steps - 1) * self.step_s + self.max_gap_s


DEFAULT_SEQUENCE_SPEC = SequenceSpec()


def sequence_inputs(
    histories: Sequence[TrackHistory],
    end_ts: Sequence[npt.ArrayLike] | None = None,
    spec: SequenceSpec = DEFAULT_SEQUENCE_SPEC,
) -> F32:
    """The network's inputs for many tracks, each over windows ending at its own end times.

    Args:
        histories: the tracks.
        end_ts: for each track, the end times (seconds) of its windows, shape (E_i,);
            None for a window ending at each of its frames (training).
    Returns:
        shape (sum E_i, len(CHANNELS), spec.steps), float32, finite: track by track, and
        within a track in the order of its end times.
    """
    ends = [h.ts for h in histories] if end_ts is None else [np.ravel(e) for e in end_ts]
    if len(ends) != len(histories):
        raise ValueError(f"end_ts: {len(ends)} arrays for {len(histories)} tracks")
    t_end = np.concatenate([np.zeros(0), *ends]).astype(np.float64)
    if not np.isfinite(t_end).all():
        raise ValueError("end_ts: must be finite")
    out = np.zeros((len(t_end), len(CHANNELS), spec.steps), np.float32)
    if len(t_end) == 0:
        return out
    track = np.repeat(np.arange(len(ends)), [len(e) for e in ends])
    timeline = Timeline.build(histories, min_conf=spec.min_conf, margin_s=spec.max_gap_s + 1.0)
    before_end = spec.step_s * np.arange(spec.steps - 1, -1, -1)  # (T,) seconds, oldest first
    for lo in range(0, len(t_end), _CHUNK):
        chunk = slice(lo, lo + _CHUNK)
        n = len(t_end[chunk])
        times = t_end[chunk, None] - before_end  # (W, T)
        points = _sample_until(
            timeline,
            np.repeat(track[chunk], spec.steps),
            times.ravel(),
            np.repeat(t_end[chunk], spec.steps),
            spec.max_gap_s,
        ).reshape(n, spec.steps, NUM_POINTS, 2)
        out[chunk] = _channels(points, spec)
    return out


def _sample_until(
    timeline: Timeline,
    track: npt.NDArray[np.int64],
    t: npt.NDArray[np.float64],
    end: npt.NDArray[np.float64],
    max_gap_s: float,
) -> npt.NDArray[np.float32]:
    """`timeline.sample`, but as if each track ended at `end[q]`: a point unknown at `t[q]`
    is not filled in from a frame after `end[q]` (live, such a frame has not happened).

    Returns:
        shape (Q, NUM_POINTS, 2), pixels, NaN where unknown.
    """
    points = timeline.sample(track, t, max_gap_s)
    n = len(timeline.ts)
    if n == 0:
        return points
    shift = timeline.shift[track]
    last_frame = np.searchsorted(timeline.ts, end + shift + _EPS_S, side="right") - 1  # (Q,)
    q = t + shift
    i = np.searchsorted(timeline.ts, q, side="right") - 1  # the last frame at or before q
    left = np.where(i[:, None] >= 0, timeline.prev_known[np.maximum(i, 0)], -1)
    right = np.where(i[:, None] + 1 < n, timeline.next_known[np.minimum(i + 1, n - 1)], n)
    at_left = (left >= 0) & (q[:, None] - timeline.ts[np.clip(left, 0, n - 1)] <= _EPS_S)
    from_future = ~at_left & (right > last_frame[:, None])  # (Q, NUM_POINTS)
    return np.where(from_future[..., None], np.float32(np.nan), points)


def _channels(points: F32, spec: SequenceSpec) -> F32:
    """(W, T, NUM_POINTS, 2) resampled windows -> (W, len(CHANNELS), T) network inputs."""
    n, steps = points.shape[:2]
    kp, box = points[:, :, :NUM_KEYPOINTS], points[:, :, NUM_KEYPOINTS:]  # (W, T, K|2, 2)
    known = ~np.isnan(kp[..., 0])  # (W, T, K)
    seen = ~np.isnan(box[:, :, 0, 0])  # (W, T)
    box_h = nanmedian(box[:, :, 1, 1] - box[:, :, 0, 1])  # (W,)
    torso = nanmedian(norm(kp[:, :, SHOULDERS] - kp[:, :, HIPS]).reshape(n, -1))
    scale = np.where(np.isnan(torso), TORSO_PER_BOX_HEIGHT * box_h, torso)
    scale = np.where(scale >= MIN_SCALE_PX, scale, np.nan)  # NaN: nothing to measure by
    s = scale[:, None, None]  # (W, 1, 1)
    centre_box = box.mean(axis=2)  # (W, T, 2)
    down = np.stack([np.zeros_like(s), s], axis=-1)[:, :, 0]  # (W, 1, 2)
    centre = pair_mean(kp[:, :, HIPS])
    centre = np.where(np.isnan(centre), pair_mean(kp[:, :, SHOULDERS]) + down, centre)
    centre = np.where(np.isnan(centre), centre_box, centre)
    rel = (kp - centre[:, :, None]) / s[..., None]  # (W, T, K, 2)
    velocity = np.diff(kp, axis=1, prepend=np.nan) / spec.step_s / s[..., None]
    last = steps - 1 - np.argmax(seen[:, ::-1], axis=1)  # last seen step (any if none)
    box_rel = (centre_box - centre_box[np.arange(n), last][:, None]) / s
    size = (box[:, :, 1] - box[:, :, 0]) / s
    box_velocity = np.diff(centre_box, axis=1, prepend=np.nan) / spec.step_s / s
    values = np.concatenate(
        [
            rel.reshape(n, steps, -1),
            known.astype(np.float32),
            velocity.reshape(n, steps, -1),
            box_rel,
            size,
            box_velocity,
            seen[..., None].astype(np.float32),
        ],
        axis=-1,
    )  # (W, T, C)
    values = np.clip(np.nan_to_num(values, nan=0.0), -spec.clip, spec.clip)
    return np.ascontiguousarray(values.transpose(0, 2, 1), np.float32)


def metadata_path(model_path: Path) -> Path:
    """The metadata JSON beside an ONNX model: `behaviour-tcn.onnx` -> `behaviour-tcn.json`."""
    return model_path.with_suffix(".json")


def metadata_document(
    spec: SequenceSpec, model_sha256: str, info: dict[str, Any]
) -> dict[str, Any]:
    """What the metadata JSON holds (written by training, checked by `SequenceModel.load`)."""
    return {
        "format": SEQUENCE_FORMAT,
        "model_sha256": model_sha256,
        "input": {
            "name": INPUT_NAME,
            "layout": ["batch", "channel", "step"],
            "spec": asdict(spec),
            "channels": list(CHANNELS),
            "normalisation": (
                "keypoints relative to the body centre at each step, in torso lengths "
                "(server/behaviour/sequence.py); unknown values 0; clipped to +-clip"
            ),
        },
        "output": {"name": OUTPUT_NAME, "shape": ["batch", 1]},
        "info": info,
    }


class SequenceModel:
    """The temporal network in an ONNX Runtime session (one thread), with its spec."""

    def __init__(self, session: Any, spec: SequenceSpec, info: dict[str, Any]) -> None:
        self.session, self.spec, self.info = session, spec, info

    def raw_scores(self, inputs: F32) -> npt.NDArray[np.float64]:
        """Each window's probability, shape (N,), for inputs (N, len(CHANNELS), steps)."""
        shape = (len(CHANNELS), self.spec.steps)
        if inputs.ndim != 3 or inputs.shape[1:] != shape:
            raise ValueError(f"inputs: shape must be (N, {shape[0]}, {shape[1]})")
        if len(inputs) == 0:
            return np.zeros(0, np.float64)
        feed = {INPUT_NAME: np.ascontiguousarray(inputs, np.float32)}
        (probability,) = self.session.run([OUTPUT_NAME], feed)
        return np.asarray(probability, np.float64).reshape(-1)

    def score(
        self, histories: Sequence[TrackHistory], end_ts: Sequence[npt.ArrayLike] | None = None
    ) -> npt.NDArray[np.float64]:
        """Each window's probability: `sequence_inputs` then `raw_scores`."""
        return self.raw_scores(sequence_inputs(histories, end_ts, self.spec))

    @classmethod
    def load(cls, path: Path) -> SequenceModel:
        """Read and check the ONNX model and its metadata; `ModelError` names the file and
        what is wrong."""
        meta = metadata_path(path)
        for file in (path, meta):
            if not file.is_file():
                raise ModelError(f"temporal model {file} not found: {TRAIN_HINT}")
            if sha_path(file).is_file() and not is_recorded(file):
                raise ModelError(
                    f"temporal model {file} does not match its sha256 (changed or damaged)"
                )
        spec, info = _read_metadata(meta, path)
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # a few people's windows: one core, no thread start-up
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime's own exception types (InvalidProtobuf, Fail…)
            raise ModelError(f"temporal model {path} is unreadable ({exc})") from exc
        _check_signature(session, spec, path)
        return cls(session, spec, info)


def _read_metadata(meta: Path, model: Path) -> tuple[SequenceSpec, dict[str, Any]]:
    """The spec and training info from the metadata, checked against this code and `model`."""
    try:
        document = json.loads(meta.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"temporal model metadata {meta} is not JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != SEQUENCE_FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise ModelError(
            f"temporal model metadata {meta}: format {found!r}, expected {SEQUENCE_FORMAT}"
        )
    try:
        spec = SequenceSpec(**document["input"]["spec"])
        channels = document["input"]["channels"]
        model_sha = document["model_sha256"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"temporal model metadata {meta}: bad or missing field ({exc})") from exc
    if channels != list(CHANNELS):
        raise ModelError(
            f"temporal model metadata {meta}: its channels differ from this code's "
            f"({_channels_differ(channels)}); retrain it"
        )
    if model_sha != sha256_of(model):
        raise ModelError(
            f"temporal model {model} is not the file its metadata {meta.name} describes "
            "(sha256 differs)"
        )
    info = document.get("info")
    return spec, info if isinstance(info, dict) else {}


def _check_signature(session: Any, spec: SequenceSpec, path: Path) -> None:
    """One float input (any batch, len(CHANNELS), spec.steps), one (batch, 1) output."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    wanted = [len(CHANNELS), spec.steps]
    if (
        len(inputs) != 1
        or inputs[0].name != INPUT_NAME
        or inputs[0].type != "tensor(float)"
        or len(inputs[0].shape) != 3
        or isinstance(inputs[0].shape[0], int)
        or list(inputs[0].shape[1:]) != wanted
    ):
        found = [(i.name, i.type, i.shape) for i in inputs]
        raise ModelError(
            f"temporal model {path}: input {found}, expected {INPUT_NAME!r} float of shape "
            f"[batch, {wanted[0]}, {wanted[1]}]"
        )
    if len(outputs) != 1 or outputs[0].name != OUTPUT_NAME or list(outputs[0].shape[1:]) != [1]:
        got = [(o.name, o.shape) for o in outputs]
        raise ModelError(
            f"temporal model {path}: output {got}, expected {OUTPUT_NAME!r} of shape [batch, 1]"
        )


def _channels_differ(channels: object) -> str:
    if not isinstance(channels, list):
        return "no channels list"
    missing = [c for c in CHANNELS if c not in channels]
    extra = [c for c in channels if c not in CHANNELS]
    if missing or extra:
        return f"missing {missing}, unknown {extra}"
    return "in another order"
