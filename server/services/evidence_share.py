"""Sharing an alert's evidence outside the app: download links that expire and need no
sign-in (for the police, an insurer, head office), each with the file's sha256, so whoever
receives it can show it is the stored file unchanged.

A link is signed like the app's media links but for another purpose (`share/<file>` in the
signed message), so neither kind of link opens the other's route.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from dataclasses import dataclass

from server.errors import AuthError, Conflict, NotFound, ShopGuardError, Unavailable
from server.evidence.derived import digest_key, keep, read_whole
from server.evidence.store import EvidenceStore, EvidenceStoreError
from server.security.media_links import MediaLinks
from server.services.evidence import REMOVED, evidence_ref
from server.storage.models import Alert
from shared.api_paths import API_V1
from shared.schemas.alerts import ClipStatus, EvidenceName

logger = logging.getLogger(__name__)

SHAREABLE = (EvidenceName.clip, EvidenceName.annotated)


class ShareLinkInvalid(AuthError):
    """→ 401: not a link this server signed (altered, or for another file)."""

    code = "share_link_invalid"


class ShareLinkExpired(ShopGuardError):
    """→ 410: a genuine link past its expiry."""

    code = "share_link_expired"


class NothingToShare(Conflict):
    """→ 409: the alert has no such clip (yet, or any more)."""

    code = "no_clip"


class NoAnnotatedClip(NothingToShare):
    code = "no_annotated_clip"


@dataclass(frozen=True, slots=True)
class FileDigest:
    size: int
    sha256: str


def download_name(alert_id: int, name: EvidenceName) -> str:
    """`shopguard-alert-7-clip.mp4`."""
    return f"shopguard-alert-{alert_id}-{name.value}"


def share_path(links: MediaLinks, alert_id: int, name: EvidenceName, expires: int) -> str:
    signature = links.sign(alert_id, f"share/{name.value}", expires)
    return f"{API_V1}/media/shared/{alert_id}/{name.value}?exp={expires}&sig={signature}"


def check_share(
    links: MediaLinks, alert_id: int, name: EvidenceName, expires: int, signature: str, now: float
) -> None:
    """Raise `ShareLinkInvalid` unless this server signed the link, `ShareLinkExpired` once
    it has expired."""
    expected = links.sign(alert_id, f"share/{name.value}", expires).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        raise ShareLinkInvalid("this download link is not valid: it was altered or cut short")
    if expires < now:
        raise ShareLinkExpired("this download link has expired; ask for a new one")


def shareable_key(alert: Alert, name: EvidenceName) -> str:
    """The store key of the alert's clip `name`; `NothingToShare` says why there is none."""
    key = evidence_ref(alert, name.value)
    if key is not None:
        return key
    what = "annotated clip" if name is EvidenceName.annotated else "clip"
    kind = NoAnnotatedClip if name is EvidenceName.annotated else NothingToShare
    status = alert.clip_status
    if status in (ClipStatus.queued, ClipStatus.running):
        raise kind(f"alert {alert.id}'s {what} is still being recorded; share it when done")
    if status == ClipStatus.done and name is EvidenceName.clip:
        raise kind(f"alert {alert.id}'s {what} {REMOVED}")
    if status == ClipStatus.failed:
        raise kind(f"alert {alert.id} has no {what}: recording it failed")
    raise kind(f"alert {alert.id} has no {what}")


async def file_digest(store: EvidenceStore, key: str) -> FileDigest:
    """The stored file's size and sha256, computed once and then kept beside it."""
    try:
        return await asyncio.to_thread(_digest, store, key)
    except EvidenceStoreError as exc:
        raise Unavailable(f"the evidence store cannot be reached: {exc}") from exc


def _digest(store: EvidenceStore, key: str) -> FileDigest:
    stored = store.stat(key)
    if stored is None:
        raise NotFound(f"{key.rpartition('/')[2]} {REMOVED}")
    stamp = f"{stored.size} {stored.modified!r}"  # the file it was computed from
    kept = read_whole(store, digest_key(key))
    if kept is not None:
        sha256, _, of = kept.decode("ascii", "replace").strip().partition(" ")
        if of == stamp and len(sha256) == 64:
            return FileDigest(stored.size, sha256)
    hashed = hashlib.sha256()
    for chunk in store.read(key, 0, stored.size):
        hashed.update(chunk)
    digest = FileDigest(stored.size, hashed.hexdigest())
    try:
        keep(store, digest_key(key), f"{digest.sha256} {stamp}\n".encode())
    except OSError as exc:  # a full disk: answer it, compute it again next time
        logger.warning("keeping the sha256 of %s failed: %s", key, exc)
    return digest
