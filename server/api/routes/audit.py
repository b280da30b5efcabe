"""The audit log (admins only)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import AdminUser, SessionDep
from server.api.params import as_utc
from server.storage import audit
from shared.schemas.audit import AuditEntryPublic, AuditLogPublic

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
async def read_audit_log(
    _: AdminUser,
    session: SessionDep,
    action: Annotated[str | None, Query(max_length=60)] = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditLogPublic:
    """Who changed what and when, newest first."""
    rows, count = await audit.list_entries(
        session=session,
        action=action,
        username=username,
        since=as_utc(since),
        limit=limit,
        offset=offset,
    )
    return AuditLogPublic(data=[AuditEntryPublic.model_validate(r) for r in rows], count=count)
