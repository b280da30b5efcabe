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


def alert_row(alert_id: int) -> str:
    return f"alert-{alert_id}"


def camera_row(camera_id: int) -> str:
    return f"camera-{camera_id}"


def tagged(identifier: str, control: ft.Control) -> ft.Semantics:
    return ft.Semantics(identifier=identifier, content=control)
