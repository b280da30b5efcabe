"""Detection, evidence and retention settings: everyone reads, admins change."""

from fastapi import APIRouter

from server.api.deps import AdminUser, AuditDep, CurrentUser, RuntimeDep, SessionDep, SettingsDep
from server.storage import settings as settings_store
from shared.schemas.settings import RuntimeSettings, RuntimeSettingsUpdate

router = APIRouter(prefix="/settings", tags=["settings"])


@router.get("")
async def read_settings(
    _: CurrentUser, session: SessionDep, settings: SettingsDep
) -> RuntimeSettings:
    """The settings in force."""
    return await settings_store.effective_settings(session=session, settings=settings)


@router.patch("")
async def update_settings(
    body: RuntimeSettingsUpdate,
    admin: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
    runtime: RuntimeDep,
) -> RuntimeSettings:
    """Change settings; fields left out keep their values. Bounds are checked. Cameras pick
    up a new analysis rate, threshold or alert budget at once."""
    changed = await settings_store.save_settings(
        session=session, settings=settings, update=body, username=admin.user.username
    )
    await audit.record(
        "settings.update", "settings", ",".join(changed), body.model_dump(exclude_unset=True)
    )
    await session.commit()
    runtime.pipeline.request_reconcile()
    await runtime.thresholds.settings_changed()  # cameras show the new thresholds at once
    return await settings_store.effective_settings(session=session, settings=settings)
