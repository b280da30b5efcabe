"""Failed-login counting per client address, so guessing across usernames is throttled too.

Per-account lockout lives on the user row (see `server/services/auth.py`); this in-memory
window covers unknown usernames. A multi-instance deployment swaps it for a Redis one.
"""

import math
import time
from collections import defaultdict, deque

from server.errors import TooManyAttempts


class LoginThrottle:
    def __init__(self, *, max_failures: int, window_s: float) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def check(self, client: str, now: float | None = None) -> None:
        """Raise TooManyAttempts while `client` is over its failure budget."""
        now = time.monotonic() if now is None else now
        failures = self._prune(client, now)
        if len(failures) >= self.max_failures:
            retry = math.ceil(failures[0] + self.window_s - now)
            raise TooManyAttempts("too many failed sign-ins from this address", max(retry, 1))

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._prune(client, now).append(now)

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def _prune(self, client: str, now: float) -> deque[float]:
        failures = self._failures[client]
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures
