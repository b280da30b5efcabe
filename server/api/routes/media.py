"""Evidence through a signed link: no Authorization header, the link is the permission."""

from fastapi import APIRouter
from fastapi.responses import FileResponse

from server.api.deps import RuntimeDep, SessionDep
from server.services.evidence import evidence_file
from server.storage import alerts
from shared.schemas.alerts import EvidenceName

router = APIRouter(prefix="/media", tags=["alerts"])


@router.get("/{alert_id}/{name}", response_class=FileResponse)
async def signed_evidence(
    alert_id: int, name: EvidenceName, exp: int, sig: str, session: SessionDep, runtime: RuntimeDep
) -> FileResponse:
    """A file of `POST /alerts/{id}/media-links`, until the link expires."""
    runtime.media_links.check(alert_id, name.value, exp, sig)
    alert = await alerts.get_alert(session=session, alert_id=alert_id, store_ids=None)
    path, media_type = evidence_file(runtime.clips.store, alert, name.value)
    return FileResponse(path, media_type=media_type)
