"""A local RTSP "camera" for tests: GStreamer serving an H.264 file in a loop, not re-encoded.

Run by Debian's /usr/bin/python3 (python3-gi imports only there, not in the venv); the tests
start it through `tests.pipeline.live_servers.RtspServer`:

    /usr/bin/python3 tests/pipeline/rtsp_server.py clip.mp4 --port 0 --name cam
    READY 40123          (stdout, once listening; then serves rtsp://127.0.0.1:40123/cam)

The file (MP4, MKV or TS) is demuxed once into memory; an `appsrc` then plays its packets as
a live stream, shifting their timestamps by one clip length per loop, so a client sees one
endless stream. Every client gets its own stream, from the first keyframe. `--check` exits
0 when everything this needs is installed, 1 with the reason on stdout otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Any

LOAD_TIMEOUT_S = 20.0
ELEMENTS = ("appsrc", "appsink", "parsebin", "h264parse", "rtph264pay")


@dataclass(frozen=True, slots=True)
class Sample:
    """One access unit of the clip; times in nanoseconds, `dts` may be -1 (none)."""

    data: bytes
    pts: int
    dts: int
    duration: int


def import_gst() -> tuple[Any, Any, Any]:
    """(GLib, Gst, GstRtspServer), initialised; raises ImportError or ValueError if missing."""
    import gi  # type: ignore[import-not-found]

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer  # type: ignore[import-not-found]

    Gst.init(None)
    return GLib, Gst, GstRtspServer


def check() -> int:
    try:
        _, gst, _ = import_gst()
    except (ImportError, ValueError) as exc:
        sys.stdout.write(f"GStreamer RTSP server bindings are missing: {exc}\n")
        return 1
    missing = [name for name in ELEMENTS if gst.ElementFactory.find(name) is None]
    if missing:
        sys.stdout.write(f"GStreamer elements are missing: {', '.join(missing)}\n")
        return 1
    return 0


def load(gst: Any, path: str) -> tuple[Any, list[Sample]]:
    """The caps and every H.264 access unit of the file at `path`, in decode order."""
    pipeline = gst.Pipeline.new("load")
    source = gst.ElementFactory.make("filesrc")
    source.set_property("location", path)
    parse = gst.ElementFactory.make("parsebin")
    h264 = gst.ElementFactory.make("h264parse")
    sink = gst.ElementFactory.make("appsink")
    sink.set_property("sync", False)
    sink.set_property("caps", gst.Caps.from_string("video/x-h264,stream-format=avc,alignment=au"))
    for element in (source, parse, h264, sink):
        pipeline.add(element)
    source.link(parse)
    h264.link(sink)

    def on_pad(_: Any, pad: Any) -> None:
        if pad.query_caps(None).to_string().startswith("video/x-h264"):
            pad.link(h264.get_static_pad("sink"))

    parse.connect("pad-added", on_pad)
    pipeline.set_state(gst.State.PLAYING)
    bus, caps, samples, error = pipeline.get_bus(), None, [], None
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    while not sink.get_property("eos") and time.monotonic() < deadline:
        if (message := bus.pop_filtered(gst.MessageType.ERROR)) is not None:
            error = message.parse_error()[0].message
            break
        sample = sink.emit("try-pull-sample", 100 * gst.MSECOND)
        if sample is not None:
            caps, buffer = sample.get_caps(), sample.get_buffer()
            data = buffer.extract_dup(0, buffer.get_size())
            samples.append(Sample(data, buffer.pts, buffer.dts, buffer.duration))
    pipeline.set_state(gst.State.NULL)
    if error is None and not sink.get_property("eos"):
        error = f"not read within {LOAD_TIMEOUT_S:g}s"
    if error is not None or not samples:
        raise ValueError(f"cannot serve {path}: {error or 'no H.264 video in it'}")
    return caps, samples


def serve(path: str, port: int, name: str) -> None:
    glib, gst, rtsp = import_gst()
    caps, samples = load(gst, path)
    none = gst.CLOCK_TIME_NONE
    length = max(s.pts + s.duration for s in samples if s.pts != none and s.duration != none)

    def configure(_: Any, media: Any) -> None:
        appsrc = media.get_element().get_by_name("src")
        appsrc.set_property("caps", caps)
        sent = 0

        def need_data(src: Any, _: int) -> None:
            nonlocal sent
            loop, index = divmod(sent, len(samples))
            sample, shift = samples[index], loop * length
            buffer = gst.Buffer.new_wrapped(sample.data)
            buffer.pts = sample.pts + shift if sample.pts != none else none
            buffer.dts = sample.dts + shift if sample.dts != none else none
            buffer.duration = sample.duration
            src.emit("push-buffer", buffer)
            sent += 1

        appsrc.connect("need-data", need_data)

    factory = rtsp.RTSPMediaFactory()
    factory.set_launch(
        "( appsrc name=src is-live=true format=time"
        " ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )
    factory.connect("media-configure", configure)
    server = rtsp.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    server.get_mount_points().add_factory(f"/{name}", factory)
    if server.attach(None) == 0:
        raise OSError(f"cannot listen on 127.0.0.1:{port}")
    sys.stdout.write(f"READY {server.get_bound_port()}\n")
    sys.stdout.flush()
    glib.MainLoop().run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("video", nargs="?", help="an H.264 file: MP4, MKV or MPEG-TS")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--name", default="cam", help="the mount path, without its slash")
    parser.add_argument("--check", action="store_true", help="only check what is installed")
    args = parser.parse_args()
    if args.check:
        return check()
    if args.video is None:
        parser.error("a video file is required")
    try:
        serve(args.video, args.port, args.name)
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"rtsp_server: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
