"""Live events on the WebSocket: one discriminated union, parsed the same way by server and app.

Protocol: the client connects to `WS_EVENTS` and sends `Hello` (token and the last `seq` it
saw, if any). The server answers `Welcome`, replays what the client missed, then streams
`EventEnvelope`s as they happen. `resync_required` in `Welcome` means the gap was too old to
replay: reload lists over REST.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter

from shared.schemas.alerts import AlertPublic
from shared.schemas.cameras import CameraStatus


class AlertCreated(BaseModel):
    type: Literal["alert.created"] = "alert.created"
    alert: AlertPublic


class AlertUpdated(BaseModel):
    type: Literal["alert.updated"] = "alert.updated"
    alert: AlertPublic


class CameraStatusChanged(BaseModel):
    type: Literal["camera.status"] = "camera.status"
    camera_id: int
    store_id: int
    status: CameraStatus
    since: datetime
    last_error: str | None = None


ServerEvent = Annotated[
    AlertCreated | AlertUpdated | CameraStatusChanged, Field(discriminator="type")
]
server_event_adapter: TypeAdapter[AlertCreated | AlertUpdated | CameraStatusChanged] = TypeAdapter(
    ServerEvent
)


class EventEnvelope(BaseModel):
    """One event with its place in the server's event log."""

    kind: Literal["event"] = "event"
    seq: int = Field(description="Increasing position in the event log; resume from it.")
    at: datetime
    store_id: int
    event: ServerEvent


class Hello(BaseModel):
    """First client message."""

    kind: Literal["hello"] = "hello"
    token: str = Field(min_length=1, max_length=4096)
    since: int | None = Field(default=None, ge=0, description="Last `seq` the client saw.")


class Welcome(BaseModel):
    kind: Literal["welcome"] = "welcome"
    last_seq: int
    resync_required: bool = False


class Ping(BaseModel):
    kind: Literal["ping"] = "ping"
