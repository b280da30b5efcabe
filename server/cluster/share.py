"""How many cameras each live worker should run: as evenly as their capacities allow."""

from collections.abc import Sequence


def fair_share(cameras: int, capacities: Sequence[int]) -> int:
    """The most cameras any one live worker should hold.

    The smallest level L such that the workers, each holding min(capacity, L), run every
    camera; with equal capacities that is ceil(cameras / workers). When the cameras
    outnumber the capacities together, every worker fills up (L = the largest capacity).

    Example:
        >>> fair_share(6, [10, 10]), fair_share(12, [10, 1]), fair_share(5, [2, 2])
        (3, 10, 2)
    """
    if cameras <= 0 or not capacities:
        return 0
    level = -(-cameras // len(capacities))  # ceil
    while level < max(capacities) and sum(min(c, level) for c in capacities) < cameras:
        level += 1
    return min(level, max(capacities))
