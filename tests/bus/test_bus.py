"""The record bus, the same behaviour on LocalBus and RedisStreamsBus: a work queue per
consumer group (ordered, split between consumers, claimed from dead ones) and a broadcast
that every reader sees whole and can resume."""

import asyncio
import contextlib
import time

from server.bus import FIRST_ID, Delivery, RecordBus, entry_order
from tests.bus.conftest import CLAIM_IDLE_S, READINGS, Reading
from tests.redis_server import until

WITHIN_S = 60.0  # a read that should come at once; generous for a loaded CI box


async def take(
    bus: RecordBus, count: int, *, group: str, consumer: str, ack: bool
) -> list[Delivery[Reading]]:
    """The next `count` deliveries to `consumer`, acked or not; then the consumer stops."""
    taken: list[Delivery[Reading]] = []
    async with asyncio.timeout(WITHIN_S):
        async with contextlib.aclosing(
            bus.consume(READINGS, group=group, consumer=consumer)
        ) as deliveries:
            async for delivery in deliveries:
                taken.append(delivery)
                if ack:
                    await bus.ack(delivery)
                if len(taken) == count:
                    break
    return taken


async def test_a_group_consumer_gets_entries_in_publish_order(bus: RecordBus) -> None:
    ids = [await bus.publish(READINGS, Reading(n=n)) for n in range(20)]
    assert sorted(ids, key=entry_order) == ids and len(set(ids)) == 20  # ids grow

    taken = await take(bus, 20, group="alerting", consumer="c1", ack=True)

    assert [(d.id, d.record.n, d.attempts) for d in taken] == [(i, n, 1) for n, i in enumerate(ids)]
    assert {(d.topic, d.group) for d in taken} == {("readings", "alerting")}


async def test_acked_entries_are_not_handed_out_again_unacked_ones_are(bus: RecordBus) -> None:
    for n in range(6):
        await bus.publish(READINGS, Reading(n=n))
    acked = await take(bus, 3, group="g", consumer="c1", ack=True)
    unacked = await take(bus, 3, group="g", consumer="c1", ack=False)
    await bus.publish(READINGS, Reading(n=6))

    # the same consumer starting again: first what it took and never acked, then new entries
    again = await take(bus, 4, group="g", consumer="c1", ack=True)

    assert [d.record.n for d in acked + unacked] == [0, 1, 2, 3, 4, 5]
    assert [d.record.n for d in again] == [3, 4, 5, 6]
    # handed out before: 2 or more (Redis also counts entries it read ahead in a batch)
    assert [d.attempts >= 2 for d in again] == [True, True, True, False]
    assert again[-1].attempts == 1


async def test_two_consumers_of_a_group_split_the_entries_each_exactly_once(bus: RecordBus) -> None:
    seen: dict[str, list[int]] = {"c1": [], "c2": []}

    async def work(consumer: str) -> None:
        async for delivery in bus.consume(READINGS, group="push", consumer=consumer):
            seen[consumer].append(delivery.record.n)
            await asyncio.sleep(0.01)  # the work itself, so that the other consumer gets a turn
            await bus.ack(delivery)

    workers = [asyncio.create_task(work(c)) for c in seen]
    try:
        for n in range(40):
            await bus.publish(READINGS, Reading(n=n))
            await asyncio.sleep(0.005)  # a camera's pace, not a wait for a result
        await until("40 deliveries", lambda: len(seen["c1"]) + len(seen["c2"]) >= 40, WITHIN_S)
        # long enough for an entry left unacked to be handed out again: none is
        await asyncio.sleep(3 * CLAIM_IDLE_S)
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    assert seen["c1"] and seen["c2"], seen  # both had a share
    assert sorted(seen["c1"] + seen["c2"]) == list(range(40))  # each entry once, none lost
    assert seen["c1"] == sorted(seen["c1"]) and seen["c2"] == sorted(seen["c2"])


