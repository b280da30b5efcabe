"""Invites: rows keyed by the hash of their code, claimed once by a single UPDATE."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import NotFound
from server.storage.models import Invite
from server.storage.users import stores_by_id
from shared.schemas.invites import InviteStatus


async def create_invite(
    *,
    session: AsyncSession,
    code_hash: str,
    role: str,
    store_ids: list[int],
    note: str,
    created_by: str,
    created_at: datetime,
    expires_at: datetime,
) -> Invite:
    invite = Invite(
        code_hash=code_hash,
        role=role,
        note=note,
        created_by=created_by,
        created_at=created_at,
        expires_at=expires_at,
        stores=await stores_by_id(session=session, store_ids=store_ids),
    )
    session.add(invite)
    await session.flush()
    return invite


async def get_invite(*, session: AsyncSession, invite_id: int) -> Invite:
    invite = await session.get(Invite, invite_id)
    if invite is None:
        raise NotFound(f"invite {invite_id} not found")
    return invite


async def find_invite(*, session: AsyncSession, code_hash: str) -> Invite | None:
    return await session.scalar(select(Invite).where(Invite.code_hash == code_hash))


async def list_invites(
    *, session: AsyncSession, status: InviteStatus | None, now: datetime, limit: int
) -> Sequence[Invite]:
    """The newest `limit` invites in `status` (None: whatever their state)."""
    query = select(Invite).order_by(Invite.id.desc()).limit(limit)
    if status is not None:
        query = query.where(_in_status(status, now))
    return (await session.scalars(query)).all()


def _in_status(status: InviteStatus, now: datetime) -> ColumnElement[bool]:
    """The rows in `status` at `now` (as `services.invites.status_of` tells one)."""
    if status is InviteStatus.revoked:
        return Invite.revoked_at.is_not(None)
    if status is InviteStatus.used:
        return and_(Invite.used_at.is_not(None), Invite.revoked_at.is_(None))
    open_ = and_(Invite.used_at.is_(None), Invite.revoked_at.is_(None))
    if status is InviteStatus.expired:
        return and_(open_, Invite.expires_at <= now)
    return and_(open_, Invite.expires_at > now)


async def claim_invite(
    *, session: AsyncSession, invite_id: int, username: str, now: datetime
) -> bool:
    """Mark a pending invite used by `username`; False when it no longer is pending (another
    redeemer won, or it was revoked or expired meanwhile). One statement: racing claims on
    either backend see each other's, and exactly one succeeds."""
    result = await session.execute(
        update(Invite)
        .where(
            Invite.id == invite_id,
            Invite.used_at.is_(None),
            Invite.revoked_at.is_(None),
            Invite.expires_at > now,
        )
        .values(used_at=now, used_by=username)
        .returning(Invite.id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none() is not None


async def revoke_invite(*, session: AsyncSession, invite_id: int, now: datetime) -> bool:
    """Revoke an invite not used yet; False when it was used (or revoked) already."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.used_at.is_(None), Invite.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(Invite.id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none() is not None
