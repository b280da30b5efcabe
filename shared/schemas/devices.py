"""Phones and browsers registered for push notifications."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class PushPlatform(StrEnum):
    fcm = "fcm"
    apns = "apns"
    webpush = "webpush"


class DeviceRegister(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: PushPlatform
    token: str = Field(
        min_length=8, max_length=4096, description="FCM/APNs token or Web Push endpoint URL."
    )
    keys: dict[str, str] | None = Field(
        default=None, description="Web Push subscription keys (p256dh, auth)."
    )
    name: str = Field(default="", max_length=120)


class DevicePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    platform: PushPlatform
    name: str
    created_at: datetime
    last_seen_at: datetime


class DevicesPublic(BaseModel):
    data: list[DevicePublic]
    count: int


class WebPushKey(BaseModel):
    """What a browser needs to subscribe to this server's pushes."""

    public_key: str = Field(
        description="The server's VAPID public key, base64url: the `applicationServerKey` of "
        "`pushManager.subscribe`."
    )
