"""Trying a camera source before it is saved: open it, decode one picture, say what was found
or, in words an installer can act on, what is wrong."""

from __future__ import annotations

import asyncio
import time

import av
import av.error

from server.pipeline.source import open_container, stream_info
from server.security.redact import redact_url
from shared.schemas.cameras import SourceProbeResult

MAX_PACKETS = 300  # packets read while waiting for the first decodable picture

HINTS = (
    ("401", "the DVR refused the user name or password"),
    ("403", "the DVR refused access to this stream"),
    ("404", "the DVR has no stream at this path (check the channel and stream name)"),
    ("connection refused", "nothing answers on that port (check the port, or that RTSP is on)"),
    ("no route to host", "the address cannot be reached from the server"),
    ("network is unreachable", "the address cannot be reached from the server"),
    ("name or service not known", "the host name does not resolve"),
    ("no such file", "no such file on the server"),
    ("permission denied", "the server may not read this source"),
    ("invalid data", "this is not a video stream the server can read"),
)


def probe_source(url: str, timeout_s: float) -> SourceProbeResult:
    """Open `url` and decode its first picture, within about `timeout_s` per step."""
    started = time.monotonic()

    def result(ok: bool, message: str, **found: object) -> SourceProbeResult:
        return SourceProbeResult.model_validate(
            {
                "ok": ok,
                "source_url": redact_url(url),
                "message": message,
                "seconds": round(time.monotonic() - started, 3),
                **found,
            }
        )

    try:
        with open_container(url, timeout_s, timeout_s) as container:
            if not container.streams.video:
                return result(False, "the source has no video stream")
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            info = stream_info(stream)
            for count, packet in enumerate(container.demux(stream)):
                for picture in packet.decode():
                    fps = round(info.fps, 2) if info.fps else None
                    rate = f" at {fps:g} fps" if fps else ""
                    return result(
                        True,
                        f"{info.codec} {picture.width}x{picture.height}{rate}",
                        codec=info.codec,
                        width=picture.width,
                        height=picture.height,
                        fps=fps,
                    )
                if count >= MAX_PACKETS or time.monotonic() - started > 3 * timeout_s:
                    break
            return result(False, "the stream sent no picture that could be decoded")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        return result(False, _explain(exc, time.monotonic() - started, timeout_s, url))


async def probe_source_async(url: str, timeout_s: float) -> SourceProbeResult:
    """`probe_source` in a worker thread, so the event loop keeps serving."""
    return await asyncio.to_thread(probe_source, url, timeout_s)


def _explain(exc: BaseException, elapsed_s: float, timeout_s: float, url: str) -> str:
    reason = str(getattr(exc, "strerror", None) or exc or type(exc).__name__)
    if elapsed_s >= timeout_s - 0.05:
        return f"no answer within {timeout_s:g} s (is the address right and the device on?)"
    lowered = reason.lower()
    hint = next((text for key, text in HINTS if key in lowered), None)
    reason = reason.replace(url, redact_url(url))
    return f"{hint} ({reason})" if hint else reason
