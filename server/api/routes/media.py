"""Evidence through a signed link: no Authorization header, the link is the permission."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.api.deps import RuntimeDep, SessionDep
from server.api.evidence_response import evidence_response
from server.services.evidence import evidence_file
from server.storage import alerts
from shared.schemas.alerts import EvidenceName

router = APIRouter(prefix="/media", tags=["alerts"])


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
