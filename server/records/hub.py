"""The records of one process, from the stage that makes them to the stages that use them.

A stage publishes a record (`FrameAnalysis`, `AlertRaised`, ...); every stage that
subscribed to its type gets it, in the order they subscribed, at once, on the publisher's
thread (the event loop): a subscriber must be quick and queue any slow work of its own. The
publisher knows none of them. A subscriber that raises is logged and the others still get
the record. Records that other processes need go on through the `RecordBus` (server/bus/).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

R = TypeVar("R")


class RecordHub:
    """Typed publish/subscribe inside one process."""

    def __init__(self) -> None:
        self._subscribers: dict[type, list[Callable[[Any], None]]] = {}
        self.failures = 0  # subscriber calls that raised

    def subscribe(self, kind: type[R], take: Callable[[R], None]) -> None:
        """`take` gets every record of exactly the type `kind` published from now on."""
        self._subscribers.setdefault(kind, []).append(take)

    def publish(self, record: object) -> None:
        for take in self._subscribers.get(type(record), ()):
            try:
                take(record)
            except Exception:  # one stage's bug must not starve the others
                self.failures += 1
                logger.exception("a subscriber of %s failed", type(record).__name__)

    def subscribers(self, kind: type) -> int:
        return len(self._subscribers.get(kind, ()))
