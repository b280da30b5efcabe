"""Evidence through a signed link: no Authorization header, the link is the permission."""

import time
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.api.deps import RuntimeDep, SessionDep
from server.api.errors import error_response
from server.api.evidence_response import evidence_response
from server.services import evidence_share, thumbnails
from server.services.evidence import evidence_file
from server.storage import alerts
from shared.schemas.alerts import EvidenceName
from shared.schemas.errors import ErrorResponse

router = APIRouter(prefix="/media", tags=["alerts"])

STORE_DOWN = {"model": ErrorResponse, "description": "The evidence store cannot be reached."}

ShareableName = Literal["clip.mp4", "annotated.mp4"]


@router.get(
    "/shared/{alert_id}/{name}",
    response_class=Response,
    responses={
        200: {"content": {"video/mp4": {}}, "description": "The clip, as an attachment."},
        206: {"content": {"video/mp4": {}}, "description": "The byte range asked for."},
        410: {"model": ErrorResponse, "description": "The link has expired."},
        503: STORE_DOWN,
    },
)
async def shared_evidence(
    alert_id: int,
    name: ShareableName,
    exp: int,
    sig: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """A clip of `POST /alerts/{id}/share`, as a download, until the link expires (410)."""
    wanted = EvidenceName(name)
    try:
        evidence_share.check_share(runtime.media_links, alert_id, wanted, exp, sig, time.time())
    except evidence_share.ShareLinkExpired as exc:
        return error_response(410, exc.code, exc.message)
    alert = await alerts.get_alert(session=session, alert_id=alert_id, store_ids=None)
    response = await evidence_response(
        runtime.clips.store, evidence_file(alert, name), request, download=False
    )
    filename = evidence_share.download_name(alert_id, wanted)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@router.get(
    "/{alert_id}/thumbnail.jpg",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The thumbnail."},
        503: {"model": ErrorResponse, "description": "Store unreachable, or busy: ask again."},
    },
)
async def signed_thumbnail(
    alert_id: int, exp: int, sig: str, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The alert's snapshot as a small JPEG (240 px wide) for lists, until the link expires."""
    runtime.media_links.check(alert_id, "thumbnail.jpg", exp, sig)
    alert = await alerts.get_alert(session=session, alert_id=alert_id, store_ids=None)
    picture = await thumbnails.thumbnail(runtime.clips.store, runtime.pictures, alert)
    # one link serves one picture for its life: the phone need not ask again
    max_age = max(0, exp - int(time.time()))
    return Response(
        picture, media_type="image/jpeg", headers={"Cache-Control": f"private, max-age={max_age}"}
    )


@router.get("/{alert_id}/{name}", response_class=Response)
async def signed_evidence(
    alert_id: int,
    name: EvidenceName,
    exp: int,
    sig: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """A file of `POST /alerts/{id}/media-links`, until the link expires."""
    runtime.media_links.check(alert_id, name.value, exp, sig)
    alert = await alerts.get_alert(session=session, alert_id=alert_id, store_ids=None)
    wanted = evidence_file(alert, name.value)
    return await evidence_response(runtime.clips.store, wanted, request, download=False)
