"""Small values the app keeps on the device between runs (server address, tokens)."""

from __future__ import annotations

from typing import Protocol

import flet as ft


class Preferences(Protocol):
    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str) -> None: ...
    async def remove(self, key: str) -> None: ...


class DevicePreferences:
    """The platform's own store (SharedPreferences, NSUserDefaults, the browser's
    localStorage) through Flet."""

    def __init__(self) -> None:
        self._store = ft.SharedPreferences()

    async def get(self, key: str) -> str | None:
        value = await self._store.get(key)
        return value if isinstance(value, str) else None

    async def set(self, key: str, value: str) -> None:
        await self._store.set(key, value)

    async def remove(self, key: str) -> None:
        await self._store.remove(key)


class MemoryPreferences:
    """Kept for this run only (a device without storage, and the in-process tests)."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = dict(values or {})

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def set(self, key: str, value: str) -> None:
        self.values[key] = value

    async def remove(self, key: str) -> None:
        self.values.pop(key, None)
