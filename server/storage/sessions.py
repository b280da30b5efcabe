"""Signed-in sessions and their rotating refresh tokens."""

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from server.storage.models import AuthSession, RefreshToken, User


async def open_session(
    *, session: AsyncSession, user_id: int, client: str, now: datetime
) -> AuthSession:
    auth_session = AuthSession(
        id=str(uuid.uuid4()), user_id=user_id, client=client[:255], created_at=now, last_used_at=now
    )
    session.add(auth_session)
    await session.flush()
    return auth_session


async def add_refresh_token(
    *, session: AsyncSession, session_id: str, token_hash: str, expires_at: datetime
) -> None:
    session.add(RefreshToken(session_id=session_id, token_hash=token_hash, expires_at=expires_at))
    await session.flush()


async def find_refresh_token(
    *, session: AsyncSession, token_hash: str
) -> tuple[RefreshToken, AuthSession] | None:
    row = (
        await session.execute(
            select(RefreshToken, AuthSession)
            .join(AuthSession, AuthSession.id == RefreshToken.session_id)
            .where(RefreshToken.token_hash == token_hash)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def claim_refresh_token(*, session: AsyncSession, token_id: int, now: datetime) -> bool:
    """Mark a refresh token used; False if another request used it first."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get_session(*, session: AsyncSession, session_id: str) -> AuthSession | None:
    return await session.get(AuthSession, session_id)


async def get_session_and_user(
    *, session: AsyncSession, session_id: str, user_id: int
) -> tuple[AuthSession, User] | None:
    """The session of `user_id` with its user and the user's stores, in one query: every
    signed-in request asks (a query is several round trips to SQLite's thread)."""
    result = await session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.id == session_id, AuthSession.user_id == user_id)
        .options(joinedload(User.stores))
    )
    found = result.unique().one_or_none()
    return None if found is None else (found[0], found[1])


async def revoke_session(
    *, session: AsyncSession, session_id: str, reason: str, now: datetime
) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason=reason)
    )


async def revoke_user_sessions(
    *, session: AsyncSession, user_id: int, reason: str, now: datetime, keep: str | None = None
) -> None:
    """End every session of a user (password change, disable), optionally but one."""
    query = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    await session.execute(query.values(revoked_at=now, revoke_reason=reason))
