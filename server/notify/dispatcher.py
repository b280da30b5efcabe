"""The push dispatcher: sends what the outbox holds, each push through its device's
provider, with back-off while a provider is down. A push is marked sent once, so a
provider that comes back gets every waiting push exactly once; a device whose token the
provider rejects is removed (and its waiting pushes with it).

Each push has `send_timeout_s` from start to answer, whatever its provider does (an
endpoint that answers one byte at a time is cut off and retried later), and at most
`parallel_sends` are in flight at once, so a slow device holds up the others' pushes by
no more than that deadline."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.logs import ids
from server.notify.push import Delivery, Notifier, Outcome, Target
from server.storage.models import PushDevice, PushOutbox

logger = logging.getLogger(__name__)

BATCH = 50  # pushes taken per round
IDLE_WAIT_S = 5.0  # longest sleep when nothing is due (a wake-up comes sooner)
SEND_TIMEOUT_S = 10.0
PARALLEL_SENDS = 16


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float = 1.0
    cap_s: float = 300.0
    give_up_after: timedelta = timedelta(hours=24)

    def delay(self, attempts: int) -> float:
        return float(min(self.cap_s, self.base_s * 2.0 ** max(attempts - 1, 0)))


@dataclass(slots=True)
class DispatchStats:
    sent: int = 0
    retried: int = 0
    removed_devices: int = 0
    failed: int = 0
    # what the providers answered, by (platform, Delivery value): /metrics reads it
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)


class PushDispatcher:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        notifiers: Mapping[str, Notifier],
        retry: RetryPolicy | None = None,
        send_timeout_s: float = SEND_TIMEOUT_S,
        parallel_sends: int = PARALLEL_SENDS,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.notifiers = dict(notifiers)
        self.retry = retry or RetryPolicy()
        self.send_timeout_s = send_timeout_s
        self._slots = asyncio.Semaphore(parallel_sends)
        self.stats = DispatchStats()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """New pushes are in the outbox (cheap; call after committing them)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="push-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for notifier in self.notifiers.values():  # pooled connections (APNs' HTTP/2)
            close = getattr(notifier, "aclose", None)
            if close is not None:
                await close()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                wait = await self.dispatch_due()
            except Exception:  # the database may be down: try again shortly
                logger.exception("push dispatch round failed")
                wait = IDLE_WAIT_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def dispatch_due(self) -> float:
        """Send every due push once; seconds until the next one is due (at most idle)."""
        now = datetime.now(UTC)
        async with self._sessionmaker() as session:
            due = (
                await session.execute(
                    select(PushOutbox, PushDevice)
                    .join(PushDevice, PushDevice.id == PushOutbox.device_id)
                    .where(PushOutbox.status == "pending", PushOutbox.next_attempt_at <= now)
                    .order_by(PushOutbox.id)
                    .limit(BATCH)
                    # several servers: each takes the due rows no other holds (PostgreSQL;
                    # SQLite serves one process and ignores this)
                    .with_for_update(of=PushOutbox, skip_locked=True)
                )
            ).all()
            targets = [
                (row, Target(device.id, device.platform, device.token, device.keys))
                for row, device in due
            ]
            outcomes = await asyncio.gather(*(self._send(row, t) for row, t in targets))
            gone: set[int] = set()
            tally = [
                self._apply(row, target, outcome, now, gone)
                for (row, target), outcome in zip(targets, outcomes, strict=True)
            ]
            await session.flush()
            if gone:  # the device and every push still waiting for it
                await session.execute(delete(PushOutbox).where(PushOutbox.device_id.in_(gone)))
                await session.execute(delete(PushDevice).where(PushDevice.id.in_(gone)))
            await session.commit()
            for counter in tally:  # counted once written, so what they say is in the database
                setattr(self.stats, counter, getattr(self.stats, counter) + 1)
            for (_, target), outcome in zip(targets, outcomes, strict=True):
                self.stats.outcomes[target.platform, outcome.delivery.value] += 1
            if len(due) == BATCH:
                return 0.0
            upcoming = await session.scalar(
                select(func.min(PushOutbox.next_attempt_at)).where(PushOutbox.status == "pending")
            )
        if upcoming is None:
            return IDLE_WAIT_S
        return min(IDLE_WAIT_S, max(0.0, (upcoming - datetime.now(UTC)).total_seconds()))

    async def _send(self, row: PushOutbox, target: Target) -> Outcome:
        notifier = self.notifiers.get(target.platform)
        if notifier is None:
            return Outcome(Delivery.refused, f"no {target.platform} provider is configured")
        try:
            async with self._slots, asyncio.timeout(self.send_timeout_s):
                return await notifier.send(target, row.payload)
        except TimeoutError:
            detail = f"{target.platform}: no answer within {self.send_timeout_s:g}s, cut off"
            return Outcome(Delivery.retry, detail)
        except Exception as exc:  # a notifier bug must not stop the others
            logger.exception("push %s: %s notifier failed", row.id, target.platform)
            return Outcome(Delivery.retry, f"{type(exc).__name__}: {exc}"[:300])

    def _too_old(self, row: PushOutbox, now: datetime) -> bool:
        return now - row.created_at > self.retry.give_up_after

    def _apply(
        self, row: PushOutbox, target: Target, outcome: Outcome, now: datetime, gone: set[int]
    ) -> str:
        """Record the outcome on the row; the name of the stats counter it adds to."""
        row.attempts += 1
        row.last_error = None if outcome.delivery is Delivery.sent else outcome.detail
        where = ids(alert=row.alert_id)
        if outcome.delivery is Delivery.sent:
            row.status, row.sent_at = "sent", now
            return "sent"
        if outcome.delivery is Delivery.gone:
            row.status = "failed"
            gone.add(target.device_id)
            logger.warning("device %s removed: %s", target.device_id, outcome.detail, extra=where)
            return "removed_devices"
        if outcome.delivery is Delivery.refused or now - row.created_at > self.retry.give_up_after:
            row.status = "failed"
            logger.error("push %s failed: %s", row.id, outcome.detail, extra=where)
            return "failed"
        row.next_attempt_at = now + timedelta(seconds=self.retry.delay(row.attempts))
        logger.warning(
            "push %s: %s (attempt %d, next in %.0fs)",
            row.id,
            outcome.detail,
            row.attempts,
            self.retry.delay(row.attempts),
            extra=where,
        )
        return "retried"
