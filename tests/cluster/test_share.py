"""A worker's share of the cameras: as even as the live workers' capacities allow."""

import pytest

from server.cluster.share import fair_share


@pytest.mark.parametrize(
    ("cameras", "capacities", "share"),
    [
        (6, [10, 10], 3),  # an even split
        (7, [10, 10], 4),  # rounded up: every camera has a worker
        (6, [10, 10, 10], 2),  # a third worker takes a third
        (6, [2, 10], 4),  # a small worker full, the other takes the rest
        (12, [10, 1], 10),  # more cameras than room: everyone full, one left over
        (5, [2, 2], 2),  # the same, equal capacities
        (1, [10, 10], 1),  # one camera: some worker may hold it
        (0, [10], 0),  # no cameras
        (3, [], 0),  # no live workers
    ],
)
def test_fair_share(cameras: int, capacities: list[int], share: int) -> None:
    assert fair_share(cameras, capacities) == share
