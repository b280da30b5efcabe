"""Alerts: filtered pages, detail, and review by supervisors and admins."""

import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from server.api.deps import AuditDep, CurrentUser, ReviewerUser, RuntimeDep, SessionDep
from server.api.evidence_response import evidence_response
from server.api.params import as_utc
from server.services import evidence_share, thumbnails
from server.services.alerts import commit_and_announce
from server.services.evidence import evidence_file, evidence_ref
from server.storage import alerts, stores
from server.storage.alerts import AlertFilter
from server.storage.models import utcnow
from shared.schemas.alerts import (
    AlertOutcome,
    AlertPublic,
    AlertsPublic,
    AlertStatus,
    AlertUpdate,
    EvidenceName,
    EvidenceSharePublic,
    EvidenceShareRequest,
    MediaLinksPublic,
    SharedEvidenceFile,
    ThumbnailLink,
    ThumbnailLinksPublic,
    ThumbnailLinksRequest,
)
from shared.schemas.errors import ErrorResponse
from shared.schemas.events import AlertUpdated

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("")
async def list_alerts(
    principal: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    store_id: int | None = None,
    camera_id: int | None = None,
    status: Annotated[list[AlertStatus], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
    outcome: Annotated[list[AlertOutcome], Query()] = [],  # noqa: B006
    since: datetime | None = None,
    until: datetime | None = None,
    min_score: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AlertsPublic:
    """Alerts you may see, newest first; follow `next_cursor` for older ones."""
    where = AlertFilter(
        store_ids=principal.store_scope,
        store_id=store_id,
        camera_id=camera_id,
        statuses=tuple(status),
        outcomes=tuple(outcome),
        since=as_utc(since),
        until=as_utc(until),
        min_score=min_score,
    )
    rows, count, next_cursor = await alerts.list_alerts(
        session=session, where=where, limit=limit, cursor=cursor
    )
    links, expires = runtime.media_links, thumbnails.link_expiry(time.time())
    money = await stores.currencies(session=session, store_ids={a.store_id for a in rows})
    return AlertsPublic(
        data=[
            thumbnails.with_thumbnail(
                alerts.alert_public(a, money.get(a.store_id)), a, links, expires
            )
            for a in rows
        ],
        count=count,
        next_cursor=next_cursor,
    )


@router.post("/thumbnail-links")
async def thumbnail_links(
    body: ThumbnailLinksRequest, principal: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> ThumbnailLinksPublic:
    """Signed thumbnail links for many alerts at once (those of live events, or to renew a
    long list's); alerts you may not see, or that do not exist, are left out."""
    found = await thumbnails.visible_alerts(
        session=session, alert_ids=body.alert_ids, store_ids=principal.store_scope
    )
    expires = thumbnails.link_expiry(time.time())
    return ThumbnailLinksPublic(
        data=[
            ThumbnailLink(
                alert_id=a.id, url=thumbnails.thumbnail_path(runtime.media_links, a, expires)
            )
            for a in found
        ],
        expires_at=thumbnails.expiry_time(expires),
    )


@router.get("/{alert_id}")
async def read_alert(
    alert_id: int, principal: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> AlertPublic:
    """One alert."""
    alert = await alerts.get_alert(
        session=session, alert_id=alert_id, store_ids=principal.store_scope
    )
    expires = thumbnails.link_expiry(time.time())
    money = await stores.currencies(session=session, store_ids={alert.store_id})
    return thumbnails.with_thumbnail(
        alerts.alert_public(alert, money.get(alert.store_id)), alert, runtime.media_links, expires
    )


@router.patch("/{alert_id}")
async def review_alert(
    alert_id: int,
    body: AlertUpdate,
    principal: ReviewerUser,
    session: SessionDep,
    runtime: RuntimeDep,
    audit: AuditDep,
) -> AlertPublic:
    """Acknowledge or review an alert (status, outcome, notes, the goods' value: stolen in a
    confirmed theft, and whether recovered, or at risk in a deterred one). The alert is
    held while the review applies: a clip finishing meanwhile does not turn it into a 409
    (only a stale `if_version` does)."""
    alert = await alerts.lock_alert(
        session=session, alert_id=alert_id, store_ids=principal.store_scope
    )
    goods_before = alerts.goods_of(alert)
    await alerts.review_alert(
        session=session, alert=alert, review=body, reviewer=principal.user, now=utcnow()
    )
    await runtime.pose_tracks.alert_reviewed(session=session, alert=alert, now=utcnow())
    money = await stores.currencies(session=session, store_ids={alert.store_id})
    public = alerts.alert_public(alert, money.get(alert.store_id))
    await audit.record(
        "alert.review",
        "alert",
        alert.id,
        body.model_dump(mode="json", exclude_unset=True, exclude={"if_version"})
        | alerts.goods_cleared(goods_before, alert, body),
    )
    envelope = await runtime.bus.stage(session, AlertUpdated(alert=public), store_id=alert.store_id)
    await commit_and_announce(session, runtime.bus, envelope)
    return public


@router.get("/{alert_id}/{name}", response_class=Response)
async def download_evidence(
    alert_id: int,
    name: EvidenceName,
    request: Request,
    principal: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """The alert's `snapshot.jpg`, `clip.mp4` or `annotated.mp4` (HTTP range requests:
    players can seek)."""
    alert = await alerts.get_alert(
        session=session, alert_id=alert_id, store_ids=principal.store_scope
    )
    wanted = evidence_file(alert, name.value)
    return await evidence_response(runtime.clips.store, wanted, request, download=True)


@router.post("/{alert_id}/media-links")
async def media_links(
    alert_id: int, principal: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> MediaLinksPublic:
    """Short-lived links to the alert's snapshot and clip that need no Authorization
    header (for a phone's video player); null for a file not made yet."""
    alert = await alerts.get_alert(
        session=session, alert_id=alert_id, store_ids=principal.store_scope
    )
    urls: dict[str, str | None] = {}
    expires = 0
    for name in EvidenceName:
        query, expires = runtime.media_links.link(alert.id, name.value)
        made = evidence_ref(alert, name.value) is not None
        urls[name.value] = f"/api/v1/media/{alert.id}/{name.value}?{query}" if made else None
    return MediaLinksPublic(
        snapshot_url=urls["snapshot.jpg"],
        clip_url=urls["clip.mp4"],
        annotated_url=urls["annotated.mp4"],
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


@router.post(
    "/{alert_id}/share",
    responses={503: {"model": ErrorResponse, "description": "The evidence store is down."}},
)
async def share_evidence(
    alert_id: int,
    principal: ReviewerUser,
    session: SessionDep,
    runtime: RuntimeDep,
    audit: AuditDep,
    request: Request,
    body: EvidenceShareRequest | None = None,
) -> EvidenceSharePublic:
    """Download links for the alert's clip (and the annotated one when asked) that need no
    sign-in and expire, with each file's sha256; the audit log records who shared it."""
    asked = body or EvidenceShareRequest()
    alert = await alerts.get_alert(
        session=session, alert_id=alert_id, store_ids=principal.store_scope
    )
    names = [EvidenceName.clip] + ([EvidenceName.annotated] if asked.annotated else [])
    keys = {name: evidence_share.shareable_key(alert, name) for name in names}
    now = utcnow()
    expires = int(now.timestamp()) + asked.expires_in_s
    base = str(request.base_url).rstrip("/")
    shared: dict[EvidenceName, SharedEvidenceFile] = {}
    for name, key in keys.items():
        digest = await evidence_share.file_digest(runtime.clips.store, key)
        path = evidence_share.share_path(runtime.media_links, alert.id, name, expires)
        shared[name] = SharedEvidenceFile(
            name=name,
            filename=evidence_share.download_name(alert.id, name),
            path=path,
            url=base + path,
            size_bytes=digest.size,
            sha256=digest.sha256,
        )
    expires_at = datetime.fromtimestamp(expires, UTC)
    await audit.record(
        "evidence.share",
        "alert",
        alert.id,
        {
            "files": {
                f.name.value: {"sha256": f.sha256, "bytes": f.size_bytes} for f in shared.values()
            },
            "expires_at": expires_at.isoformat(),
        },
    )
    await session.commit()
    return EvidenceSharePublic(
        alert_id=alert.id,
        clip=shared[EvidenceName.clip],
        annotated=shared.get(EvidenceName.annotated),
        expires_at=expires_at,
        shared_by=principal.user.username,
        shared_at=now,
    )
