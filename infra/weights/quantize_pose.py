"""Quantise the YOLO11n-pose ONNX model to INT8 (QDQ, per-channel weights) for ONNX Runtime's CPU.

Static quantisation with `onnxruntime.quantization`, calibrated on real frames: evenly stepped
frames of a video and/or the images of a folder, each letterboxed exactly as the server does
(`server.pipeline.pose_ops.letterbox`). Two graph changes make it faster on the CPU:

- `--head raw` (default) cuts the head's decode off (DFL softmax, anchor and stride
  arithmetic over every anchor): the model ends with the raw maps of each stride, and the
  server decodes only the anchors over the score threshold (`pose_ops.head_candidates`).
  Those maps come from the head's last convs, kept float32 (one int8 scale cannot hold box
  bins, logits and keypoints alike).
- `--input uint8` (default) makes the model take the letterboxed frame's bytes: the first
  QuantizeLinear is removed and its scale set to exactly 1/255, which is what the float
  model's input division did, so the stem conv is quantised with no calibration error and
  the server skips a float conversion of every frame.

Needs `onnx` and `onnxruntime` (1.32.0) plus OpenCV or PyAV to read frames; run it from the
repository root with the export venv, where `onnx==1.23.2` and `opencv-python-headless` already
are and `onnxruntime==1.32.0` is added:

    .venv-export/bin/python infra/weights/quantize_pose.py weights/yolo11n-pose.onnx \\
        weights/yolo11n-pose-int8.onnx --video media/demo/vtest.mp4 --images tests/data \\
        --frame-size 640x360

Defaults (measured on vtest at 640x360 against Ultralytics at imgsz 640): percentile 99.999
calibration (MinMax lowered scores by ~0.045 and lost marginal people), the head's last convs
left float32 (`--exclude final`); with a float32 input the stem conv stays float32 too.

Deterministic: the same inputs give the same bytes (fixed frame choice; checked by sha256).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from server.pipeline.pose_ops import letterbox  # noqa: E402  (numpy only; after sys.path)

logger = logging.getLogger("quantize_pose")

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
HEAD_RE = re.compile(r"^/model\.(\d+)/")
# The last conv of each head branch: box distances (cv2), class logit (cv3), keypoints (cv4).
FINAL_CONV_RE = re.compile(r"/cv[234]\.\d+/cv[234]\.\d+\.2/Conv$")
BRANCH_RE = re.compile(r"/cv[234]\.\d+/")  # the head's conv branches (convs and their SiLUs)
EXCLUDE_MODES = ("decode", "final", "head", "none")
RAW_PREFIX = "/shopguard_head/"  # the nodes `cut_decode` adds
INPUT_SCALE = 1.0 / 255.0  # the float model's input is the frame's bytes / 255
DYNAMIC_HW = (384, 640)  # calibration size for dynamic-shape models unless --input-hw
Frame = npt.NDArray[np.uint8]


def parse_size(text: str, order: str) -> tuple[int, int]:
    """`"640x360"` → (640, 360); `order` names the two parts for messages ("WxH" or "HxW")."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"expected {order} such as 640x360, got {text!r}")
    return int(parts[0]), int(parts[1])


def read_image(path: Path) -> Frame:
    """A BGR uint8 image, read with OpenCV when installed, else with PyAV."""
    try:
        import cv2  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        import av

        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            return np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read image {path}")
    return np.asarray(image, dtype=np.uint8)


def video_frames(path: Path, start: int, step: int) -> Iterator[Frame]:
    """Frames `start`, `start + step`, … of a video, BGR uint8 (OpenCV, else PyAV)."""
    try:
        import cv2  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        import av

        with av.open(str(path)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index >= start and (index - start) % step == 0:
                    yield np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
        return
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"cannot open video {path}")
    try:
        index = 0
        while True:
            ok, image = capture.read()
            if not ok:
                break
            if index >= start and (index - start) % step == 0:
                yield np.asarray(image, dtype=np.uint8)
            index += 1
    finally:
        capture.release()


