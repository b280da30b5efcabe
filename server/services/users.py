"""Managing accounts, shared by the admin API and the command line."""

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.errors import Conflict
from server.security.passwords import Passwords, one_time_password
from server.storage import sessions, users
from server.storage.models import User
from shared.schemas.auth import Role
from shared.schemas.users import UserUpdate

logger = logging.getLogger(__name__)


async def update_user(
    *,
    session: AsyncSession,
    user: User,
    user_in: UserUpdate,
    passwords: Passwords,
    actor_id: int | None,
    now: datetime,
    actor_session: str | None = None,
) -> list[str]:
    """Apply an admin's changes; disabling or resetting a password ends the user's sessions
    (an admin setting their own password keeps `actor_session`, the one they did it from,
    as `/auth/password` does)."""
    changed = sorted(user_in.model_dump(exclude_unset=True, exclude_none=True))
    if actor_id == user.id and (
        user_in.is_active is False or user_in.role not in (None, Role.admin)
    ):
        raise Conflict("you cannot disable or demote your own account")
    if user_in.role is not None:
        user.role = user_in.role.value
    if user_in.store_ids is not None:
        user.stores = await users.stores_by_id(session=session, store_ids=user_in.store_ids)
    if user_in.password is not None:
        user.password_hash = await passwords.hash_async(user_in.password)
        user.must_change_password = actor_id != user.id
        user.failed_logins, user.locked_until = 0, None
    if user_in.is_active is not None:
        user.is_active = user_in.is_active
    if user_in.password is not None or user_in.is_active is False:
        keep = actor_session if actor_id == user.id else None
        await sessions.revoke_user_sessions(
            session=session, user_id=user.id, reason="changed_by_admin", now=now, keep=keep
        )
    await session.flush()
    return changed


async def reset_password(
    *, session: AsyncSession, user: User, passwords: Passwords, now: datetime
) -> str:
    """Give the user a one-time password, unlock it and end its sessions; return the password."""
    password = one_time_password()
    user.password_hash = await passwords.hash_async(password)
    user.must_change_password = True
    user.failed_logins, user.locked_until = 0, None
    await sessions.revoke_user_sessions(
        session=session, user_id=user.id, reason="password_reset", now=now
    )
    await session.flush()
    return password


async def ensure_initial_admin(
    *, session: AsyncSession, settings: Settings, passwords: Passwords
) -> str | None:
    """Create the first admin when there are no users; return its one-time password if generated."""
    if await users.count_users(session=session) > 0:
        return None
    configured = settings.auth.initial_admin_password
    password = configured.get_secret_value() if configured else one_time_password()
    try:
        await users.create_user(
            session=session,
            username=settings.auth.initial_admin_username,
            password_hash=await passwords.hash_async(password),
            role=Role.admin.value,
            store_ids=[],
            must_change_password=configured is None,
        )
        await session.commit()
    except Conflict:  # another instance created it first
        await session.rollback()
        return None
    return None if configured else password
