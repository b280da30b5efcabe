"""The record bus: typed records between stages, processes and machines.

    bus = make_bus(settings)                              # LocalBus or RedisStreamsBus
    await bus.publish(ALERTS, alert)                      # ALERTS = Topic("alerts", AlertEvent)
    async for delivery in bus.consume(ALERTS, group="push", consumer="api-1"):
        await send_push(delivery.record)                  # idempotent: at least once
        await bus.ack(delivery)
    async for entry_id, alert in bus.tail(ALERTS, after=cursor):  # every instance sees all
        ...

Not to be confused with `server.notify.bus`, the WebSocket event fan-out of one instance.
"""

from server.bus.local import LocalBus
from server.bus.redis_streams import RedisStreamsBus
from server.bus.topics import Topic
from server.bus.transport import FIRST_ID, BusUnavailable, Delivery, RecordBus, entry_order
from server.config import Settings
from server.errors import ConfigError

__all__ = [
    "FIRST_ID",
    "BusUnavailable",
    "Delivery",
    "LocalBus",
    "RecordBus",
    "RedisStreamsBus",
    "Topic",
    "entry_order",
    "make_bus",
]


def make_bus(settings: Settings) -> RecordBus:
    """The bus `settings.bus.backend` names: in this process, or Redis Streams."""
    bus = settings.bus
    if bus.backend == "local":
        return LocalBus(stream_max_len=bus.stream_max_len, claim_idle_s=bus.claim_idle_s)
    if settings.redis.url is None:
        raise ConfigError("bus.backend redis needs redis.url")
    return RedisStreamsBus(
        settings.redis.url.get_secret_value(),
        prefix=settings.redis.prefix,
        stream_max_len=bus.stream_max_len,
        claim_idle_s=bus.claim_idle_s,
    )
