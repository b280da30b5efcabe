"""Stores of the chain: everyone sees theirs, admins manage them."""

from fastapi import APIRouter, status

from server.api.deps import AdminUser, AuditDep, CurrentUser, SessionDep
from server.storage import stores
from shared.schemas.stores import StoreCreate, StorePublic, StoresPublic, StoreUpdate

router = APIRouter(prefix="/stores", tags=["stores"])


@router.get("")
async def list_stores(principal: CurrentUser, session: SessionDep) -> StoresPublic:
    """Stores you may see."""
    rows = await stores.list_stores(session=session, store_ids=principal.store_scope)
    return StoresPublic(data=[StorePublic.model_validate(s) for s in rows], count=len(rows))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_store(
    body: StoreCreate, _: AdminUser, session: SessionDep, audit: AuditDep
) -> StorePublic:
    """Add a store."""
    store = await stores.create_store(session=session, store_in=body)
    await audit.record("store.create", "store", store.id, {"name": store.name})
    await session.commit()
    return StorePublic.model_validate(store)


@router.get("/{store_id}")
async def read_store(store_id: int, principal: CurrentUser, session: SessionDep) -> StorePublic:
    """One store."""
    store = await stores.get_store(
        session=session, store_id=store_id, store_ids=principal.store_scope
    )
    return StorePublic.model_validate(store)


@router.patch("/{store_id}")
async def update_store(
    store_id: int, body: StoreUpdate, _: AdminUser, session: SessionDep, audit: AuditDep
) -> StorePublic:
    """Rename a store or change its address, time zone or currency."""
    store = await stores.get_store(session=session, store_id=store_id, store_ids=None)
    await stores.update_store(session=session, store=store, store_in=body)
    await audit.record("store.update", "store", store.id, body.model_dump(exclude_unset=True))
    await session.commit()
    return StorePublic.model_validate(store)


@router.delete("/{store_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_store(store_id: int, _: AdminUser, session: SessionDep, audit: AuditDep) -> None:
    """Delete a store that has no cameras left."""
    store = await stores.get_store(session=session, store_id=store_id, store_ids=None)
    await stores.delete_store(session=session, store=store)
    await audit.record("store.delete", "store", store_id, {"name": store.name})
    await session.commit()
