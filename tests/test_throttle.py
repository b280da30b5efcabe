"""The sign-in windows and delays: counted up front, forgiven on success, bounded in memory;
the guard's rules hold alike in this process and shared through Redis."""

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from server.security.redis_sign_in_guard import RedisSignInGuard
from server.security.sign_in_guard import LocalSignInGuard, SignInRules, Ticket
from server.security.throttle import SWEEP_AT, LoginThrottle
from tests.redis_server import RedisServer

Guard = LocalSignInGuard | RedisSignInGuard
MakeGuard = Callable[[SignInRules], Guard]
HOME, AWAY = "10.0.0.1", "10.0.0.2"


def rules(**changes: float) -> SignInRules:
    base = {
        "free_failures": 2,
        "first_delay_s": 10,
        "max_delay_s": 35,
        "address_failures": 100,
        "name_failures": 100,
        "window_s": 60,
    }
    return SignInRules(**{**base, **changes})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer.running(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(params=["local", "redis"])
async def make_guard(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MakeGuard]:
    """Guards for given rules: in this process, or on a Redis of the test's own."""
    made: list[Guard] = []
    server: RedisServer | None = None
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")

    def make(rules: SignInRules) -> Guard:
        if server is None:
            guard: Guard = LocalSignInGuard(rules)
        else:
            prefix = f"test-{len(made)}-{tmp_path.name}"
            guard = RedisSignInGuard.connect(server.url, prefix=prefix, rules=rules)
        made.append(guard)
        return guard

    yield make
    for guard in made:
        await guard.aclose()


async def forgive(guard: Guard, name: str, now: float) -> None:
    """An admin's reset at `now` (the shared guard reads Redis's clock unless told)."""
    if isinstance(guard, RedisSignInGuard):
        await guard.forgive_name(name, now=now)
    else:
        await guard.forgive_name(name)


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


async def test_a_name_waits_longer_after_each_failure_up_to_the_cap(make_guard: MakeGuard) -> None:
    guard = make_guard(rules())
    now, waits = 0.0, []
    for _ in range(5):
        ticket = await guard.begin("Clerk", HOME, now=now)
        assert isinstance(ticket, Ticket)
        waits.append(await guard.locked_for(ticket))
        if waits[-1]:  # a try before the wait is over is refused, and not counted
            refused = await guard.begin("clerk", HOME, now=now + 0.5)
            assert refused == math.ceil(waits[-1] - 0.5)
        now += waits[-1]
    assert waits == [0.0, 10.0, 20.0, 35.0, 35.0]  # the name is compared without case
    ticket = await guard.begin("clerk", HOME, now=now)
    assert isinstance(ticket, Ticket)
    await guard.succeeded(ticket)  # a success ends the streak
    assert isinstance(await guard.begin("clerk", HOME, now=now), Ticket)


async def test_a_burst_of_parallel_tries_is_counted_before_any_is_checked(
    make_guard: MakeGuard,
) -> None:
    guard = make_guard(rules(free_failures=3, first_delay_s=30))
    burst = await asyncio.gather(*(guard.begin("clerk", AWAY, now=5.0) for _ in range(12)))
    assert sum(isinstance(answer, Ticket) for answer in burst) == 3
    assert sorted(answer for answer in burst if not isinstance(answer, Ticket)) == [30.0] * 9


async def test_an_address_guessing_names_waits_except_for_names_known_there(
    make_guard: MakeGuard,
) -> None:
    guard = make_guard(rules(address_failures=3, window_s=60))
    await guard.remember("Clerk", HOME)  # signed in here before
    for index in range(3):  # a broken device tries three names
        assert isinstance(await guard.begin(f"till-{index}", HOME, now=10.0 + index), Ticket)
    assert await guard.begin("newbie", HOME, now=20.0) == 50.0  # till-0 leaves at 70
    assert isinstance(await guard.begin("clerk", HOME, now=20.0), Ticket)
    assert isinstance(await guard.begin("newbie", AWAY, now=20.0), Ticket)  # other addresses
    assert await guard.begin("newbie", HOME, now=70.0) == 1.0  # clerk's try counts too
    assert isinstance(await guard.begin("newbie", HOME, now=72.0), Ticket)  # the window moved


async def test_a_name_guessed_from_everywhere_waits_except_where_it_signed_in(
    make_guard: MakeGuard,
) -> None:
    guard = make_guard(rules(name_failures=3))
    first = await guard.begin("admin", HOME, now=0.0)
    assert isinstance(first, Ticket)
    await guard.succeeded(first)  # the owner, at their usual address; this try does not count
    for index in range(3):
        assert isinstance(await guard.begin("admin", f"198.51.100.{index}", now=1.0), Ticket)
    assert await guard.begin("admin", "198.51.100.99", now=2.0) == 59.0
    assert isinstance(await guard.begin("ADMIN", HOME, now=2.0), Ticket)


async def test_an_admin_reset_ends_the_names_waits_at_every_address(
    make_guard: MakeGuard,
) -> None:
    guard = make_guard(rules(free_failures=1, name_failures=4))
    for address in (HOME, AWAY):
        for now in (0.0, 10.0):
            assert isinstance(await guard.begin("clerk", address, now=now), Ticket)
    assert await guard.begin("clerk", HOME, now=11.0) == 19.0  # 2 failures: 20 s from 10
    assert await guard.begin("clerk", "10.0.0.3", now=11.0) == 49.0  # the name's window
    await forgive(guard, "Clerk", now=12.0)
    for address in (HOME, AWAY, "10.0.0.3"):
        ticket = await guard.begin("clerk", address, now=13.0)
        assert isinstance(ticket, Ticket)
        assert await guard.locked_for(ticket) == 10.0  # a new streak: one failure
    assert await guard.begin("clerk", HOME, now=14.0) == 9.0  # and it counts again
