"""An alert's evidence files for download: which file, and whether it exists yet."""

from __future__ import annotations

from pathlib import Path

from server.errors import NotFound
from server.evidence.store import EvidenceStore
from server.storage.models import Alert

MEDIA_TYPES = {"snapshot.jpg": "image/jpeg", "clip.mp4": "video/mp4", "annotated.mp4": "video/mp4"}


def evidence_ref(alert: Alert, name: str) -> str | None:
    """The store key of the alert's file `name` (None: not made, or removed)."""
    return {
        "snapshot.jpg": alert.snapshot_ref,
        "clip.mp4": alert.clip_ref,
        "annotated.mp4": alert.annotated_ref,
    }.get(name)


def evidence_file(store: EvidenceStore, alert: Alert, name: str) -> tuple[Path, str]:
    """The local file and media type of the alert's `name`; `NotFound` says why not."""
    if name not in MEDIA_TYPES:
        raise NotFound(f"alert {alert.id} has no file {name!r}")
    key = evidence_ref(alert, name)
    if key is None:
        status = alert.clip_status or "none"
        what = "snapshot" if name == "snapshot.jpg" else f"{name} (clip status: {status})"
        raise NotFound(f"alert {alert.id} has no {what} yet")
    path = store.local_path(key)
    if path is None:
        raise NotFound(f"alert {alert.id}'s {name} was removed (retention or disk cap)")
    return path, MEDIA_TYPES[name]
