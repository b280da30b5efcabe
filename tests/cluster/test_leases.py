"""Workers share the enabled cameras by lease: each camera held once, capacities kept, a dead
worker's cameras taken over within the lease, a newcomer given a share, stale leases gone."""

import asyncio
import time

import pytest
from sqlalchemy import delete, select, update

from server.storage.models import Camera, CameraLease
from tests.cluster.conftest import HEARTBEAT_S, LEASE_S, Cluster, rounds, wait_until


def assert_disjoint(*held: frozenset[int]) -> None:
    seen: set[int] = set()
    for cameras in held:
        assert not seen & cameras, f"held twice: {sorted(seen & cameras)}"
        seen |= cameras


@pytest.mark.parametrize(
    ("capacities", "expected"),
    [
        ((10, 10), (3, 3)),  # room to spare: an even split
        ((2, 10), (2, 4)),  # the small worker fills up, the other takes the rest
        ((2, 3), (2, 3)),  # too little room together: both full, one camera unheld
    ],
)
async def test_two_workers_hold_every_camera_once_within_capacity(
    cluster: Cluster, capacities: tuple[int, int], expected: tuple[int, int]
) -> None:
    cameras = await cluster.add_cameras(6)
    earlier = cluster.worker("earlier")
    assert await earlier.renew_and_claim() == frozenset(cameras)  # then it dies
    a, b = cluster.worker("a", capacities[0]), cluster.worker("b", capacities[1])

    async def both_claim_at_once() -> bool:
        held_a, held_b = await asyncio.gather(a.renew_and_claim(), b.renew_and_claim())
        assert_disjoint(held_a, held_b)
        assert len(held_a) <= capacities[0] and len(held_b) <= capacities[1]
        return (len(held_a), len(held_b)) == expected

    await wait_until(both_claim_at_once, step_s=HEARTBEAT_S / 5)  # earlier's leases expire
    for _ in range(3):
        assert await both_claim_at_once()
    assert (len(a.held), len(b.held)) == expected
    assert a.held | b.held <= set(cameras)
    holders = await cluster.holders()
    assert holders == dict.fromkeys(a.held, "a") | dict.fromkeys(b.held, "b")


async def test_dead_workers_cameras_are_taken_over_when_its_leases_expire(
    cluster: Cluster,
) -> None:
    cameras = await cluster.add_cameras(6)
    a, b = cluster.worker("a"), cluster.worker("b")
    await rounds(a, b, count=4)
    assert (len(a.held), len(b.held)) == (3, 3)
    await a.renew_and_claim()  # a's last renewal: it dies here
    died = time.monotonic()

    async def b_holds_all() -> bool:
        return await b.renew_and_claim() == frozenset(cameras)

    await wait_until(b_holds_all, step_s=HEARTBEAT_S / 5)
    took = time.monotonic() - died
    assert LEASE_S - 0.5 <= took <= LEASE_S + 2 * HEARTBEAT_S, took
    assert await cluster.holders() == dict.fromkeys(cameras, "b")


async def test_clean_shutdown_hands_cameras_over_at_once(cluster: Cluster) -> None:
    cameras = await cluster.add_cameras(6)
    a, b = cluster.worker("a"), cluster.worker("b")
    await rounds(a, b, count=4)
    assert (len(a.held), len(b.held)) == (3, 3)
    await a.release_all()
    assert a.held == frozenset()
    assert await b.renew_and_claim() == frozenset(cameras)  # no wait for a's leases


async def test_a_new_worker_gets_a_share_within_a_few_rounds(cluster: Cluster) -> None:
    cameras = await cluster.add_cameras(6)
    a, b = cluster.worker("a"), cluster.worker("b")
    await rounds(a, b, count=4)
    assert (len(a.held), len(b.held)) == (3, 3)
    c = cluster.worker("c")
    for _ in range(6):
        await rounds(a, b, c)
        assert_disjoint(a.held, b.held, c.held)
        if (len(a.held), len(b.held), len(c.held)) == (2, 2, 2):
            break
    assert (len(a.held), len(b.held), len(c.held)) == (2, 2, 2)
    assert a.held | b.held | c.held == set(cameras)


async def test_disabled_and_deleted_cameras_lose_their_leases(cluster: Cluster) -> None:
    cameras = await cluster.add_cameras(4)
    a = cluster.worker("a")
    assert await a.renew_and_claim() == frozenset(cameras)
    disabled, deleted, *kept = cameras
    async with cluster.sessions() as session, session.begin():
        await session.execute(update(Camera).where(Camera.id == disabled).values(enabled=False))
        await session.execute(delete(Camera).where(Camera.id == deleted))
    assert await a.renew_and_claim() == frozenset(kept)
    async with cluster.sessions() as session:
        rows = set((await session.scalars(select(CameraLease.camera_id))).all())
    assert rows == set(kept)
    async with cluster.sessions() as session, session.begin():
        await session.execute(update(Camera).where(Camera.id == disabled).values(enabled=True))
    assert await a.renew_and_claim() == frozenset([disabled, *kept])


async def test_assigned_keeps_the_held_cameras(cluster: Cluster) -> None:
    cameras = await cluster.add_cameras(3)
    a = cluster.worker("a", capacity=2)
    held = await a.renew_and_claim()

    class Spec:
        def __init__(self, camera_id: int) -> None:
            self.camera_id = camera_id

    specs = [Spec(camera) for camera in cameras]
    assert [spec.camera_id for spec in a.assigned(specs)] == sorted(held)
    assert len(held) == 2