def resize(image: Frame, size_wh: tuple[int, int]) -> Frame:
    """`image` resized to `size_wh` (area averaging with OpenCV, else bilinear)."""
    if (image.shape[1], image.shape[0]) == size_wh:
        return image
    try:
        import cv2  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        from server.pipeline.pose_ops import resize_bilinear

        out = resize_bilinear(image, *size_wh)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return np.asarray(cv2.resize(image, size_wh, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def calibration_frames(
    videos: list[Path],
    images: list[Path],
    *,
    count: int,
    start: int,
    step: int,
    frame_size: tuple[int, int] | None,
) -> list[Frame]:
    """Up to `count` frames: every `step`-th video frame from `start`, then folder images.

    `frame_size` (width, height) resizes video frames, e.g. to the 640x360 analysis stream.
    """
    files = sorted(
        path
        for folder in images
        for path in folder.iterdir()
        if path.suffix.lower() in IMAGE_SUFFIXES
    )
    frames = [read_image(path) for path in files][:count]
    wanted = count - len(frames)
    per_video = -(-wanted // len(videos)) if videos and wanted > 0 else 0
    for video in videos:
        taken = 0
        for frame in video_frames(video, start, step):
            if taken >= per_video or len(frames) >= count:
                break
            frames.append(resize(frame, frame_size) if frame_size else frame)
            taken += 1
    if not frames:
        raise SystemExit("no calibration frames: pass --video and/or --images")
    logger.info(
        "%d calibration frames (%d images, %d video)",
        len(frames),
        len(files),
        len(frames) - min(len(files), count),
    )
    return frames


def model_input(model_path: Path) -> tuple[str, tuple[int, int] | None]:
    """The model's input name and static (height, width), or None when dynamic."""
    import onnx  # type: ignore[import-not-found, unused-ignore]

    graph = onnx.load(str(model_path), load_external_data=False).graph
    initializers = {init.name for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    dims = inputs[0].type.tensor_type.shape.dim
    sides = [d.dim_value if d.HasField("dim_value") else 0 for d in dims[2:4]]
    return inputs[0].name, (sides[0], sides[1]) if all(sides) else None


def excluded_nodes(model_path: Path, mode: str, *, keep_stem: bool = True) -> list[str]:
    """Names of the nodes left in float32 for the exclusion `mode`.

    decode: the head's nodes after its conv branches: DFL, box/keypoint decode, final concat
            (or, on a raw head, the concats of its outputs);
    final:  decode plus the last conv of every head branch (raw box, score, keypoint outputs);
    head:   every node of the head; none: nothing.
    All but none also keep the stem (`/model.0/`, the 3-channel first conv and its SiLU)
    when `keep_stem`.
    """
    import onnx  # type: ignore[import-not-found, unused-ignore]

    if mode == "none":
        return []
    nodes = onnx.load(str(model_path), load_external_data=False).graph.node
    indices = [int(m.group(1)) for n in nodes if (m := HEAD_RE.match(n.name))]
    if not indices:
        msg = f"{model_path}: node names are not Ultralytics' /model.N/…; use --exclude none"
        raise SystemExit(msg)
    prefix = f"/model.{max(indices)}/"
    head = [n for n in nodes if n.name.startswith((prefix, RAW_PREFIX))]
    stem = [n.name for n in nodes if keep_stem and n.name.startswith("/model.0/")]
    if mode == "head":
        return stem + [n.name for n in head]
    names = stem + [n.name for n in head if not BRANCH_RE.search(n.name)]
    if mode == "final":
        names += [n.name for n in head if n.op_type == "Conv" and FINAL_CONV_RE.search(n.name)]
    return names


def cut_decode(source: Path, target: Path) -> None:
    """Write `source` without its head's decode: one output per stride, `head{i}` (B, 4·16 + 1
    + 3K, h, w), the concat of that stride's last box, score and keypoint convs."""
    import onnx  # type: ignore[import-not-found, unused-ignore]
    from onnx import TensorProto, helper  # type: ignore[import-not-found, unused-ignore]

    model = onnx.load(str(source))
    graph = model.graph
    finals: dict[int, dict[str, str]] = {}
    for node in graph.node:
        if node.op_type == "Conv" and (match := FINAL_CONV_RE.search(node.name)):
            branch, stride = re.findall(r"/cv([234])\.(\d+)/", match.group(0))[0]
            finals.setdefault(int(stride), {})[branch] = node.output[0]
    if not finals or any(sorted(f) != ["2", "3", "4"] for f in finals.values()):
        raise SystemExit(f"{source}: no YOLO pose head (cv2/cv3/cv4 last convs) found")
    outputs = []
    for stride in sorted(finals):
        name = f"head{stride}"
        maps = [finals[stride][branch] for branch in ("2", "3", "4")]
        graph.node.append(
            helper.make_node("Concat", maps, [name], axis=1, name=f"{RAW_PREFIX}Concat_{stride}")
        )
        shape = ["batch", None, f"height{stride}", f"width{stride}"]
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
    del graph.output[:]
    graph.output.extend(outputs)
    needed = {output.name for output in outputs}
    kept = []
    for node in reversed(list(graph.node)):  # keep what the new outputs depend on
        if needed.intersection(node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    for field in (graph.initializer, graph.value_info):
        live = [item for item in field if item.name in needed]
        del field[:]
        field.extend(live)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    logger.info("raw head: %d outputs, %d nodes", len(outputs), len(kept))


def take_uint8_input(path: Path) -> None:
    """Make the quantised model at `path` take uint8 frames: drop the QuantizeLinear of its
    input and give the DequantizeLinear after it the exact scale 1/255, zero point 0."""
    import onnx  # type: ignore[import-not-found, unused-ignore]
    from onnx import TensorProto, numpy_helper  # type: ignore[import-not-found, unused-ignore]

    model = onnx.load(str(path))
    graph = model.graph
    name = graph.input[0].name
    found = [n for n in graph.node if n.op_type == "QuantizeLinear" and n.input[0] == name]
    if len(found) != 1:
        raise SystemExit(f"{path}: expected one QuantizeLinear on the input, found {len(found)}")
    quantize_node = found[0]
    initializers = {init.name: init for init in graph.initializer}
    scale, zero_point = quantize_node.input[1], quantize_node.input[2]
    logger.info(
        "uint8 input: calibrated input scale %.6f replaced by 1/255",
        float(numpy_helper.to_array(initializers[scale])),
    )
    initializers[scale].CopyFrom(numpy_helper.from_array(np.float32(INPUT_SCALE), scale))
    initializers[zero_point].CopyFrom(numpy_helper.from_array(np.uint8(0), zero_point))
    graph.node.remove(quantize_node)
    for node in graph.node:
        for index, value in enumerate(node.input):
            if value == quantize_node.output[0]:
                node.input[index] = name
    graph.input[0].type.tensor_type.elem_type = TensorProto.UINT8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


class FrameReader:
    """ONNX Runtime calibration reader over frames letterboxed into `input_hw`, with progress.

    One size for all: ONNX Runtime's histogram calibrators stack each tensor over the frames.
    """

    def __init__(self, input_name: str, frames: list[Frame], input_hw: tuple[int, int]) -> None:
        self.input_name = input_name
        self.frames = frames
        self.input_hw = input_hw
        self.index = 0
        self.started = time.monotonic()

    def get_next(self) -> dict[str, npt.NDArray[np.float32]] | None:
        """The next input feed, or None when all frames were given."""
        if self.index >= len(self.frames):
            return None
        tensor, _ = letterbox(self.frames[self.index], self.input_hw)
        self.index += 1
        if self.index % 10 == 0 or self.index == len(self.frames):
            elapsed = time.monotonic() - self.started
            logger.info("calibrating: %d/%d frames (%.0f s)", self.index, len(self.frames), elapsed)
        return {self.input_name: tensor}

    def rewind(self) -> None:
        """Start over (ONNX Runtime may read the data more than once)."""
        self.index = 0


def quantize(
    source: Path,
    target: Path,
    frames: list[Frame],
    *,
    input_hw: tuple[int, int] | None,
    exclude: str,
    method: str,
    percentile: float = 99.999,
    preprocess: bool = True,
    raw_head: bool = True,
    uint8_input: bool = True,
) -> None:
    """Write the INT8 QDQ model for `source` to `target`."""
    input_name, static_hw = model_input(source)
    hw = static_hw or input_hw or DYNAMIC_HW
    if static_hw and input_hw and input_hw != static_hw:
        raise SystemExit(f"{source} takes {static_hw[0]}x{static_hw[1]}, not --input-hw {input_hw}")
    with tempfile.TemporaryDirectory(prefix="quantize-pose-") as tmp:
        if raw_head:
            cut = Path(tmp) / "raw_head.onnx"
            cut_decode(source, cut)
            source = cut
        _quantize(
            source,
            target,
            FrameReader(input_name, frames, hw),
            hw=hw,
            excluded=excluded_nodes(source, exclude, keep_stem=not uint8_input),
            exclude=exclude,
            method=method,
            percentile=percentile,
            preprocess=preprocess,
        )
    if uint8_input:
        take_uint8_input(target)


def _quantize(
    source: Path,
    target: Path,
    reader: FrameReader,
    *,
    hw: tuple[int, int],
    excluded: list[str],
    exclude: str,
    method: str,
    percentile: float,
    preprocess: bool,
) -> None:
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    logger.info(
        "input %dx%d; %d nodes left float32 (--exclude %s)",
        *hw,
        len(excluded),
        exclude,
    )
    calib = {
        "minmax": CalibrationMethod.MinMax,
        "percentile": CalibrationMethod.Percentile,
        "entropy": CalibrationMethod.Entropy,
    }[method]
    extra: dict[str, Any] = {"CalibPercentile": percentile} if method == "percentile" else {}
    with tempfile.TemporaryDirectory(prefix="quantize-pose-") as tmp:
        model = source
        if preprocess:
            model = Path(tmp) / "pre.onnx"
            logger.info("pre-processing (shape inference, graph optimisation)")
            quant_pre_process(str(source), str(model), skip_symbolic_shape=True)
        partial = target.with_name(target.name + ".partial")
        quantize_static(
            str(model),
            str(partial),
            reader,
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=calib,
            nodes_to_exclude=excluded,
            extra_options=extra,
        )
    partial.replace(target)


def main(argv: list[str] | None = None) -> int:
    """Command line; 0 on success."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path, help="float32 ONNX model (Ultralytics export)")
    parser.add_argument("target", type=Path, help="INT8 ONNX model to write")
    parser.add_argument(
        "--video", type=Path, action="append", default=[], help="calibration video (repeatable)"
    )
    parser.add_argument(
        "--images",
        type=Path,
        action="append",
        default=[],
        help="folder of calibration images (repeatable)",
    )
    parser.add_argument("--frames", type=int, default=100, help="calibration frames (100)")
    parser.add_argument("--video-start", type=int, default=3, help="first video frame (3)")
    parser.add_argument("--video-step", type=int, default=8, help="take every Nth frame (8)")
    parser.add_argument(
        "--frame-size",
        type=lambda t: parse_size(t, "WxH"),
        default=None,
        help="resize video frames to WxH first, e.g. 640x360 (sub-stream)",
    )
    parser.add_argument(
        "--input-hw",
        type=lambda t: parse_size(t, "HxW"),
        default=None,
        help="dynamic-shape models: calibrate at this HxW (384x640, a 640x360 frame at 1:1)",
    )
    parser.add_argument(
        "--exclude",
        choices=EXCLUDE_MODES,
        default="final",
        help="what stays float32: stem and head decode, plus the head's last convs (final)",
    )
    parser.add_argument(
        "--method",
        choices=("minmax", "percentile", "entropy"),
        default="percentile",
        help="calibration method (percentile)",
    )
    parser.add_argument(
        "--percentile",
        type=float,
        default=99.999,
        help="activation range percentile for --method percentile (99.999)",
    )
    parser.add_argument(
        "--head",
        choices=("raw", "decoded"),
        default="raw",
        help="raw: cut the decode off, the server decodes the few candidates (raw)",
    )
    parser.add_argument(
        "--input",
        choices=("uint8", "float32"),
        default="uint8",
        help="uint8: the model takes the frame's bytes, stem quantised at 1/255 (uint8)",
    )
    parser.add_argument(
        "--no-preprocess",
        dest="preprocess",
        action="store_false",
        help="skip ONNX Runtime's quantisation pre-processing",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[quantize] %(message)s")
    if not args.source.is_file():
        parser.error(f"{args.source} not found")
    frames = calibration_frames(
        args.video,
        args.images,
        count=args.frames,
        start=args.video_start,
        step=args.video_step,
        frame_size=args.frame_size,
    )
    started = time.monotonic()
    quantize(
        args.source,
        args.target,
        frames,
        input_hw=args.input_hw,
        exclude=args.exclude,
        method=args.method,
        percentile=args.percentile,
        preprocess=args.preprocess,
        raw_head=args.head == "raw",
        uint8_input=args.input == "uint8",
    )
    digest = hashlib.sha256(args.target.read_bytes()).hexdigest()
    logger.info(
        "wrote %s (%.1f MB, sha256 %s…) in %.0f s",
        args.target,
        args.target.stat().st_size / 1e6,
        digest[:12],
        time.monotonic() - started,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
