"""Live view: WebRTC signalling (one offer, one answer, no trickle) and player links."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_SDP_CHARS = 100_000


class LiveOffer(BaseModel):
    """The viewer's SDP offer, with its ICE candidates gathered."""

    model_config = ConfigDict(extra="forbid")

    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)
    type: Literal["offer"] = "offer"


class LiveAnswer(BaseModel):
    sdp: str
    type: Literal["answer"] = "answer"


class LiveLink(BaseModel):
    """Where a browser or the app's WebView opens a camera's live view."""

    url: str = Field(description="Path of the player page, the token in its fragment.")
    token: str = Field(description="Live-view token for this camera (signalling, MJPEG).")
    expires_at: datetime = Field(description="After this the token starts no new view.")


class IceServerPublic(BaseModel):
    """As `RTCPeerConnection`'s `iceServers` takes it."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class LiveConfigPublic(BaseModel):
    """What the player needs before it connects."""

    camera_id: int
    camera_name: str
    ice_servers: list[IceServerPublic]
    width: int
    fps: float
    connect_timeout_ms: int = Field(description="Then the player falls back to MJPEG.")
