"""A sliding window of failures per key (an address, a name): the building block of
`server.security.sign_in_guard`. A multi-instance deployment swaps it for a Redis one."""

import math
import time
from collections import deque

SWEEP_AT = 10_000  # addresses tracked before expired ones are swept out


class LoginThrottle:
    def __init__(self, *, max_failures: int, window_s: float) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._attempts: dict[str, deque[float]] = {}

    def attempt(self, client: str, now: float | None = None) -> float | None:
        """Count an attempt from `client` at once (before anything awaits, so parallel
        guesses are counted too); None when the client is over its budget, else the stamp
        to `forgive` if the attempt succeeds."""
        now = time.monotonic() if now is None else now
        if self.over_budget(client, now):
            return None
        self.count(client, now)
        return now

    def over_budget(self, client: str, now: float) -> bool:
        attempts = self._attempts.get(client)
        if attempts is None:
            return False
        while attempts and attempts[0] <= now - self.window_s:
            attempts.popleft()
        return len(attempts) >= self.max_failures

    def count(self, client: str, now: float) -> None:
        if len(self._attempts) >= SWEEP_AT:
            self._sweep(now)
        self._attempts.setdefault(client, deque()).append(now)

    def clear(self, client: str) -> None:
        self._attempts.pop(client, None)

    def retry_after(self, client: str, now: float | None = None) -> int:
        """Seconds until `client` may try again."""
        now = time.monotonic() if now is None else now
        attempts = self._attempts.get(client)
        if not attempts:
            return 0
        return max(math.ceil(attempts[0] + self.window_s - now), 1)

    def forgive(self, client: str, stamp: float) -> None:
        """A successful attempt does not count; earlier failures still do."""
        attempts = self._attempts.get(client)
        if attempts is not None and stamp in attempts:
            attempts.remove(stamp)

    @property
    def tracked(self) -> int:
        return len(self._attempts)

    def _sweep(self, now: float) -> None:
        cutoff = now - self.window_s
        self._attempts = {
            client: attempts
            for client, attempts in self._attempts.items()
            if attempts and attempts[-1] > cutoff
        }
