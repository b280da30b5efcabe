"""Push notifications: what a push says, and the one interface every provider's notifier
(FCM, APNs, Web Push) implements, so the dispatcher treats them alike."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class Delivery(StrEnum):
    sent = "sent"  # the provider took it
    retry = "retry"  # the provider or the network failed for now: try again later
    gone = "gone"  # the provider says the device token is dead: remove the device
    refused = "refused"  # the provider refused this message for good (logged, not retried)


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery: Delivery
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a push goes: a registered device."""

    device_id: int
    platform: str  # fcm | apns | webpush
    token: str  # FCM/APNs token, or the Web Push endpoint URL
    keys: dict[str, str] | None  # Web Push p256dh and auth


class Notifier(Protocol):
    """One provider. `send` must not raise for provider or network faults: it answers
    with an `Outcome`."""

    platform: str

    async def send(self, target: Target, payload: dict[str, Any]) -> Outcome: ...


def alert_payload(
    *,
    alert_id: int,
    store_id: int,
    camera_id: int,
    camera_name: str,
    zone: str,
    event_type: str,
    score: float,
    reason: str,
) -> dict[str, Any]:
    """What every provider's push carries: title, body, camera, score, a thumbnail URL
    (fetched with the app's token) and a deep link to the alert."""
    what = "Possible concealment" if event_type == "concealment" else event_type.capitalize()
    title = f"{what} at {camera_name}" + (" (escalated)" if reason == "raised" else "")
    where = f"zone {zone}" if zone else "camera view"
    return {
        "title": title,
        "body": f"{where} · score {score:.2f}",
        "alert_id": alert_id,
        "store_id": store_id,
        "camera_id": camera_id,
        "camera": camera_name,
        "score": round(score, 3),
        "reason": reason,
        "thumbnail_url": f"/api/v1/alerts/{alert_id}/snapshot.jpg",
        "deep_link": f"shopguard://alerts/{alert_id}",
    }
