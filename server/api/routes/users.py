"""User accounts (admins only)."""

from fastapi import APIRouter, status
from pydantic import BaseModel

from server.api.deps import AdminUser, AuditDep, RuntimeDep, SessionDep
from server.notify.bus import AccessChanged
from server.services import users as user_service
from server.storage import users
from server.storage.models import User, utcnow
from shared.schemas.auth import Role
from shared.schemas.users import UserCreate, UserPublic, UsersPublic, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])


class OneTimePassword(BaseModel):
    username: str
    password: str


def user_public(user: User) -> UserPublic:
    return UserPublic(
        id=user.id,
        username=user.username,
        role=Role(user.role),
        is_active=user.is_active,
        store_ids=user.store_ids,
        must_change_password=user.must_change_password,
        locked_until=user.locked_until,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
    )


@router.get("")
async def list_users(_: AdminUser, session: SessionDep) -> UsersPublic:
    """All accounts."""
    rows = await users.list_users(session=session)
    return UsersPublic(data=[user_public(u) for u in rows], count=len(rows))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_user(
    body: UserCreate, _: AdminUser, session: SessionDep, runtime: RuntimeDep, audit: AuditDep
) -> UserPublic:
    """Create an account; it must change this password at first sign-in."""
    user = await users.create_user(
        session=session,
        username=body.username,
        password_hash=await runtime.passwords.hash_async(body.password),
        role=body.role.value,
        store_ids=body.store_ids,
        must_change_password=True,
    )
    await audit.record(
        "user.create",
        "user",
        user.id,
        {"username": user.username, "role": user.role, "store_ids": body.store_ids},
    )
    await session.commit()
    return user_public(user)


@router.get("/{user_id}")
async def read_user(user_id: int, _: AdminUser, session: SessionDep) -> UserPublic:
    """One account."""
    return user_public(await users.get_user(session=session, user_id=user_id))


@router.patch("/{user_id}")
async def update_user(
    user_id: int,
    body: UserUpdate,
    admin: AdminUser,
    session: SessionDep,
    runtime: RuntimeDep,
    audit: AuditDep,
) -> UserPublic:
    """Change role, stores, active flag or password; disabling ends the user's sessions."""
    user = await users.get_user(session=session, user_id=user_id)
    changed = await user_service.update_user(
        session=session,
        user=user,
        user_in=body,
        passwords=runtime.passwords,
        actor_id=admin.user.id,
        now=utcnow(),
        actor_session=admin.session_id,
    )
    await audit.record("user.update", "user", user.id, {"changed": changed})
    await session.commit()
    runtime.bus.announce_access(AccessChanged(user.id))  # streams end or rescope at once
    if body.password is not None:
        await runtime.auth.guard.forgive_name(user.username)
    return user_public(user)


@router.post("/{user_id}/reset-password")
async def reset_password(
    user_id: int, _: AdminUser, session: SessionDep, runtime: RuntimeDep, audit: AuditDep
) -> OneTimePassword:
    """Give the user a one-time password and unlock the account."""
    user = await users.get_user(session=session, user_id=user_id)
    password = await user_service.reset_password(
        session=session, user=user, passwords=runtime.passwords, now=utcnow()
    )
    await audit.record("user.reset_password", "user", user.id)
    await session.commit()
    runtime.bus.announce_access(AccessChanged(user.id))
    await runtime.auth.guard.forgive_name(user.username)
    return OneTimePassword(username=user.username, password=password)