async def test_a_dead_consumers_entries_go_to_a_live_one_after_claim_idle_s(bus: RecordBus) -> None:
    for n in range(10):
        await bus.publish(READINGS, Reading(n=n))
    took: list[tuple[int, float]] = []

    async def dies_holding_entries() -> None:
        async with contextlib.aclosing(
            bus.consume(READINGS, group="clips", consumer="dead")
        ) as deliveries:
            async for delivery in deliveries:
                took.append((delivery.record.n, time.monotonic()))
                if len(took) == 5:
                    await asyncio.Event().wait()  # hangs holding them, never acks

    dead = asyncio.create_task(dies_holding_entries())
    await until("the doomed consumer took 5 entries", lambda: len(took) == 5, WITHIN_S)
    dead.cancel()  # the crash: its entries stay delivered and unacked
    await asyncio.gather(dead, return_exceptions=True)

    survived: dict[int, tuple[int, float]] = {}
    async with asyncio.timeout(WITHIN_S):
        async for delivery in bus.consume(READINGS, group="clips", consumer="live"):
            survived[delivery.record.n] = (delivery.attempts, time.monotonic())
            await bus.ack(delivery)
            if len(survived) == 10:
                break

    assert sorted(survived) == list(range(10))  # nothing lost
    for n, taken_at in took:
        attempts, claimed_at = survived[n]
        assert attempts >= 2, (n, attempts)
        assert claimed_at - taken_at >= 0.8 * CLAIM_IDLE_S, (n, claimed_at - taken_at)


async def test_every_broadcast_reader_sees_every_entry(bus: RecordBus) -> None:
    await bus.publish(READINGS, Reading(n=-1))  # before the readers' cursor: not theirs
    start = await bus.last_id(READINGS)
    seen: dict[str, list[tuple[str, int]]] = {"api-1": [], "api-2": []}

    async def read(name: str) -> None:
        async for entry_id, reading in bus.tail(READINGS, after=start):
            seen[name].append((entry_id, reading.n))

    readers = [asyncio.create_task(read(name)) for name in seen]
    try:
        ids = [await bus.publish(READINGS, Reading(n=n)) for n in range(30)]
        await until("both readers saw 30", lambda: min(map(len, seen.values())) >= 30, WITHIN_S)
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

    for name in seen:
        assert [n for _, n in seen[name]] == list(range(30)), name
        assert [i for i, _ in seen[name]] == ids, name


async def test_a_reader_resumes_after_its_last_id_with_nothing_lost_or_repeated(
    bus: RecordBus,
) -> None:
    ids = [await bus.publish(READINGS, Reading(n=n)) for n in range(10)]
    before: list[tuple[str, int]] = []
    async with (
        asyncio.timeout(WITHIN_S),
        contextlib.aclosing(bus.tail(READINGS, after=FIRST_ID)) as entries,
    ):
        async for entry_id, reading in entries:
            before.append((entry_id, reading.n))
            if len(before) == 4:
                break  # the client goes away, e.g. to another API instance
    ids += [await bus.publish(READINGS, Reading(n=n)) for n in range(10, 15)]

    after: list[tuple[str, int]] = []
    async with (
        asyncio.timeout(WITHIN_S),
        contextlib.aclosing(bus.tail(READINGS, after=before[-1][0])) as entries,
    ):
        async for entry_id, reading in entries:
            after.append((entry_id, reading.n))
            if len(after) == 11:
                break

    assert [n for _, n in before + after] == list(range(15))
    assert [i for i, _ in before + after] == ids


async def test_read_range_replays_stored_entries_after_an_id(bus: RecordBus) -> None:
    assert await bus.last_id(READINGS) == FIRST_ID
    ids = [await bus.publish(READINGS, Reading(n=n)) for n in range(10)]

    replay = await bus.read_range(READINGS, after=ids[4], limit=3)

    assert [(i, r.n) for i, r in replay] == [(ids[5], 5), (ids[6], 6), (ids[7], 7)]
    assert [r.n for _, r in await bus.read_range(READINGS, after=FIRST_ID, limit=100)] == list(
        range(10)
    )
    assert await bus.read_range(READINGS, after=ids[-1], limit=10) == []
    assert await bus.last_id(READINGS) == ids[-1]


async def test_consumers_and_readers_end_quietly_when_the_bus_closes(bus: RecordBus) -> None:
    await bus.publish(READINGS, Reading(n=0))
    got: list[int] = []

    async def consume() -> None:
        async for delivery in bus.consume(READINGS, group="g", consumer="c1"):
            got.append(delivery.record.n)

    async def tail() -> None:
        async for _, reading in bus.tail(READINGS, after=FIRST_ID):
            got.append(reading.n)

    tasks = [asyncio.create_task(consume()), asyncio.create_task(tail())]
    await until("both read the entry", lambda: len(got) == 2, WITHIN_S)
    await bus.close()

    async with asyncio.timeout(WITHIN_S):
        results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results == [None, None]  # ended, no error
