"""Stable identifiers of the controls people use, for the accessibility tree (and so for
screen readers and the browser tests): `[flt-semantics-identifier=<id>]` on the web."""

from __future__ import annotations

import flet as ft

SERVER_ADDRESS = "server-address"
TEST_CONNECTION = "test-connection"
CONNECTION_RESULT = "connection-result"
USERNAME = "username"
PASSWORD = "password"
SIGN_IN = "sign-in"
LOGIN_ERROR = "login-error"
LINK_STATE = "link-state"
ALERT_LIST = "alert-list"
ALERT_STATUS_FILTER = "alert-status-filter"
ALERT_CAMERA_FILTER = "alert-camera-filter"
ALERT_TIME_FILTER = "alert-time-filter"
ACKNOWLEDGE = "acknowledge"
OUTCOME = "outcome"
NOTES = "notes"
MARK_REVIEWED = "mark-reviewed"
REVIEW_RESULT = "review-result"
BACK = "back"
SIGN_OUT = "sign-out"
STATS_TOTALS = "stats-totals"
STATS_RANGE = "stats-range"
STATS_DATES = "stats-dates"
STATS_CAMERAS = "stats-cameras"
LOAD_MORE = "load-more"
CLIP_STATE = "clip-state"
ADD_CAMERA = "add-camera"
CAMERA_NAME = "camera-name"
CAMERA_KIND = "camera-kind"
CAMERA_SOURCE = "camera-source"
CAMERA_TEST = "camera-test"
CAMERA_TEST_RESULT = "camera-test-result"
CAMERA_SAVE = "camera-save"
DVR_NAME = "dvr-name"
DVR_TEMPLATE = "dvr-template"
DVR_SAVE = "dvr-save"
SOUND = "sound"
PUSH_STATE = "push-state"
PUSH_ENABLED = "push-enabled"
QUIET_START = "quiet-start"
QUIET_END = "quiet-end"
SAVE_NOTIFICATIONS = "save-notifications"
SAVE_SETTINGS = "save-settings"
HAVE_INVITE = "have-invite"
PAIRING_SERVER = "pairing-server"
INVITE_CODE = "invite-code"
NEW_USERNAME = "new-username"
NEW_PASSWORD = "new-password"
REPEAT_PASSWORD = "repeat-password"
JOIN = "join"
PAIRING_ERROR = "pairing-error"
BACK_TO_SIGN_IN = "back-to-sign-in"
INVITE_ROLE = "invite-role"
CREATE_INVITE = "create-invite"
INVITE_CREATED = "invite-created"
INVITE_QR = "invite-qr"
CLIP_PLAYER = "clip-player"
PLAY_CLIP = "play-clip"
CLIP_SWITCH = "clip-switch"
ALERT_FACTS = "alert-facts"
SAVE_NOTE = "save-note"
SHARE_EVIDENCE = "share-evidence"
SHARE_LINK = "share-link"
SHARE_FACTS = "share-facts"
REFRESH = "refresh"
SERVER_MENU = "server-menu"
APP_TITLE = "app-title"
SECTION_SERVER = "section-server"
SECTION_ACCOUNT = "section-account"
SECTION_NOTIFICATIONS = "section-notifications"
SECTION_APPEARANCE = "section-appearance"
SECTION_CAMERAS = "section-cameras"
SECTION_DETECTION = "section-detection"
SECTION_USERS = "section-users"
SECTION_ABOUT = "section-about"
THEME_MODE = "theme-mode"
BROWSER_PUSH = "browser-push"
LANGUAGE = "language"
ABOUT_VERSIONS = "about-versions"
ABOUT_MODEL = "about-model"
ADD_SERVER = "add-server"
ANALYTICS_STORE = "analytics-store"
ANALYTICS_CAMERA = "analytics-camera"
ANALYTICS_RANGE = "analytics-range"
ANALYTICS_FOOTFALL = "analytics-footfall"
ANALYTICS_OCCUPANCY = "analytics-occupancy"
ANALYTICS_DWELL = "analytics-dwell"
ANALYTICS_HEATMAP = "analytics-heatmap"
ANALYTICS_HEATMAP_PICTURE = "analytics-heatmap-picture"
ANALYTICS_QUEUES = "analytics-queues"
LINES_ZONES_PICTURE = "lines-zones-picture"
LINES_ZONES_HELP = "lines-zones-help"
ADD_LINE = "add-line"
ADD_ZONE = "add-zone"
FINISH_ZONE = "finish-zone"
CANCEL_DRAWING = "cancel-drawing"
DRAWING_NAME = "drawing-name"
DRAWING_KIND = "drawing-kind"
SAVE_LINES_ZONES = "save-lines-zones"
LINES_ZONES_RESULT = "lines-zones-result"


def alert_row(alert_id: int) -> str:
    return f"alert-{alert_id}"


def outcome_button(outcome: str) -> str:
    return f"outcome-{outcome}"


def server_row(address: str) -> str:
    return f"server-{address}"


def store_heading(store_id: int) -> str:
    return f"store-{store_id}"


def camera_row(camera_id: int) -> str:
    return f"camera-{camera_id}"


def stats_camera(camera_id: int) -> str:
    return f"stats-camera-{camera_id}"


def admin_camera_row(camera_id: int) -> str:
    return f"admin-camera-{camera_id}"


def lines_zones_button(camera_id: int) -> str:
    return f"lines-zones-{camera_id}"


def drawn_item(index: int) -> str:
    """A line or zone in the editor's list, in its order there."""
    return f"drawn-{index}"


def invite_row(invite_id: int) -> str:
    return f"invite-{invite_id}"


def tagged(identifier: str, control: ft.Control) -> ft.Semantics:
    return ft.Semantics(identifier=identifier, content=control)


def labelled(identifier: str, label: str, control: ft.Control) -> ft.Semantics:
    """Tagged, and read out as `label` (a card whose parts a screen reader would not join)."""
    return ft.Semantics(identifier=identifier, label=label, content=control)
