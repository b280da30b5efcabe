"""The sign-in windows and delays: counted up front, forgiven on success, bounded in memory."""

import math

from server.security.sign_in_guard import SignInGuard, Ticket
from server.security.throttle import SWEEP_AT, LoginThrottle


def test_budget_window_and_forgiveness() -> None:
    throttle = LoginThrottle(max_failures=3, window_s=60)
    stamps = [throttle.attempt("10.0.0.1", now=t) for t in (0.0, 1.0, 2.0)]
    assert None not in stamps
    assert throttle.attempt("10.0.0.1", now=3.0) is None  # over budget
    assert throttle.retry_after("10.0.0.1", now=3.0) == 57
    assert throttle.attempt("10.0.0.2", now=3.0) is not None  # other addresses are not affected
    assert throttle.attempt("10.0.0.1", now=60.5) is not None  # the first attempt aged out
    throttle.forgive("10.0.0.1", 60.5)  # a success does not count; window: 2.0 only
    assert throttle.attempt("10.0.0.1", now=61.0) is not None
    assert throttle.attempt("10.0.0.1", now=61.5) is not None
    assert throttle.attempt("10.0.0.1", now=61.6) is None  # 2.0 still counts


def test_memory_stays_bounded_under_many_addresses() -> None:
    throttle = LoginThrottle(max_failures=3, window_s=60)
    for index in range(3 * SWEEP_AT):
        throttle.attempt(f"2001:db8::{index:x}", now=float(index // 100))
    assert throttle.tracked <= SWEEP_AT + 1


def test_a_name_waits_longer_after_each_failure_up_to_the_cap() -> None:
    guard = SignInGuard(
        free_failures=2,
        first_delay_s=10,
        max_delay_s=35,
        address_failures=100,
        name_failures=100,
        window_s=60,
    )
    now, waits = 0.0, []
    for _ in range(5):
        ticket = guard.begin("Clerk", "10.0.0.1", now=now)
        assert isinstance(ticket, Ticket)
        waits.append(guard.locked_for(ticket))
        if waits[-1]:  # a try before the wait is over is refused, and not counted
            assert guard.begin("clerk", "10.0.0.1", now=now + 0.5) == math.ceil(waits[-1] - 0.5)
        now += waits[-1]
    assert waits == [0.0, 10.0, 20.0, 35.0, 35.0]  # the name is compared without case
    ticket = guard.begin("clerk", "10.0.0.1", now=now)
    assert isinstance(ticket, Ticket)
    guard.succeeded(ticket)  # a success ends the streak
    assert isinstance(guard.begin("clerk", "10.0.0.1", now=now), Ticket)
