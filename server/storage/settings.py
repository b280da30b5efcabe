"""Runtime settings edited through the API, stored as per-field overrides of the configuration.

Only the fields an admin set are stored, so a later change of the configuration still
reaches every field nobody overrode.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.storage.models import SettingOverride, utcnow
from shared.schemas.settings import RuntimeSettings, RuntimeSettingsUpdate

SECTIONS = ("detection", "clips", "retention")


async def _overrides(session: AsyncSession) -> dict[str, SettingOverride]:
    rows = (await session.scalars(select(SettingOverride))).all()
    return {row.key: row for row in rows if row.key in SECTIONS}


def _effective(settings: Settings, overrides: dict[str, dict[str, Any]]) -> RuntimeSettings:
    values = {}
    for section in SECTIONS:
        configured = getattr(settings, section).model_dump()
        known = {k: v for k, v in overrides.get(section, {}).items() if k in configured}
        values[section] = configured | known
    return RuntimeSettings.model_validate(values)


async def effective_settings(*, session: AsyncSession, settings: Settings) -> RuntimeSettings:
    """The configuration with the stored overrides on top."""
    rows = await _overrides(session)
    return _effective(settings, {key: row.value for key, row in rows.items()})


async def save_settings(
    *, session: AsyncSession, settings: Settings, update: RuntimeSettingsUpdate, username: str
) -> list[str]:
    """Store the fields given (the result must validate as a whole); others keep their values.

    Returns the names of the sections touched.
    """
    given: dict[str, dict[str, Any]] = {
        section: fields
        for section, fields in update.model_dump(exclude_unset=True).items()
        if fields
    }
    rows = await _overrides(session)
    overrides = {key: dict(row.value) for key, row in rows.items()}
    for section, fields in given.items():
        overrides[section] = overrides.get(section, {}) | fields
    _effective(settings, overrides)  # raises ValidationError if the whole does not hold
    for section in given:
        row = rows.get(section)
        if row is None:
            session.add(SettingOverride(key=section, value=overrides[section], updated_by=username))
        else:
            row.value, row.updated_by, row.updated_at = overrides[section], username, utcnow()
    await session.flush()
    return sorted(given, key=SECTIONS.index)
