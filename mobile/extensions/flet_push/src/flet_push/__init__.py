"""Firebase Cloud Messaging for Flet apps on Android and iOS: the `FirebaseMessaging`
service (this device's token, the permission to notify, the notification the user tapped)
and `FirebaseOptions`, read from the Firebase project's own config files."""

from flet_push.messaging import (
    FirebaseMessaging,
    NotificationOpenedEvent,
    PermissionStatus,
    TokenRefreshEvent,
)
from flet_push.options import FirebaseOptions

__all__ = [
    "FirebaseMessaging",
    "FirebaseOptions",
    "NotificationOpenedEvent",
    "PermissionStatus",
    "TokenRefreshEvent",
]
