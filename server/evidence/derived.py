"""Files made from an alert's evidence and kept beside it in the evidence store: the feed's
thumbnail of the snapshot and each clip's sha256. Made once on first use; retention counts
them as the alert's and removes them with its evidence."""

from __future__ import annotations

import tempfile
from pathlib import Path

from server.evidence.store import EvidenceStore
from server.storage.models import Alert

THUMBNAIL = "thumbnail.jpg"
DIGEST_SUFFIX = ".sha256"


def thumbnail_key(snapshot_key: str) -> str:
    """The thumbnail's key, in the snapshot's folder."""
    folder, _, _ = snapshot_key.rpartition("/")
    return f"{folder}/{THUMBNAIL}" if folder else THUMBNAIL


def digest_key(clip_key: str) -> str:
    """The key of the text file holding the clip's sha256 and size."""
    return clip_key + DIGEST_SUFFIX


def derived_keys(alert: Alert) -> list[str]:
    """The keys such files of `alert` have (or would have) in the store."""
    keys = [thumbnail_key(alert.snapshot_ref)] if alert.snapshot_ref else []
    return keys + [digest_key(ref) for ref in (alert.clip_ref, alert.annotated_ref) if ref]


def read_whole(store: EvidenceStore, key: str) -> bytes | None:
    """A (small) stored file's bytes; None if absent. Blocks: run it in a thread."""
    stored = store.stat(key)
    if stored is None:
        return None
    return b"".join(store.read(key, 0, stored.size))


def keep(store: EvidenceStore, key: str, data: bytes) -> None:
    """Store `data` under `key` (the store takes finished files). Blocks: run it in a thread."""
    with tempfile.TemporaryDirectory(prefix="shopguard-derived-") as folder:
        made = Path(folder) / key.rpartition("/")[2]
        made.write_bytes(data)
        store.put(key, made)
