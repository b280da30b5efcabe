"""One live viewer for the live latency bench, in its own process (so the server's CPU can
be measured apart from the viewers'): an aiortc peer that watches a camera for a while and
prints, as JSON, the frame counter of every frame it decoded and when.

    .venv/bin/python -m server.bench.live_viewer URL CAMERA_ID TOKEN SECONDS

Loopback only: aioice is given 127.0.0.1 as this host's address (it skips it otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time

import httpx
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from server.bench.counter import read_counter
from server.bench.live_latency import loopback_only


async def watch(url: str, camera_id: int, token: str, seconds: float) -> list[tuple[int, float]]:
    loopback_only()
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    seen: list[tuple[int, float]] = []
    tracks: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
    pc.on("track", tracks.put_nowait)
    await pc.setLocalDescription(await pc.createOffer())
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.post(
            f"/api/v1/cameras/{camera_id}/webrtc",
            json={"sdp": pc.localDescription.sdp, "type": "offer"},
            headers={"Authorization": f"Bearer {token}"},
        )
    answer.raise_for_status()
    await pc.setRemoteDescription(RTCSessionDescription(**answer.json()))
    track = await asyncio.wait_for(tracks.get(), 20)
    deadline = time.monotonic() + seconds
    with contextlib.suppress(MediaStreamError):
        while time.monotonic() < deadline:
            frame = await asyncio.wait_for(track.recv(), 10)
            arrived = time.time()
            image = frame.to_ndarray(format="bgr24")  # type: ignore[union-attr]
            seen.append((read_counter(image), arrived))
    await pc.close()
    return seen


def main() -> int:
    url, camera, token, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    seen = asyncio.run(watch(url, camera, token, seconds))
    sys.stdout.write(json.dumps(seen) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
