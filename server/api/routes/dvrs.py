"""DVRs and NVRs: one entry becomes a camera per channel."""

from fastapi import APIRouter, status

from server.api.deps import AdminUser, AuditDep, CurrentUser, RuntimeDep, SessionDep
from server.security.redact import redact_url
from server.storage import cameras, stores
from shared.schemas.cameras import DvrCreate, DvrPublic, DvrsPublic

router = APIRouter(prefix="/dvrs", tags=["cameras"])


@router.get("")
async def list_dvrs(principal: CurrentUser, session: SessionDep) -> DvrsPublic:
    """DVRs you may see."""
    rows = await cameras.list_dvrs(session=session, store_ids=principal.store_scope)
    return DvrsPublic(data=[cameras.dvr_public(d) for d in rows], count=len(rows))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_dvr(
    body: DvrCreate, _: AdminUser, session: SessionDep, runtime: RuntimeDep, audit: AuditDep
) -> DvrPublic:
    """Add a DVR and one camera for each of its channels."""
    await stores.get_store(session=session, store_id=body.store_id, store_ids=None)
    dvr = await cameras.create_dvr(session=session, dvr_in=body)
    await audit.record(
        "dvr.create",
        "dvr",
        dvr.id,
        {"name": dvr.name, "channels": dvr.channels, "template": redact_url(dvr.url_template)},
    )
    await session.commit()
    runtime.pipeline.request_reconcile()
    return cameras.dvr_public(dvr)


@router.get("/{dvr_id}")
async def read_dvr(dvr_id: int, principal: CurrentUser, session: SessionDep) -> DvrPublic:
    """One DVR with its cameras."""
    dvr = await cameras.get_dvr(session=session, dvr_id=dvr_id, store_ids=principal.store_scope)
    return cameras.dvr_public(dvr)


@router.delete("/{dvr_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_dvr(
    dvr_id: int, _: AdminUser, session: SessionDep, runtime: RuntimeDep, audit: AuditDep
) -> None:
    """Delete a DVR with its cameras, unless they have alerts."""
    dvr = await cameras.get_dvr(session=session, dvr_id=dvr_id, store_ids=None)
    await cameras.delete_dvr(session=session, dvr=dvr)
    await audit.record("dvr.delete", "dvr", dvr_id, {"name": dvr.name})
    await session.commit()
    runtime.pipeline.request_reconcile()
