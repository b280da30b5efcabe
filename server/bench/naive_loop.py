"""The seeds' naive loop, for comparison: one thread per camera reads a frame with OpenCV and
calls Ultralytics YOLO pose at 640 on it, over and over.

Runs in the export venv (`.venv-export`: torch, Ultralytics, OpenCV), never in the server:

    .venv-export/bin/python server/bench/naive_loop.py --model weights/yolo11n-pose.pt \\
        --video media/bench/sub_360p25.mp4 --cameras 2 --warmup 5 --seconds 20 --mode every

With `--reference OUT.npz` it instead saves Ultralytics' poses on sampled frames, the
reference the server's pose backend is compared with.

Each camera plays its file as a live stream: frame n arrives `n / fps` seconds after the
thread's start. Two ways of reading it:

- `every` (the seeds' loop as it was): read the next frame, call the model on it, repeat.
  Frames that arrive meanwhile wait in order, as an RTSP client's socket and FFmpeg buffers
  hold them, so a loop slower than the stream falls behind and its latency grows without
  bound (FIELD-NOTES: 27-38 s after 45 s over a real RTSP server).
- `latest` (a kinder variant, for comparison): before each model call the thread reads
  (decodes) its way through the frames that arrived meanwhile and analyses only the newest,
  so it sheds load instead of lagging; it still pays for decoding every frame.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any


def register_torchvision_nms() -> None:
    """PyPI's torchvision beside CPU torch 2.13 lacks its compiled `nms` op: register a
    pure-torch one under the same name before Ultralytics imports torchvision."""
    import torch

    def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
        order = torch.argsort(scores, descending=True, stable=True)
        x1, y1, x2, y2 = boxes.unbind(1)
        area = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
        keep = []
        while order.numel():
            first, rest = order[0], order[1:]
            keep.append(first)
            w = (torch.minimum(x2[first], x2[rest]) - torch.maximum(x1[first], x1[rest])).clamp(0)
            h = (torch.minimum(y2[first], y2[rest]) - torch.maximum(y1[first], y1[rest])).clamp(0)
            inter = w * h
            order = rest[inter / (area[first] + area[rest] - inter) <= iou_threshold]
        return torch.stack(keep) if keep else torch.empty(0, dtype=torch.long)

    library = torch.library.Library("torchvision", "DEF")  # type: ignore[no-untyped-call,unused-ignore]
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")  # type: ignore[no-untyped-call,unused-ignore]
    library.impl("nms", nms, "CPU")  # type: ignore[no-untyped-call,unused-ignore]
    library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")  # type: ignore[no-untyped-call,unused-ignore]
    register_torchvision_nms.library = library  # type: ignore[attr-defined]
    import torchvision.extension

    torchvision.extension._has_ops = lambda: True


def load_model(path: Path) -> Any:
    config = Path(sys.prefix) / "ultralytics-config"
    config.mkdir(exist_ok=True)
    os.environ.update(YOLO_OFFLINE="1", YOLO_AUTOINSTALL="false", YOLO_CONFIG_DIR=str(config))
    import ultralytics

    ultralytics.settings.update({"sync": False})
    return ultralytics.YOLO(str(path.resolve()), task="pose")


class LiveFile:
    """A file played as a live stream from `start`: frame n arrives at `start + n / fps`."""

    def __init__(self, video: Path, start: float) -> None:
        import cv2

        self.video, self.start = video, start
        self.capture = cv2.VideoCapture(str(video))
        self.fps = self.capture.get(cv2.CAP_PROP_FPS) or 25.0
        self.position = 0  # frames read so far

    def read(self) -> tuple[Any, float]:
        """The next frame in order (looping) and its arrival time; waits until it arrives."""
        import cv2

        ok, frame = self.capture.read()
        if not ok:  # end of file: loop
            self.capture.release()
            self.capture = cv2.VideoCapture(str(self.video))
            ok, frame = self.capture.read()
        arrived = self.start + self.position / self.fps
        self.position += 1
        time.sleep(max(0.0, arrived - time.monotonic()))
        return frame, arrived

    def arrived(self) -> int:
        """How many frames have arrived by now."""
        return int((time.monotonic() - self.start) * self.fps) + 1


class RtspStream:
    """A real RTSP camera read in order by OpenCV (FFmpeg). Frame times come from the stream:
    a frame arrived at the first frame's read time plus its presentation-time offset."""

    def __init__(self, url: str) -> None:
        import cv2

        self.capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
        if not self.capture.isOpened():
            raise RuntimeError(f"cannot open {url}")
        self.first: tuple[float, float] | None = None  # (monotonic read time, pts seconds)

    def read(self) -> tuple[Any, float]:
        import cv2

        ok, frame = self.capture.read()
        if not ok:
            raise RuntimeError("the RTSP stream ended")
        pts = self.capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if self.first is None:
            self.first = (time.monotonic(), pts)
        return frame, self.first[0] + (pts - self.first[1])


