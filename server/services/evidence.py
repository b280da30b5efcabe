"""An alert's evidence files for download: which file, and whether it exists yet."""

from __future__ import annotations

from dataclasses import dataclass

from server.errors import NotFound
from server.storage.models import Alert

MEDIA_TYPES = {"snapshot.jpg": "image/jpeg", "clip.mp4": "video/mp4", "annotated.mp4": "video/mp4"}
REMOVED = "was removed (retention or disk cap)"


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    alert_id: int
    name: str
    key: str  # in the evidence store
    media_type: str


def evidence_ref(alert: Alert, name: str) -> str | None:
    """The store key of the alert's file `name` (None: not made, or removed)."""
    return {
        "snapshot.jpg": alert.snapshot_ref,
        "clip.mp4": alert.clip_ref,
        "annotated.mp4": alert.annotated_ref,
    }.get(name)


def evidence_file(alert: Alert, name: str) -> EvidenceFile:
    """The alert's file `name`; `NotFound` says why there is none."""
    if name not in MEDIA_TYPES:
        raise NotFound(f"alert {alert.id} has no file {name!r}")
    key = evidence_ref(alert, name)
    if key is None:
        status = alert.clip_status or "none"
        what = "snapshot" if name == "snapshot.jpg" else f"{name} (clip status: {status})"
        raise NotFound(f"alert {alert.id} has no {what} yet")
    return EvidenceFile(alert.id, name, key, MEDIA_TYPES[name])
