"""Alert evidence for the feed and the detail screen: thumbnail links for a list's rows and
"Share evidence" (expiring download links with the clip's sha256). The server answers
paths; these functions make them whole links on the client's server address, ready for
`ft.Image(src=...)` or the share sheet."""

from __future__ import annotations

from mobile.api.client import ApiClient
from shared.schemas.alerts import (
    SHARE_DEFAULT_S,
    AlertPublic,
    EvidenceSharePublic,
    EvidenceShareRequest,
    SharedEvidenceFile,
    ThumbnailLinksPublic,
    ThumbnailLinksRequest,
)

MAX_IDS = 200  # alerts per thumbnail-links call


def thumbnail_src(client: ApiClient, alert: AlertPublic) -> str | None:
    """The whole link of a listed alert's thumbnail (None: no snapshot, or an alert from a
    live event: ask `thumbnail_links`)."""
    return client.address + alert.thumbnail_url if alert.thumbnail_url else None


async def thumbnail_links(client: ApiClient, alert_ids: list[int]) -> dict[int, str | None]:
    """Whole thumbnail links by alert id, for alerts of live events or to renew a long
    list's (links last 1 to 2 hours); ids you may not see are left out."""
    found: dict[int, str | None] = {}
    for start in range(0, len(alert_ids), MAX_IDS):
        body = ThumbnailLinksRequest(alert_ids=alert_ids[start : start + MAX_IDS])
        answer = await client._call(
            "POST", "/alerts/thumbnail-links", ThumbnailLinksPublic, body=body
        )
        found |= {
            link.alert_id: client.address + link.url if link.url else None for link in answer.data
        }
    return found


async def share_evidence(
    client: ApiClient,
    alert_id: int,
    *,
    annotated: bool = False,
    expires_in_s: int = SHARE_DEFAULT_S,
) -> EvidenceSharePublic:
    """Download links for the alert's clip (and the annotated one) that work without
    signing in until `expires_at`, with each file's sha256 (supervisors and admins; others
    get `NotAllowed`; an alert without such a clip `Rejected` with code `no_clip` or
    `no_annotated_clip`)."""
    body = EvidenceShareRequest(annotated=annotated, expires_in_s=expires_in_s)
    shared = await client._call("POST", f"/alerts/{alert_id}/share", EvidenceSharePublic, body=body)
    return shared.model_copy(
        update={
            "clip": _on_address(client, shared.clip),
            "annotated": _on_address(client, shared.annotated) if shared.annotated else None,
        }
    )


def _on_address(client: ApiClient, shared: SharedEvidenceFile) -> SharedEvidenceFile:
    """The link on the address the app reaches the server at (the server only sees the
    address a proxy passed on)."""
    return shared.model_copy(update={"url": client.address + shared.path})
