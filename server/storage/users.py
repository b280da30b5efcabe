"""User accounts and the stores each may see."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Conflict, NotFound
from server.storage.models import Store, User


async def get_user(*, session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


async def find_user(*, session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def list_users(*, session: AsyncSession) -> Sequence[User]:
    return (await session.scalars(select(User).order_by(User.username))).all()


async def count_users(*, session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def stores_by_id(*, session: AsyncSession, store_ids: list[int]) -> list[Store]:
    """The stores named, or NotFound listing the ids that do not exist."""
    wanted = set(store_ids)
    stores = list((await session.scalars(select(Store).where(Store.id.in_(wanted)))).all())
    missing = wanted - {store.id for store in stores}
    if missing:
        raise NotFound(f"stores not found: {sorted(missing)}")
    return stores


async def count_failed_attempt(*, session: AsyncSession, user_id: int, now: datetime) -> int | None:
    """Count a failed or pending attempt in one statement (parallel guesses each count);
    None while the account is locked, which counts nothing."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    )
    attempts = result.scalar_one_or_none()
    return None if attempts is None else int(attempts)


async def count_failed_sign_in(
    *, session: AsyncSession, user_id: int, locked_until: datetime | None
) -> None:
    """For admins to see: one more failed sign-in, and until when its address must wait."""
    values: dict[str, object] = {"failed_logins": User.failed_logins + 1}
    if locked_until is not None:
        values["locked_until"] = locked_until
    await _set(session, user_id, values)


async def lock_user(*, session: AsyncSession, user_id: int, until: datetime) -> None:
    await _set(session, user_id, {"locked_until": until, "failed_logins": 0})


async def clear_failed_attempts(
    *, session: AsyncSession, user_id: int, last_login_at: datetime | None
) -> None:
    values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
    if last_login_at is not None:
        values["last_login_at"] = last_login_at
    await _set(session, user_id, values)


async def _set(session: AsyncSession, user_id: int, values: dict[str, object]) -> None:
    """One UPDATE of the user's row, without loading it."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def create_user(
    *,
    session: AsyncSession,
    username: str,
    password_hash: str,
    role: str,
    store_ids: list[int],
    must_change_password: bool = False,
) -> User:
    user = User(
        username=username,
        password_hash=password_hash,
        role=role,
        must_change_password=must_change_password,
        stores=await stores_by_id(session=session, store_ids=store_ids),
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"username {username!r} is taken") from exc
    return user
