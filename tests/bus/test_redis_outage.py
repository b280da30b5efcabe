"""Redis goes away (the process really stopped) and comes back on the same port and folder:
nothing published before, during or after is lost, for a group consumer and a broadcast
reader alike; a full publish buffer says so and still delivers what it holds."""

import asyncio
import contextlib
import logging
from collections import Counter

import pytest

from server.bus import FIRST_ID, BusUnavailable, RedisStreamsBus, entry_order
from tests.bus.conftest import CLAIM_IDLE_S, READINGS, Reading
from tests.redis_server import RedisServer, until, until_async

logger = logging.getLogger(__name__)

OUTAGE_S = 10.0
PUBLISH_EVERY_S = 0.02  # 50 records a second, from a camera worker's bus
WITHIN_S = 90.0  # generous: a loaded CI box, and back-off up to 2 s after the return


async def stop(server: RedisServer) -> None:
    await asyncio.to_thread(server.stop)
    assert not server.answers()  # really gone: the port refuses


async def test_nothing_is_lost_while_redis_is_stopped_for_10_s(redis_server: RedisServer) -> None:
    worker = RedisStreamsBus(redis_server.url, claim_idle_s=CLAIM_IDLE_S)  # publishes
    api = RedisStreamsBus(redis_server.url, claim_idle_s=CLAIM_IDLE_S)  # consumes and tails
    consumed: list[int] = []
    tailed: list[tuple[str, int]] = []
    published: list[asyncio.Future[str]] = []

    async def consume() -> None:
        async for delivery in api.consume(READINGS, group="alerting", consumer="api-1"):
            consumed.append(delivery.record.n)
            await api.ack(delivery)

    async def tail() -> None:
        async for entry_id, reading in api.tail(READINGS, after=FIRST_ID):
            tailed.append((entry_id, reading.n))

    async def publish(until_stopped: asyncio.Event) -> None:
        while not until_stopped.is_set():
            published.append(worker.publish_nowait(READINGS, Reading(n=len(published))))
            await asyncio.sleep(PUBLISH_EVERY_S)  # the camera's pace

    readers = [asyncio.create_task(consume()), asyncio.create_task(tail())]
    stop_publishing = asyncio.Event()
    publisher = asyncio.create_task(publish(stop_publishing))
    try:
        await until(
            "records flow before the outage", lambda: len(consumed) >= 20 and len(tailed) >= 20
        )
        await stop(redis_server)
        before = len(published)
        await asyncio.sleep(OUTAGE_S)  # the outage itself; publishing goes on meanwhile
        during = len(published) - before
        await asyncio.to_thread(redis_server.start)
        await until(
            "records published after the return", lambda: len(published) >= before + during + 50
        )
        stop_publishing.set()
        await publisher
        total = len(published)
        await until("every publish written", lambda: all(f.done() for f in published), WITHIN_S)
        await until("the consumer has them all", lambda: len(set(consumed)) == total, WITHIN_S)
        await until(
            "the reader has them all", lambda: len({n for _, n in tailed}) == total, WITHIN_S
        )
    finally:
        stop_publishing.set()
        for task in [*readers, publisher]:
            task.cancel()
        await asyncio.gather(*readers, publisher, return_exceptions=True)
        await worker.close()
        await api.close()

    assert during >= 0.5 * OUTAGE_S / PUBLISH_EVERY_S  # published on while Redis was away
    assert sorted(set(consumed)) == list(range(total))
    assert sorted({n for _, n in tailed}) == list(range(total))
    ids = [f.result() for f in published]
    assert sorted(ids, key=entry_order) == ids  # in publish order, across the outage
    # at least once: a duplicate is a batch written again after its answer was lost
    consumer_duplicates = sum(c - 1 for c in Counter(consumed).values())
    reader_duplicates = sum(c - 1 for c in Counter(n for _, n in tailed).values())
    tailed_ids = [i for i, _ in tailed]
    assert len(set(tailed_ids)) == len(tailed_ids)  # the reader never saw an entry twice
    assert consumer_duplicates <= 256 and reader_duplicates <= 256, (
        consumer_duplicates,
        reader_duplicates,
    )
    logger.info(
        "%d records (%d during the outage); duplicates: consumer %d, reader %d",
        total,
        during,
        consumer_duplicates,
        reader_duplicates,
    )


async def test_a_full_buffer_raises_bus_unavailable_and_what_it_holds_arrives(
    redis_server: RedisServer,
) -> None:
    bus = RedisStreamsBus(redis_server.url, buffer_max=50)
    try:
        ids = [await bus.publish(READINGS, Reading(n=n)) for n in range(5)]
        await stop(redis_server)
        held = [bus.publish_nowait(READINGS, Reading(n=n)) for n in range(5, 55)]

        async def refused_because_unreachable() -> bool:
            with pytest.raises(BusUnavailable) as refused:
                bus.publish_nowait(READINGS, Reading(n=99))
            return "unreachable" in str(refused.value)

        await until_async("the buffer knows Redis is away", refused_because_unreachable)
        with pytest.raises(
            BusUnavailable,
            match=r"50 records already wait to be published.*Redis has been unreachable for "
            r"[0-9.]+ s .*This record was not published",
        ):
            await bus.publish(READINGS, Reading(n=99))
        assert not any(f.done() for f in held)

        await asyncio.to_thread(redis_server.start)
        await until("the buffer written", lambda: all(f.done() for f in held), WITHIN_S)
        ids += [f.result() for f in held]
        stored = await bus.read_range(READINGS, after=FIRST_ID, limit=100)
    finally:
        with contextlib.suppress(Exception):
            await bus.close()

    assert [(i, r.n) for i, r in stored] == list(zip(ids, range(55), strict=True))
