"""A real aiortc viewer: offers to receive video, sends its offer to the server's
signalling endpoint, and collects the frames that arrive, stamped with their arrival."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import numpy as np
import numpy.typing as npt
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack


@dataclass
class Received:
    image: npt.NDArray[np.uint8]  # (H, W, 3) BGR
    arrived: float  # Unix seconds


@dataclass
class Viewer:
    pc: RTCPeerConnection
    frames: list[Received] = field(default_factory=list)
    track: MediaStreamTrack | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def collect(self, count: int, within_s: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + within_s
        while len(self.frames) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.frames)} of {count} frames in {within_s} s")
            await asyncio.sleep(0.05)
        return self.frames[:count]


async def _pull(viewer: Viewer) -> None:
    assert viewer.track is not None
    try:
        while True:
            frame = await viewer.track.recv()
            image = frame.to_ndarray(format="bgr24")  # type: ignore[union-attr]
            viewer.frames.append(Received(np.asarray(image, np.uint8), time.time()))
    except MediaStreamError:
        viewer.ended.set()


async def offer(
    http: httpx.AsyncClient, path: str, token: str
) -> tuple[RTCPeerConnection, httpx.Response]:
    """An offer to receive video posted to `path`; the peer and the server's response."""
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    response = await http.post(
        path,
        json={"sdp": pc.localDescription.sdp, "type": "offer"},
        headers={"Authorization": f"Bearer {token}"},
    )
    return pc, response


@contextlib.asynccontextmanager
async def watching(http: httpx.AsyncClient, camera_id: int, token: str) -> AsyncIterator[Viewer]:
    """A connected viewer of the camera until the block ends."""
    pc, response = await offer(http, f"/api/v1/cameras/{camera_id}/webrtc", token)
    assert response.status_code == 200, response.text
    viewer = Viewer(pc)
    tasks: list[asyncio.Task[None]] = []

    @pc.on("track")
    def _on_track(track: MediaStreamTrack) -> None:
        viewer.track = track
        tasks.append(asyncio.create_task(_pull(viewer)))

    await pc.setRemoteDescription(RTCSessionDescription(**response.json()))
    try:
        yield viewer
    finally:
        await pc.close()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