def camera(
    index: int,
    model_path: Path,
    video: str,
    mode: str,
    start: float,
    end: float,
    warmup_end: float,
    out: dict[int, dict[str, Any]],
) -> None:
    model = load_model(model_path)
    stream = RtspStream(video) if video.startswith("rtsp://") else LiveFile(Path(video), start)
    analysed, latencies = 0, []
    while time.monotonic() < end:
        frame, arrived = stream.read()
        if mode == "latest" and isinstance(stream, LiveFile):
            # read through what arrived meanwhile; analyse the newest
            while stream.position < stream.arrived():
                frame, arrived = stream.read()
        model.predict(frame, imgsz=640, conf=0.25, iou=0.7, device="cpu", verbose=False)
        done = time.monotonic()
        if warmup_end <= done < end:
            analysed += 1
            latencies.append((done - arrived) * 1000.0)
    measured = end - warmup_end
    latencies.sort()
    out[index] = {
        "fps": analysed / measured,
        "latency_p50_ms": statistics.median(latencies) if latencies else float("inf"),
        "latency_p95_ms": latencies[int(0.95 * (len(latencies) - 1))]
        if latencies
        else float("inf"),
    }


def reference(model_path: Path, video: Path, every: int, count: int, out: Path) -> None:
    """Ultralytics at 640 on every `every`-th frame of `video` (up to `count`), saved as npz:
    per detection its frame index, box, keypoints and their confidences."""
    import cv2
    import numpy as np

    model = load_model(model_path)
    capture = cv2.VideoCapture(str(video))
    rows: dict[str, list[Any]] = {"frame": [], "xyxy": [], "keypoints": [], "conf": []}
    index = taken = 0
    while taken < count:
        ok, image = capture.read()
        if not ok:
            break
        if index % every == 0:
            found = model.predict(image, imgsz=640, conf=0.25, iou=0.7, device="cpu", verbose=False)
            people = found[0]
            rows["frame"].append(np.full(len(people.boxes), index, np.int32))
            rows["xyxy"].append(people.boxes.xyxy.numpy().astype(np.float32))
            rows["keypoints"].append(people.keypoints.xy.numpy().astype(np.float32))
            rows["conf"].append(people.keypoints.conf.numpy().astype(np.float32))
            taken += 1
        index += 1
    arrays = {k: np.concatenate(v) for k, v in rows.items()}
    np.savez(out, frames=np.int32(taken), **arrays)  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument(
        "--video",
        required=True,
        help="a video file played live, or an rtsp:// URL (read in order: --mode every only)",
    )
    parser.add_argument("--cameras", type=int, default=1)
    parser.add_argument(
        "--mode",
        choices=("every", "latest"),
        default="every",
        help="every: the seeds' loop, each frame in order; latest: skip to the newest",
    )
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--reference", type=Path, help="write reference poses here instead")
    parser.add_argument("--every", type=int, default=10, help="reference: every n-th frame")
    parser.add_argument("--frames", type=int, default=60, help="reference: how many frames")
    args = parser.parse_args()
    register_torchvision_nms()
    if args.reference is not None:
        reference(args.model, Path(args.video), args.every, args.frames, args.reference)
        return 0
    load_model(args.model)  # import and first load outside the timed run
    start = time.monotonic() + 2.0  # threads load their models meanwhile
    warmup_end = start + args.warmup
    end = warmup_end + args.seconds
    results: dict[int, dict[str, Any]] = {}
    cpu0 = sum(os.times()[:2])
    threads = [
        threading.Thread(
            target=camera,
            args=(i, args.model, args.video, args.mode, start, end, warmup_end, results),
        )
        for i in range(args.cameras)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = sum(os.times()[:2]) - cpu0
    fps = [results[i]["fps"] for i in sorted(results)]
    sys.stdout.write(
        json.dumps(
            {
                "cameras": args.cameras,
                "mode": args.mode,
                "fps_min": min(fps),
                "fps_mean": statistics.fmean(fps),
                "latency_p50_ms": statistics.median(r["latency_p50_ms"] for r in results.values()),
                "latency_p95_ms_max": max(r["latency_p95_ms"] for r in results.values()),
                "cpu_share": cpu / ((end - start + 2.0) * (os.cpu_count() or 1)),
            }
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
