"""Admins see the workers and which of them runs each camera; other roles are refused."""

from datetime import datetime, timedelta

import httpx
import pytest

from tests.cluster.conftest import LEASE_S, Cluster, rounds
from tests.helpers import World, error_of


async def test_admin_sees_workers_and_who_runs_each_camera(
    client: httpx.AsyncClient, world: World, cluster: Cluster
) -> None:
    small, big = cluster.worker("worker-a", capacity=1), cluster.worker("worker-b", capacity=5)
    await rounds(small, big, count=3)
    assert (len(small.held), len(big.held)) == (1, 1)
    await big.release_all()  # a clean stop: its camera is left unheld (small is full)
    (running,) = await small.renew_and_claim()
    (idle,) = set(world.cameras) - {running}
    admin = world.headers["admin"]

    response = await client.get("/api/v1/cluster/workers", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 2
    a, b = body["data"]
    assert {k: a[k] for k in ("name", "capacity", "alive", "camera_ids", "stopped_at")} == {
        "name": "worker-a",
        "capacity": 1,
        "alive": True,
        "camera_ids": [running],
        "stopped_at": None,
    }
    assert {k: b[k] for k in ("name", "capacity", "alive", "camera_ids")} == {
        "name": "worker-b",
        "capacity": 5,
        "alive": False,
        "camera_ids": [],
    }
    assert b["stopped_at"] is not None
    for worker in (a, b):
        assert _at(worker["started_at"]) <= _at(worker["heartbeat_at"])

    response = await client.get("/api/v1/cluster/cameras", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 2
    by_id = {camera["camera_id"]: camera for camera in body["data"]}
    assert by_id[idle] == {
        "camera_id": idle,
        "camera_name": by_id[idle]["camera_name"],
        "store_id": by_id[idle]["store_id"],
        "worker": None,
        "acquired_at": None,
        "expires_at": None,
    }
    held = by_id[running]
    assert held["worker"] == "worker-a"
    assert {held["camera_name"], by_id[idle]["camera_name"]} == {"Aisle 1", "Aisle 2"}
    assert {held["store_id"], by_id[idle]["store_id"]} == set(world.stores)
    lease = _at(held["expires_at"]) - _at(a["heartbeat_at"])
    assert abs(lease - timedelta(seconds=LEASE_S)) < timedelta(seconds=0.01)


@pytest.mark.parametrize("caller", ["viewer_a", "supervisor_a"])
@pytest.mark.parametrize("path", ["/api/v1/cluster/workers", "/api/v1/cluster/cameras"])
async def test_only_admins_see_the_cluster(
    client: httpx.AsyncClient, world: World, caller: str, path: str
) -> None:
    response = await client.get(path, headers=world.headers[caller])
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)
