"""Stores of the chain."""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Conflict, NotFound
from server.storage.models import Camera, Dvr, Store
from shared.schemas.stores import StoreCreate, StoreUpdate


async def list_stores(*, session: AsyncSession, store_ids: list[int] | None) -> Sequence[Store]:
    """Stores visible to the caller; `store_ids=None` means all."""
    query = select(Store).order_by(Store.name)
    if store_ids is not None:
        query = query.where(Store.id.in_(store_ids))
    return (await session.scalars(query)).all()


async def currencies(*, session: AsyncSession, store_ids: set[int]) -> dict[int, str]:
    """Each store's currency (ISO 4217), by store id."""
    if not store_ids:
        return {}
    query = select(Store.id, Store.currency).where(Store.id.in_(store_ids))
    return {row.id: row.currency for row in (await session.execute(query)).all()}


async def get_store(*, session: AsyncSession, store_id: int, store_ids: list[int] | None) -> Store:
    store = await session.get(Store, store_id)
    if store is None or (store_ids is not None and store_id not in store_ids):
        raise NotFound(f"store {store_id} not found")
    return store


async def create_store(*, session: AsyncSession, store_in: StoreCreate) -> Store:
    store = Store(**store_in.model_dump())
    session.add(store)
    await _flush_unique(session, store.name)
    return store


async def update_store(*, session: AsyncSession, store: Store, store_in: StoreUpdate) -> Store:
    for field, value in store_in.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(store, field, value)
    await _flush_unique(session, store.name)
    return store


async def delete_store(*, session: AsyncSession, store: Store) -> None:
    for table, what in ((Camera, "cameras"), (Dvr, "DVRs")):
        count = await session.scalar(
            select(func.count()).select_from(table).where(table.store_id == store.id)
        )
        if count:
            raise Conflict(f"store {store.id} still has {count} {what}; delete them first")
    await session.delete(store)
    await session.flush()


async def _flush_unique(session: AsyncSession, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a store named {name!r} exists") from exc
