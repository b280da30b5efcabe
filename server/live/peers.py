"""Live viewers: one WebRTC peer connection each, or an MJPEG stream (the fallback), tracked
from the start to the close.

Each camera has one `CameraTrack` while anybody watches it over WebRTC, fanned out by a
`MediaRelay` that keeps only the newest frame for each viewer (a slow viewer skips, never
lags). Caps on viewers per camera and in all, both kinds counted, protect the detection
budget (every viewer costs an encoder). Views close on failure, when their session signs
out, and at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from server.annotate.pictures import PictureThreads
from server.config import LiveConfig
from server.errors import InvalidRequest, Unavailable
from server.live.frames import LiveFrames
from server.live.track import CameraTrack
from server.logs import ids
from server.notify.bus import Subscription
from shared.schemas.events import EventEnvelope

logger = logging.getLogger(__name__)
CONNECT_GRACE_S = 2.0  # beyond live.connect_timeout_s, when the player gives up
ENCODE_DRAIN_S = 0.2  # longer than one frame's VP8 encode at 1280x720 on this box


@dataclass(slots=True)
class Viewer:
    camera_id: int
    user_id: int
    session_id: str
    pc: RTCPeerConnection | None = None  # None: an MJPEG viewer
    track: MediaStreamTrack | None = None  # the viewer's feed from the relay
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # set when it closes
    started: float = field(default_factory=time.time)


class LivePeers:
    """Every live viewer of this server."""

    def __init__(self, frames: LiveFrames, pictures: PictureThreads, config: LiveConfig) -> None:
        """`pictures`: where each viewer's picture is drawn and encoded."""
        self.frames, self.pictures, self.config = frames, pictures, config
        self._relay = MediaRelay()
        self._sources: dict[int, CameraTrack] = {}
        self._deadlines: set[asyncio.Task[None]] = set()
        self.viewers: list[Viewer] = []

    def count(self, camera_id: int | None = None) -> int:
        return sum(1 for v in self.viewers if camera_id is None or v.camera_id == camera_id)

    async def answer(
        self,
        offer: RTCSessionDescription,
        *,
        camera_id: int,
        label: str,
        user_id: int,
        session_id: str,
    ) -> RTCSessionDescription:
        """Accept a viewer's offer; the answer carries every local candidate (no trickle)."""
        self.admit(camera_id, user_id)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice_servers()))
        viewer = Viewer(camera_id, user_id, session_id, pc)
        self.viewers.append(viewer)

        @pc.on("connectionstatechange")
        async def _changed() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._close(viewer, pc.connectionState)

        try:
            source = self._source(camera_id, label)
            viewer.track = self._relay.subscribe(source, buffered=False)
            pc.addTrack(viewer.track)
            await pc.setRemoteDescription(offer)
            await pc.setLocalDescription(await pc.createAnswer())
        except (ValueError, AttributeError, TypeError) as exc:  # aiortc's words for bad SDP
            await self._close(viewer, "bad offer")
            raise InvalidRequest(f"not a usable WebRTC offer: {exc}") from exc
        self._joined(viewer, "WebRTC")
        deadline = asyncio.create_task(self._close_unless_connected(viewer))
        self._deadlines.add(deadline)
        deadline.add_done_callback(self._deadlines.discard)
        description = pc.localDescription
        return RTCSessionDescription(sdp=description.sdp, type=description.type)

    def join_mjpeg(self, *, camera_id: int, user_id: int, session_id: str) -> Viewer:
        """Count an MJPEG viewer in (or refuse it over a cap); `leave` it when it goes."""
        self.admit(camera_id, user_id)
        viewer = Viewer(camera_id, user_id, session_id)
        self.viewers.append(viewer)
        self._joined(viewer, "MJPEG")
        return viewer

    async def leave(self, viewer: Viewer, why: str) -> None:
        await self._close(viewer, why)

    def admit(self, camera_id: int, user_id: int) -> None:
        """Refuse (503) a new viewer of this camera over a cap; one user cannot take every
        place."""
        mine = [v for v in self.viewers if v.user_id == user_id]
        if sum(v.camera_id == camera_id for v in mine) >= self.config.max_views_per_user_camera:
            raise Unavailable(
                f"you already have {self.config.max_views_per_user_camera} live views of camera "
                f"{camera_id} open (live.max_views_per_user_camera); close one first"
            )
        if len(mine) >= self.config.max_views_per_user:
            raise Unavailable(
                f"you already have {self.config.max_views_per_user} live views open "
                "(live.max_views_per_user); close one first"
            )
        if self.count(camera_id) >= self.config.max_viewers_per_camera:
            raise Unavailable(
                f"camera {camera_id} already has {self.config.max_viewers_per_camera} live "
                "viewers (live.max_viewers_per_camera); try again when one leaves"
            )
        if self.count() >= self.config.max_viewers:
            raise Unavailable(
                f"this server already has {self.config.max_viewers} live viewers "
                "(live.max_viewers); try again when one leaves"
            )

    def _joined(self, viewer: Viewer, kind: str) -> None:
        logger.info(
            "camera %s: live viewer %s joined over %s (%d watching)",
            viewer.camera_id,
            viewer.user_id,
            kind,
            self.count(viewer.camera_id),
            extra=ids(camera=viewer.camera_id),
        )

    async def close_session(self, session_id: str) -> int:
        """Close the viewers of a signed-out session; how many."""
        gone = [v for v in self.viewers if v.session_id == session_id]
        await asyncio.gather(*(self._close(v, "signed out") for v in gone))
        return len(gone)

    async def watch_access(
        self, changes: Subscription, allowed: Callable[[Viewer], Awaitable[bool]]
    ) -> None:
        """Close, as soon as it is announced, each view whose session ended or whose user
        lost the camera's store (`allowed` asks the database); runs until cancelled."""
        while True:
            change = await changes.get()
            if isinstance(change, EventEnvelope):
                continue
            for viewer in list(self.viewers):
                if change is not None and change.user_id not in (None, viewer.user_id):
                    continue
                if not await allowed(viewer):
                    await self._close(viewer, "access ended")

    async def close_all(self) -> None:
        for deadline in list(self._deadlines):
            deadline.cancel()
        await asyncio.gather(*(self._close(v, "shutdown") for v in list(self.viewers)))

    async def _close_unless_connected(self, viewer: Viewer) -> None:
        """A viewer that gave up (or never reached us) frees its place, rather than holding
        it until ICE gives up."""
        await asyncio.sleep(self.config.connect_timeout_s + CONNECT_GRACE_S)
        if viewer.pc is not None and viewer.pc.connectionState != "connected":
            await self._close(viewer, "did not connect")

    def _source(self, camera_id: int, label: str) -> CameraTrack:
        source = self._sources.get(camera_id)
        if source is None or source.readyState != "live":
            source = self._sources[camera_id] = CameraTrack(
                self.frames,
                self.pictures,
                camera_id=camera_id,
                label=label,
                width=self.config.width,
                fps=self.config.fps,
            )
        return source

    async def _close(self, viewer: Viewer, why: str) -> None:
        if viewer not in self.viewers:
            return
        self.viewers.remove(viewer)
        viewer.ended.set()
        if viewer.track is not None:  # no new frames: the sender's encode in flight ends
            viewer.track.stop()  # before pc.close() cancels it (aiortc crashes in libvpx if
            await asyncio.sleep(ENCODE_DRAIN_S)  # a sender is torn down mid-encode)
        if viewer.pc is not None:
            await viewer.pc.close()
        if not any(v.pc is not None for v in self.viewers if v.camera_id == viewer.camera_id):
            # nobody left on WebRTC: stop drawing this camera's track
            source = self._sources.pop(viewer.camera_id, None)
            if source is not None:
                source.stop()
        logger.info(
            "camera %s: live viewer %s left (%s)",
            viewer.camera_id,
            viewer.user_id,
            why,
            extra=ids(camera=viewer.camera_id),
        )

    def _ice_servers(self) -> list[RTCIceServer]:
        return [
            RTCIceServer(
                urls=server.urls,
                username=server.username,
                credential=server.credential.get_secret_value() if server.credential else None,
            )
            for server in self.config.ice_servers
        ]
