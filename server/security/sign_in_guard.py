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

State is in memory, per process; several API instances swap this for a shared one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from server.security.throttle import LoginThrottle

KNOWN_MAX = 100_000  # (name, address) pairs remembered before the oldest are dropped
PAIRS_SWEEP_AT = 10_000


@dataclass(frozen=True, slots=True)
class Ticket:
    """One counted try; hand it back to `succeeded` or `failed`."""

    name: str
    address: str
    stamp: float


@dataclass(slots=True)
class _Streak:
    failures: int = 0
    last_s: float = 0.0


@dataclass
class SignInGuard:
    free_failures: int
    first_delay_s: float
    max_delay_s: float
    address_failures: int
    name_failures: int
    window_s: float
    _streaks: dict[tuple[str, str], _Streak] = field(default_factory=dict)
    _known: dict[tuple[str, str], None] = field(default_factory=dict)
    _addresses: LoginThrottle = field(init=False)
    _names: LoginThrottle = field(init=False)

    def __post_init__(self) -> None:
        self._addresses = LoginThrottle(max_failures=self.address_failures, window_s=self.window_s)
        self._names = LoginThrottle(max_failures=self.name_failures, window_s=self.window_s)

    def begin(self, name: str, address: str, now: float | None = None) -> Ticket | float:
        """Count a try at once (before anything awaits, so parallel guesses count), or say
        how many seconds to wait first."""
        now = time.monotonic() if now is None else now
        pair = (name.casefold(), address)
        streak = self._streaks.get(pair)
        if streak is not None:
            wait = streak.last_s + self._delay(streak.failures) - now
            if wait > 0:
                return float(math.ceil(wait))
        known = pair in self._known
        if not known:
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

    def succeeded(self, ticket: Ticket) -> None:
        pair = (ticket.name, ticket.address)
        self._streaks.pop(pair, None)
        self._addresses.forgive(ticket.address, ticket.stamp)
        self._names.forgive(ticket.name, ticket.stamp)
        self.remember(ticket.name, ticket.address)

    def remember(self, name: str, address: str) -> None:
        """`name` signed in (or refreshed its session) from `address`."""
        pair = (name.casefold(), address)
        self._known.pop(pair, None)
        self._known[pair] = None
        while len(self._known) > KNOWN_MAX:
            del self._known[next(iter(self._known))]

    def locked_for(self, ticket: Ticket) -> float:
        """Seconds the ticket's name must wait at its address after this failure."""
        streak = self._streaks.get((ticket.name, ticket.address))
        return self._delay(streak.failures) if streak is not None else 0.0

    def forgive_name(self, name: str) -> None:
        """An admin reset the account: its delays end at every address."""
        wanted = name.casefold()
        for pair in [pair for pair in self._streaks if pair[0] == wanted]:
            del self._streaks[pair]
        self._names.clear(wanted)

    def _delay(self, failures: int) -> float:
        if failures < self.free_failures:
            return 0.0
        return float(
            min(self.max_delay_s, self.first_delay_s * 2 ** (failures - self.free_failures))
        )

    def _sweep(self, now: float) -> None:
        self._streaks = {
            pair: streak
            for pair, streak in self._streaks.items()
            if now - streak.last_s < max(self._delay(streak.failures), self.window_s)
        }
