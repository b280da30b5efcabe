"""`FirebaseMessaging`, a Flet service whose client side (src/flutter/flet_push) is
FlutterFire's firebase_messaging: the phone's FCM token, the permission to show
notifications, a token that changed, and the notification the user tapped (while the app
ran, or the one that started it)."""

from dataclasses import dataclass
from enum import Enum

import flet as ft

TOKEN_TIMEOUT_S = 30.0  # iOS first waits for APNs to hand the phone its token
PERMISSION_TIMEOUT_S = 300.0  # the system asks the user, who may take a while


class PermissionStatus(Enum):
    """What the user allowed: firebase_messaging's AuthorizationStatus, by name."""

    AUTHORIZED = "authorized"
    PROVISIONAL = "provisional"  # iOS: delivered quietly to the notification centre
    DENIED = "denied"
    NOT_DETERMINED = "notDetermined"


@dataclass
class NotificationOpenedEvent(ft.Event["FirebaseMessaging"]):
    """The user tapped a notification. `data` (the event's payload) is the message's data."""

    alert_id: int | None
    """The message data's `alert_id`; None when it has none."""


@dataclass
class TokenRefreshEvent(ft.Event["FirebaseMessaging"]):
    """FCM replaced this device's token: register the new one."""

    token: str


@ft.control("FirebaseMessaging")
class FirebaseMessaging(ft.Service):
    """Firebase Cloud Messaging on this phone.

    Firebase is set up from the options below when they are given (from the project's
    google-services.json or GoogleService-Info.plist, see `FirebaseOptions`), otherwise
    from the native config files of the Flutter project.
    """

    api_key: str | None = None
    app_id: str | None = None
    messaging_sender_id: str | None = None
    project_id: str | None = None
    ios_bundle_id: str | None = None

    on_notification_opened: ft.EventHandler[NotificationOpenedEvent] | None = None
    """A notification was tapped: while the app ran, or the one that started it."""

    on_token_refresh: ft.EventHandler[TokenRefreshEvent] | None = None
    """This device's token changed."""

    async def request_permission(self) -> PermissionStatus:
        """Ask the user to allow notifications (the system asks once; later calls return
        the answer given). Android 13 and later and iOS ask; older Android allows."""
        status = await self._invoke_method("request_permission", timeout=PERMISSION_TIMEOUT_S)
        return PermissionStatus(status)

    async def get_token(self) -> str | None:
        """This device's FCM registration token; None when there is none (Google Play
        services missing, no network yet)."""
        token = await self._invoke_method("get_token", timeout=TOKEN_TIMEOUT_S)
        return str(token) if token else None
