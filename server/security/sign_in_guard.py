"""Who may try a password now: delays that neither tell which users exist nor let a stranger
lock anyone out.

- A name and an address: after `free_failures` failures in a row, each further try from
  that address for that name waits a delay that doubles per failure (up to `max_delay_s`).
  The key is the name as typed, so a made-up name is delayed exactly like a real one.
- An address: too many failures across names in a window (guessing usernames) throttle it,
  except for names that signed in from it before: a store behind one NAT keeps working.
- A name: too many failures from all addresses in a window (guessing from many machines)
  delay the name everywhere except at addresses where it signed in before, so its owner is
  not locked out by strangers.

`SignInGuard` is what `AuthService` needs; `LocalSignInGuard` keeps the state in this
process (one box), `server.security.redis_sign_in_guard` in Redis (several API instances),
and `server.security.sign_in_failover.make_sign_in_guard` chooses.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Protocol

from server.config import AuthConfig
from server.security.throttle import LoginThrottle

KNOWN_MAX = 100_000  # (name, address) pairs remembered before the oldest are dropped
PAIRS_SWEEP_AT = 10_000


@dataclass(frozen=True, slots=True)
class Ticket:
    """One counted try; hand it back to `succeeded` or `locked_for` of the guard that gave it.

    `name` is casefolded; `tag` names the try in a shared guard's windows ("" when local)."""

    name: str
    address: str
    stamp: float
    tag: str = ""


@dataclass(frozen=True, slots=True)
class SignInRules:
    free_failures: int
    first_delay_s: float
    max_delay_s: float
    address_failures: int
    name_failures: int
    window_s: float

    @classmethod
    def of(cls, config: AuthConfig) -> SignInRules:
        return cls(
            free_failures=config.lockout_threshold,
            first_delay_s=config.lockout_first_delay_s,
            max_delay_s=config.lockout_s,
            address_failures=config.client_max_failures,
            name_failures=config.name_max_failures,
            window_s=config.client_window_s,
        )

    def delay(self, failures: int) -> float:
        """Seconds a name waits at an address after `failures` failures in a row there."""
        if failures < self.free_failures:
            return 0.0
        return float(
            min(self.max_delay_s, self.first_delay_s * 2 ** (failures - self.free_failures))
        )


class SignInGuard(Protocol):
    """The sign-in throttle as `AuthService` uses it, wherever its state lives."""

    async def begin(self, name: str, address: str) -> Ticket | float:
        """Count a try at once (so parallel guesses count), or say how many seconds to wait."""
        ...

    async def succeeded(self, ticket: Ticket) -> None:
        """The password was right: end the streak, uncount the try, remember the pair."""
        ...

    async def remember(self, name: str, address: str) -> None:
        """`name` signed in (or refreshed its session) from `address`."""
        ...

    async def locked_for(self, ticket: Ticket) -> float:
        """Seconds the ticket's name must wait at its address after this failure."""
        ...

    async def forgive_name(self, name: str) -> None:
        """An admin reset the account: its delays end at every address."""
        ...

    async def aclose(self) -> None: ...


@dataclass(slots=True)
class _Streak:
    failures: int = 0
    last_s: float = 0.0


@dataclass
class LocalSignInGuard:
    """The guard's state in this process's memory, on the monotonic clock."""

    rules: SignInRules
    _streaks: dict[tuple[str, str], _Streak] = field(default_factory=dict)
    _known: dict[tuple[str, str], None] = field(default_factory=dict)
    _addresses: LoginThrottle = field(init=False)
    _names: LoginThrottle = field(init=False)

    def __post_init__(self) -> None:
        window_s = self.rules.window_s
        self._addresses = LoginThrottle(max_failures=self.rules.address_failures, window_s=window_s)
        self._names = LoginThrottle(max_failures=self.rules.name_failures, window_s=window_s)

    async def begin(self, name: str, address: str, now: float | None = None) -> Ticket | float:
        # nothing here awaits: a try is counted before a parallel one is looked at
        now = time.monotonic() if now is None else now
        pair = (name.casefold(), address)
        streak = self._streaks.get(pair)
        if streak is not None:
            wait = streak.last_s + self.rules.delay(streak.failures) - now
            if wait > 0:
                return float(math.ceil(wait))
        if pair not in self._known:
            for window, key in ((self._addresses, address), (self._names, pair[0])):
                if window.over_budget(key, now):
                    return float(window.retry_after(key, now))
        if len(self._streaks) >= PAIRS_SWEEP_AT:
            self._sweep(now)
        streak = self._streaks.setdefault(pair, _Streak())
        streak.failures, streak.last_s = streak.failures + 1, now  # until it succeeds
        self._addresses.count(address, now)
        self._names.count(pair[0], now)
        return Ticket(pair[0], address, now)

    async def succeeded(self, ticket: Ticket) -> None:
        pair = (ticket.name, ticket.address)
        self._streaks.pop(pair, None)
        self._addresses.forgive(ticket.address, ticket.stamp)
        self._names.forgive(ticket.name, ticket.stamp)
        await self.remember(ticket.name, ticket.address)

    async def remember(self, name: str, address: str) -> None:
        pair = (name.casefold(), address)
        self._known.pop(pair, None)
        self._known[pair] = None
        while len(self._known) > KNOWN_MAX:
            del self._known[next(iter(self._known))]

    async def locked_for(self, ticket: Ticket) -> float:
        streak = self._streaks.get((ticket.name, ticket.address))
        return self.rules.delay(streak.failures) if streak is not None else 0.0

    async def forgive_name(self, name: str) -> None:
        wanted = name.casefold()
        for pair in [pair for pair in self._streaks if pair[0] == wanted]:
            del self._streaks[pair]
        self._names.clear(wanted)

    async def aclose(self) -> None:
        return None

    def _sweep(self, now: float) -> None:
        self._streaks = {
            pair: streak
            for pair, streak in self._streaks.items()
            if now - streak.last_s < max(self.rules.delay(streak.failures), self.rules.window_s)
        }
