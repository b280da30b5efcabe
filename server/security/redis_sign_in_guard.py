"""The sign-in guard's state in Redis, so that several API instances share it: failures
counted at one count at all, a delay set at one holds at all, a pair known at one is known at
all, and an admin's reset ends the delays everywhere.

Each try is decided and counted by one Lua script (atomic, so parallel guesses from several
instances are all counted), on Redis's clock. Names and addresses are stored as BLAKE2b
hashes, never as typed. Every key expires:

    {prefix}:signin:streak:<name>:<address>  hash failures, last   delay + window after the last
    {prefix}:signin:known:<name>:<address>   "1"                   KNOWN_TTL_S after a sign-in
    {prefix}:signin:address:<address>        zset try tag → time   the window
    {prefix}:signin:name:<name>              zset try tag → time   the window
    {prefix}:signin:reset:<name>             time of the reset     the longest streak's life
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from server.security.sign_in_guard import SignInRules, Ticket

KNOWN_TTL_S = 90 * 86_400  # a pair not seen signing in for this long is a stranger again
TIMEOUT_S = 1.0  # a Redis that does not answer in this long counts as down
NOW = """
local now = tonumber(ARGV[1])  -- '' (no test clock): Redis's own, the same for every instance
if not now then
  local time = redis.call('TIME')
  now = time[1] + time[2] / 1e6
end
"""

BEGIN = (
    NOW
    + """
-- KEYS: streak, known, address window, name window, name reset
-- ARGV: now, tag, free failures, first delay, max delay, address max, name max, window
local free, first, cap = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local window = tonumber(ARGV[8])
local function delay(failures)
  if failures < free then return 0 end
  return math.min(cap, first * 2 ^ (failures - free))
end
local failures = 0
local streak = redis.call('HMGET', KEYS[1], 'failures', 'last')
local reset = redis.call('GET', KEYS[5])
if streak[1] and not (reset and tonumber(streak[2]) <= tonumber(reset)) then
  failures = tonumber(streak[1])
  local wait = tonumber(streak[2]) + delay(failures) - now
  if wait > 0 then return {'wait', tostring(math.ceil(wait))} end
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local limits = {tonumber(ARGV[6]), tonumber(ARGV[7])}
  for i = 1, 2 do
    local key = KEYS[2 + i]
    redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.6f', now - window))
    if redis.call('ZCARD', key) >= limits[i] then
      local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
      return {'wait', tostring(math.max(math.ceil(oldest + window - now), 1))}
    end
  end
end
failures = failures + 1
local stamp = string.format('%.6f', now)
redis.call('HSET', KEYS[1], 'failures', failures, 'last', stamp)
redis.call('PEXPIRE', KEYS[1], math.ceil((delay(failures) + window) * 1000))
for i = 3, 4 do
  redis.call('ZADD', KEYS[i], stamp, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], math.ceil(window * 1000))
end
return {'ok', stamp}
"""
)

FORGIVE = (
    NOW
    + """
-- KEYS: name reset, name window; ARGV: now, reset ttl ms
redis.call('SET', KEYS[1], string.format('%.6f', now), 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
"""
)


@dataclass(frozen=True, slots=True)
class _Keys:
    streak: str
    known: str
    address: str
    name: str
    reset: str


class RedisSignInGuard:
    """`SignInGuard` on a Redis shared by the instances; `now` (tests) overrides Redis's clock."""

    def __init__(self, client: Redis, *, prefix: str, rules: SignInRules) -> None:
        self.client, self.rules = client, rules
        self._prefix = f"{prefix}:signin:"
        self._begin = client.register_script(BEGIN)
        self._forgive = client.register_script(FORGIVE)

    @classmethod
    def connect(cls, url: str, *, prefix: str, rules: SignInRules) -> RedisSignInGuard:
        """A guard on the Redis at `url`; nothing connects until the first call."""
        client = Redis.from_url(
            url,
            socket_timeout=TIMEOUT_S,
            socket_connect_timeout=TIMEOUT_S,
            retry=Retry(NoBackoff(), retries=1),  # one more try: a connection Redis dropped
        )
        return cls(client, prefix=prefix, rules=rules)

    async def begin(self, name: str, address: str, now: float | None = None) -> Ticket | float:
        name = name.casefold()
        keys, tag = self._keys(name, address), uuid.uuid4().hex
        rules = self.rules
        verdict, value = await self._begin(
            keys=[keys.streak, keys.known, keys.address, keys.name, keys.reset],
            args=[
                _stamp(now),
                tag,
                rules.free_failures,
                rules.first_delay_s,
                rules.max_delay_s,
                rules.address_failures,
                rules.name_failures,
                rules.window_s,
            ],
        )
        if verdict == b"wait":
            return float(value)
        return Ticket(name, address, float(value), tag)

    async def succeeded(self, ticket: Ticket) -> None:
        keys = self._keys(ticket.name, ticket.address)
        async with self.client.pipeline(transaction=True) as multi:
            multi.delete(keys.streak)
            multi.zrem(keys.address, ticket.tag)
            multi.zrem(keys.name, ticket.tag)
            multi.set(keys.known, b"1", ex=KNOWN_TTL_S)
            await multi.execute()

    async def remember(self, name: str, address: str) -> None:
        await self.client.set(self._keys(name.casefold(), address).known, b"1", ex=KNOWN_TTL_S)

    async def locked_for(self, ticket: Ticket) -> float:
        keys = self._keys(ticket.name, ticket.address)
        async with self.client.pipeline(transaction=False) as reads:
            reads.hmget(keys.streak, ["failures", "last"])
            reads.get(keys.reset)
            (failures, last), reset = await reads.execute()
        if failures is None or (reset is not None and float(last) <= float(reset)):
            return 0.0
        return self.rules.delay(int(failures))

    async def forgive_name(self, name: str, now: float | None = None) -> None:
        keys = self._keys(name.casefold(), "")
        streak_life_ms = math.ceil((self.rules.max_delay_s + self.rules.window_s) * 1000) + 1000
        await self._forgive(keys=[keys.reset, keys.name], args=[_stamp(now), streak_life_ms])

    async def aclose(self) -> None:
        await self.client.aclose()

    def _keys(self, name: str, address: str) -> _Keys:
        """The keys of a (casefolded) name and an address."""
        who, where = _digest(name, b"signin-name"), _digest(address, b"signin-address")
        return _Keys(
            streak=f"{self._prefix}streak:{who}:{where}",
            known=f"{self._prefix}known:{who}:{where}",
            address=f"{self._prefix}address:{where}",
            name=f"{self._prefix}name:{who}",
            reset=f"{self._prefix}reset:{who}",
        )


def _digest(text: str, person: bytes) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16, person=person).hexdigest()


def _stamp(now: float | None) -> str:
    return "" if now is None else f"{now:.6f}"
