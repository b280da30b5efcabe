"""The alerts the user sees, newest first: loaded over REST, kept current by live events,
filtered by status, camera and time, with an unread count for the navigation badge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.schemas.alerts import AlertPublic, AlertStatus
from shared.schemas.events import AlertCreated, AlertUpdated


@dataclass(frozen=True)
class AlertFilter:
    statuses: frozenset[AlertStatus] = frozenset()  # none: every status
    camera_id: int | None = None
    since: datetime | None = None

    def matches(self, alert: AlertPublic) -> bool:
        return (
            (not self.statuses or alert.status in self.statuses)
            and (self.camera_id is None or alert.camera_id == self.camera_id)
            and (self.since is None or alert.started_at >= self.since)
        )


@dataclass
class AlertBook:
    filter: AlertFilter = field(default_factory=AlertFilter)
    next_cursor: str | None = None
    _alerts: dict[int, AlertPublic] = field(default_factory=dict)
    _unread: set[int] = field(default_factory=set)

    def reset(self) -> None:
        """Nothing known (another server is in use)."""
        self._alerts, self._unread, self.next_cursor = {}, set(), None

    def replace(self, alerts: list[AlertPublic], next_cursor: str | None) -> None:
        """A fresh page from the server for the current filter (read state kept)."""
        self._alerts = {alert.id: alert for alert in alerts}
        self.next_cursor = next_cursor

    def extend(self, alerts: list[AlertPublic], next_cursor: str | None) -> None:
        """The next, older page."""
        for alert in alerts:
            self._alerts.setdefault(alert.id, alert)
        self.next_cursor = next_cursor

    def apply(self, event: AlertCreated | AlertUpdated) -> bool:
        """A live event; True when the list the user sees changed."""
        alert = event.alert
        known = self._alerts.get(alert.id)
        if known is not None and known.version > alert.version:
            return False  # an older state than the one shown
        if known is not None and alert.currency is None:  # live events do not name it
            alert = alert.model_copy(update={"currency": known.currency})
        if isinstance(event, AlertCreated) and alert.status is AlertStatus.new:
            self._unread.add(alert.id)
        if alert.status is not AlertStatus.new:
            self._unread.discard(alert.id)
        if self.filter.matches(alert):
            self._alerts[alert.id] = alert
            return True
        return self._alerts.pop(alert.id, None) is not None

    def visible(self) -> list[AlertPublic]:
        shown = (a for a in self._alerts.values() if self.filter.matches(a))
        return sorted(shown, key=lambda a: (a.started_at, a.id), reverse=True)

    def get(self, alert_id: int) -> AlertPublic | None:
        return self._alerts.get(alert_id)

    def is_unread(self, alert_id: int) -> bool:
        return alert_id in self._unread

    def mark_read(self, alert_id: int | None = None) -> None:
        """One alert, or all."""
        if alert_id is None:
            self._unread.clear()
        else:
            self._unread.discard(alert_id)

    @property
    def unread(self) -> int:
        return len(self._unread)
