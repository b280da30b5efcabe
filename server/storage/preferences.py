"""Each user's push preferences: read, and replaced whole after checking what they name."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Conflict, InvalidRequest, NotFound
from server.storage.models import Camera, PushPreference, Store, utcnow
from shared.schemas.preferences import PushPreferencesPublic, PushPreferencesUpdate, QuietHours


def preferences_public(pref: PushPreference | None) -> PushPreferencesPublic:
    """The preferences as the API shows them; no row: the defaults."""
    if pref is None:
        return PushPreferencesPublic(updated_at=None)
    quiet = None
    if pref.quiet_start is not None and pref.quiet_end is not None:
        quiet = QuietHours(start=pref.quiet_start, end=pref.quiet_end)
    return PushPreferencesPublic(
        enabled=pref.enabled,
        store_ids=pref.store_ids,
        camera_ids=pref.camera_ids,
        quiet_hours=quiet,
        updated_at=pref.updated_at,
    )


async def get_preferences(*, session: AsyncSession, user_id: int) -> PushPreference | None:
    return await session.get(PushPreference, user_id)


async def replace_preferences(
    *,
    session: AsyncSession,
    user_id: int,
    store_scope: list[int] | None,
    prefs_in: PushPreferencesUpdate,
) -> PushPreference:
    """Store `prefs_in` as the user's preferences; `store_scope`: the stores they may see
    (None: all). Naming a store or camera outside it is NotFound, as elsewhere."""
    await _check_choice(session, store_scope, prefs_in)
    pref = await session.get(PushPreference, user_id)
    if pref is None:
        pref = PushPreference(user_id=user_id)
        session.add(pref)
    pref.enabled = prefs_in.enabled
    pref.store_ids = prefs_in.store_ids
    pref.camera_ids = prefs_in.camera_ids
    quiet = prefs_in.quiet_hours
    pref.quiet_start, pref.quiet_end = (quiet.start, quiet.end) if quiet else (None, None)
    pref.updated_at = utcnow()
    try:
        await session.flush()
    except IntegrityError as exc:  # two first saves at once
        raise Conflict("your push preferences changed meanwhile; send them again") from exc
    return pref


async def _check_choice(
    session: AsyncSession, store_scope: list[int] | None, prefs_in: PushPreferencesUpdate
) -> None:
    if prefs_in.store_ids:
        await _check_stores(session, store_scope, prefs_in.store_ids)
    if prefs_in.camera_ids:
        stores = await _check_cameras(session, store_scope, prefs_in.camera_ids)
        if prefs_in.store_ids is not None:
            outside = sorted(c for c, store in stores.items() if store not in prefs_in.store_ids)
            if outside:
                raise InvalidRequest(
                    f"cameras {outside} are not in the chosen stores {prefs_in.store_ids}; "
                    "add their stores to store_ids or leave the cameras out"
                )


async def _check_stores(
    session: AsyncSession, store_scope: list[int] | None, store_ids: list[int]
) -> None:
    query = select(Store.id).where(Store.id.in_(store_ids))
    if store_scope is not None:
        query = query.where(Store.id.in_(store_scope))
    missing = set(store_ids) - set((await session.scalars(query)).all())
    if missing:
        raise NotFound(f"stores not found: {sorted(missing)}")


async def _check_cameras(
    session: AsyncSession, store_scope: list[int] | None, camera_ids: list[int]
) -> dict[int, int]:
    """The store of each camera named."""
    query = select(Camera.id, Camera.store_id).where(Camera.id.in_(camera_ids))
    if store_scope is not None:
        query = query.where(Camera.store_id.in_(store_scope))
    stores = {row.id: row.store_id for row in (await session.execute(query)).all()}
    missing = set(camera_ids) - set(stores)
    if missing:
        raise NotFound(f"cameras not found: {sorted(missing)}")
    return stores
