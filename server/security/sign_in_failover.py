"""Which sign-in guard an instance uses, and what happens when Redis is away.

Without `redis.url` the guard lives in this process (one box). With it, the guard's state is
shared through Redis; while Redis does not answer, this instance falls back to its own guard
(its own failures and delays, and the pairs it saw signing in), so a Redis outage never
locks the owners out, and it asks Redis again every `retry_s` until Redis answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Literal, TypeVar

from redis.exceptions import RedisError

from server.config import Settings
from server.security.redis_sign_in_guard import RedisSignInGuard
from server.security.sign_in_guard import LocalSignInGuard, SignInGuard, SignInRules, Ticket

logger = logging.getLogger(__name__)

RETRY_S = 2.0  # while Redis is away, how often a sign-in asks it again
REDIS_AWAY = (RedisError, OSError)
T = TypeVar("T")


class _Away(Enum):
    AWAY = "away"


AWAY = _Away.AWAY  # what `_ask` says instead of an answer while Redis is away


def make_sign_in_guard(settings: Settings) -> SignInGuard:
    """The guard for these settings: shared through Redis when `redis.url` is set."""
    local = LocalSignInGuard(SignInRules.of(settings.auth))
    if settings.redis.url is None:
        return local
    shared = RedisSignInGuard.connect(
        settings.redis.url.get_secret_value(), prefix=settings.redis.prefix, rules=local.rules
    )
    return FailoverSignInGuard(shared=shared, local=local)


@dataclass
class FailoverSignInGuard:
    """`shared` while Redis answers, `local` while it does not.

    Known pairs are remembered in both, so that an owner who signed in through this instance
    before an outage is still known here during it. A ticket goes back to the guard that gave
    it (a shared one has a `tag`)."""

    shared: RedisSignInGuard
    local: LocalSignInGuard
    retry_s: float = RETRY_S
    _retry_at: float | None = None  # monotonic; set while Redis is away

    async def begin(self, name: str, address: str) -> Ticket | float:
        ticket = await self._ask(lambda: self.shared.begin(name, address))
        return await self.local.begin(name, address) if ticket is AWAY else ticket

    async def succeeded(self, ticket: Ticket) -> None:
        if not ticket.tag:  # counted here while Redis was away
            await self.local.succeeded(ticket)
            return
        await self.local.remember(ticket.name, ticket.address)
        await self._ask(lambda: self.shared.succeeded(ticket), even_if_away=True)

    async def remember(self, name: str, address: str) -> None:
        await self.local.remember(name, address)
        await self._ask(lambda: self.shared.remember(name, address))

    async def locked_for(self, ticket: Ticket) -> float:
        if not ticket.tag:
            return await self.local.locked_for(ticket)
        wait = await self._ask(lambda: self.shared.locked_for(ticket), even_if_away=True)
        return 0.0 if wait is AWAY else wait

    async def forgive_name(self, name: str) -> None:
        await self.local.forgive_name(name)
        await self._ask(lambda: self.shared.forgive_name(name), even_if_away=True)

    async def aclose(self) -> None:
        await self.shared.aclose()

    @property
    def shared_now(self) -> bool:
        """Whether the next sign-in asks Redis."""
        return self._retry_at is None or time.monotonic() >= self._retry_at

    async def _ask(
        self, call: Callable[[], Awaitable[T]], *, even_if_away: bool = False
    ) -> T | Literal[_Away.AWAY]:
        """Redis's answer, or AWAY while Redis is away (not asked, or it did not answer)."""
        if not (even_if_away or self.shared_now):
            return AWAY
        try:
            answer = await call()
        except REDIS_AWAY as exc:
            if self._retry_at is None:
                logger.warning(
                    "Redis does not answer (%s): sign-in delays are this instance's own "
                    "until it does",
                    exc,
                )
            self._retry_at = time.monotonic() + self.retry_s
            return AWAY
        if self._retry_at is not None:
            logger.warning("Redis answers again: sign-in delays are shared again")
            self._retry_at = None
        return answer
