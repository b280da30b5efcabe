"""Registering this device for push notifications, once signed in, and removing it on
sign-out (a shared phone stops getting the last user's alerts).

The token comes from the platform: FCM on Android, APNs on iOS, a Web Push subscription in a
browser. Flet 1.0.5 has no API for any of them and no JavaScript bridge, so `platform_tokens`
finds none on the builds made here; a build that compiles in a token extension supplies a
`PushTokens`, and the rest (registration, renewal, removal) is this module."""

from __future__ import annotations

from typing import Protocol

from mobile.api.errors import ApiError
from mobile.state.account import Account
from mobile.state.preferences import Preferences
from shared.schemas.devices import DevicePublic, DeviceRegister, PushPlatform

DEVICE_KEY = "shopguard.push_device"


class PushTokens(Protocol):
    """A platform's push token source."""

    platform: PushPlatform

    async def token(self) -> str | None:
        """This device's current token; None while the user has not allowed pushes."""
        ...


def platform_tokens() -> PushTokens | None:
    """The token source this build has: none with Flet 1.0.5's own packages."""
    return None


class PushRegistration:
    def __init__(
        self, account: Account, preferences: Preferences, tokens: PushTokens | None
    ) -> None:
        self._account, self._preferences, self._tokens = account, preferences, tokens
        self.device: DevicePublic | None = None
        self.problem: str | None = None

    @property
    def supported(self) -> bool:
        return self._tokens is not None

    async def register(self, name: str) -> DevicePublic | None:
        """Register (or renew) this device for the signed-in user; None without a token.
        A failure is kept in `problem`, not raised: alerts still arrive in the app."""
        client = self._account.client
        if self._tokens is None or client is None:
            return None
        token = await self._tokens.token()
        if token is None:
            self.problem = "pushes are not allowed on this device"
            return None
        try:
            self.device = await client.register_device(
                DeviceRegister(platform=self._tokens.platform, token=token, name=name)
            )
        except ApiError as exc:
            self.problem = exc.message
            return None
        self.problem = None
        await self._preferences.set(DEVICE_KEY, str(self.device.id))
        return self.device

    async def unregister(self) -> None:
        """Before sign-out: stop pushes to this device (best effort when offline)."""
        kept = await self._preferences.get(DEVICE_KEY)
        client = self._account.client
        if kept is not None and client is not None:
            try:
                await client.delete_device(int(kept))
            except ApiError:
                pass  # gone already, or offline: the server drops dead tokens itself
        await self._preferences.remove(DEVICE_KEY)
        self.device = None
