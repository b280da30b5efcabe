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
    *, session: AsyncSession, update: RuntimeSettingsUpdate, username: str
) -> list[str]:
    """Store the given sections; return the names of those that were given."""
    changed = []
    for section in SECTIONS:
        value = getattr(update, section)
        if value is None:
            continue
        row = await session.get(SettingOverride, section)
        if row is None:
            session.add(SettingOverride(key=section, value=value.model_dump(), updated_by=username))
        else:
            row.value, row.updated_by, row.updated_at = value.model_dump(), username, utcnow()
        changed.append(section)
    await session.flush()
    return changed
