"""The audit log: one row per state-changing call, written in the same transaction."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.storage.models import AuditEntry, utcnow


async def record(
    *,
    session: AsyncSession,
    user_id: int | None,
    username: str,
    action: str,
    target_type: str = "",
    target_id: str | int = "",
    details: dict[str, Any] | None = None,
    client: str = "",
) -> None:
    session.add(
        AuditEntry(
            at=utcnow(),
            user_id=user_id,
            username=username,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            details=details or {},
            client=client[:255],
        )
    )
    await session.flush()


async def list_entries(
    *,
    session: AsyncSession,
    action: str | None,
    username: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[AuditEntry], int]:
    conditions = []
    if action is not None:
        conditions.append(AuditEntry.action == action)
    if username is not None:
        conditions.append(AuditEntry.username == username)
    if since is not None:
        conditions.append(AuditEntry.at >= since)
    total = await session.scalar(select(func.count(AuditEntry.id)).where(*conditions))
    rows = (
        await session.scalars(
            select(AuditEntry)
            .where(*conditions)
            .order_by(AuditEntry.id.desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return rows, int(total or 0)
