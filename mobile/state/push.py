"""Registering this device for push notifications, once signed in, renewing it when the
token changes, and removing it on sign-out (a shared phone stops getting the last user's
alerts).

The token comes from the platform. On Android and iOS builds it is the phone's FCM token
from the flet_push extension (mobile/extensions/flet_push, installed by those builds
only), and a tapped notification opens its alert: the extension's event pushes the route
`/alerts/<id>`, which the app follows. The web app has no token source of its own: a
browser subscribes on the server's Web Push page (`web_push_link`), and desktops have none.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

import flet as ft

from mobile.api.client import ApiClient
from mobile.api.errors import ApiError
from mobile.i18n import _
from mobile.state.account import Account
from mobile.state.preferences import Preferences
from shared.api_paths import WEB_PUSH_PAGE
from shared.schemas.devices import DevicePublic, DeviceRegister, PushPlatform

if TYPE_CHECKING:
    from flet_push import (
        FirebaseMessaging,
        FirebaseOptions,
        NotificationOpenedEvent,
        TokenRefreshEvent,
    )

DEVICE_KEY = "shopguard.push_device"
# The Firebase project's files, shipped beside mobile/ in the built app (docs/push.md)
FIREBASE_DIR = Path(__file__).resolve().parents[2] / "firebase"
GOOGLE_SERVICES = "google-services.json"
SERVICE_INFO_PLIST = "GoogleService-Info.plist"


class PushTokenError(Exception):
    """The platform could not give a token; the message says why, for the person."""


class PushTokens(Protocol):
    """A platform's push token source."""

    platform: PushPlatform

    async def token(self) -> str | None:
        """This device's current token; None while the user has not allowed pushes.
        Raises PushTokenError when the platform fails to give one."""
        ...


def platform_tokens(page: ft.Page | None = None) -> PushTokens | None:
    """The token source this build has: FCM through flet_push on Android and iOS builds
    (`page`'s platform; the current page by default), none elsewhere."""
    page = page if page is not None else ft.context.page
    if page.web or page.platform not in (ft.PagePlatform.ANDROID, ft.PagePlatform.IOS):
        return None
    if importlib.util.find_spec("flet_push") is None:  # only those builds install it
        return None
    return FirebaseTokens(page.platform)


class FirebaseTokens:
    """This phone's FCM token through the flet_push extension's `FirebaseMessaging`
    service, which is made on first use, inside the app's session (a Flet service joins
    the current page). A tapped notification with an `alert_id` pushes `/alerts/<id>`."""

    platform = PushPlatform.fcm

    def __init__(
        self, device: ft.PagePlatform = ft.PagePlatform.ANDROID, folder: Path = FIREBASE_DIR
    ) -> None:
        self._device, self._folder = device, folder  # where the Firebase files are
        self._messaging: FirebaseMessaging | None = None
        self.renewed: Callable[[], Awaitable[None]] | None = None  # the token changed

    def messaging(self) -> FirebaseMessaging:
        from flet_push import FirebaseMessaging

        if self._messaging is None:
            options = firebase_options(self._device, self._folder)
            self._messaging = FirebaseMessaging(
                api_key=None if options is None else options.api_key,
                app_id=None if options is None else options.app_id,
                messaging_sender_id=None if options is None else options.messaging_sender_id,
                project_id=None if options is None else options.project_id,
                ios_bundle_id=None if options is None else options.ios_bundle_id,
                on_notification_opened=self._opened,
                on_token_refresh=self._refreshed,
            )
        return self._messaging

    async def token(self) -> str | None:
        from flet_push import PermissionStatus

        try:
            messaging = self.messaging()
            if await messaging.request_permission() is PermissionStatus.DENIED:
                return None
            return await messaging.get_token()
        # a bad Firebase file, the client's error, or no answer
        except (ValueError, RuntimeError, TimeoutError) as exc:
            raise PushTokenError(
                _("this phone gave no push token ({problem})").format(problem=exc)
            ) from exc

    async def _opened(self, event: NotificationOpenedEvent) -> None:
        if event.alert_id is not None:
            await event.page.push_route(f"/alerts/{event.alert_id}")

    async def _refreshed(self, event: TokenRefreshEvent) -> None:
        if self.renewed is not None:
            await self.renewed()


def firebase_options(
    device: ft.PagePlatform, folder: Path = FIREBASE_DIR
) -> FirebaseOptions | None:
    """The Firebase app's options from the project's file for `device` in `folder`
    (google-services.json on Android, GoogleService-Info.plist on iOS); None when the
    build has none (Firebase then reads the Flutter project's own native config)."""
    from flet_push import FirebaseOptions

    if device is ft.PagePlatform.IOS:
        plist = folder / SERVICE_INFO_PLIST
        return (
            FirebaseOptions.from_service_info_plist(plist.read_bytes()) if plist.is_file() else None
        )
    services = folder / GOOGLE_SERVICES
    return (
        FirebaseOptions.from_google_services(services.read_text()) if services.is_file() else None
    )


async def web_push_link(client: ApiClient, app_url: str | None = None) -> str:
    """The server's Web Push page for this browser, signed in with a short-lived access
    token in the fragment (never sent to a server; the page drops it from the address
    bar). `app_url`: the web app's address, which a tapped notification opens at
    `/alerts/<id>`."""
    fragment = f"token={quote(await client.fresh_access_token(), safe='')}"
    if app_url:
        fragment += f"&app={quote(app_url, safe='')}"
    return f"{client.address}{WEB_PUSH_PAGE}/#{fragment}"


class PushRegistration:
    def __init__(
        self, account: Account, preferences: Preferences, tokens: PushTokens | None
    ) -> None:
        self._account, self._preferences, self._tokens = account, preferences, tokens
        self.device: DevicePublic | None = None
        self.problem: str | None = None
        self._name = ""
        if isinstance(tokens, FirebaseTokens):
            tokens.renewed = self.renew

    @property
    def supported(self) -> bool:
        return self._tokens is not None

    async def register(self, name: str) -> DevicePublic | None:
        """Register (or renew) this device for the signed-in user; None without a token.
        A failure is kept in `problem`, not raised: alerts still arrive in the app."""
        self._name = name
        client = self._account.client
        if self._tokens is None or client is None:
            return None
        try:
            token = await self._tokens.token()
        except PushTokenError as exc:
            self.problem = str(exc)
            return None
        if token is None:
            self.problem = _("pushes are not allowed on this device")
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

    async def renew(self) -> None:
        """The platform replaced the token: register the new one and drop the old device
        (whose token no longer works) when signed in."""
        before = self.device
        if before is None:
            return
        after = await self.register(self._name)
        client = self._account.client
        if after is not None and after.id != before.id and client is not None:
            try:
                await client.delete_device(before.id)
            except ApiError:
                pass  # gone already, or offline: the server drops dead tokens itself

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
