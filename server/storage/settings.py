"""Runtime settings edited through the API, stored as overrides of the configured defaults."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.storage.models import SettingOverride, utcnow
from shared.schemas.settings import RuntimeSettings, RuntimeSettingsUpdate

SECTIONS = ("detection", "clips", "retention")


async def effective_settings(*, session: AsyncSession, settings: Settings) -> RuntimeSettings:
    """The configured sections, replaced by any stored override."""
    values = {section: getattr(settings, section).model_dump() for section in SECTIONS}
    for row in (await session.scalars(select(SettingOverride))).all():
        if row.key in values:
            values[row.key] = row.value
    return RuntimeSettings.model_validate(values)


async def save_settings(
    *, session: AsyncSession, settings: Settings, update: RuntimeSettingsUpdate, username: str
) -> list[str]:
    """Merge the given fields into the settings in force and store the touched sections.

    Fields left out keep their current values. Returns the names of the touched sections.
    """
    given = update.model_dump(exclude_unset=True)
    merged = (await effective_settings(session=session, settings=settings)).model_dump()
    for section, fields in given.items():
        merged[section].update(fields or {})
    RuntimeSettings.model_validate(merged)  # the merged whole must hold too
    changed = [section for section in SECTIONS if given.get(section)]
    for section in changed:
        row = await session.get(SettingOverride, section)
        if row is None:
            session.add(SettingOverride(key=section, value=merged[section], updated_by=username))
        else:
            row.value, row.updated_by, row.updated_at = merged[section], username, utcnow()
    await session.flush()
    return changed
