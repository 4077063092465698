"""Where throttle buckets and quota counters live (the limiter in `limiter.py` asks them).

- `RedisCounterStore`: every request is one EVALSHA of `TAKE_SCRIPT`, which checks every token bucket and
  the quota against Redis's own clock and takes from them only if all pass. Exact across any number of
  gateway processes sharing the Redis. The takes of one event-loop turn go out as one pipeline.
- `MemoryCounterStore`: the same arithmetic in the process (embedded mode, and the `local` fail mode);
  exact for one gateway process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gateway_runtime.limits import LimitCheck, QuotaCheck, quota_counter_key

logger = logging.getLogger(__name__)

# Verdict outcomes.
WITHIN_LIMITS = "within-limits"
OVER_RATE = "over-rate"
OVER_QUOTA = "over-quota"
STORE_DOWN = "store-down"

# Retry-After when a bucket never refills (rate 0): a client should come back, but not soon.
NO_REFILL_RETRY_SECONDS = 60
# Quota counters outlive their period by this much, so a late UpdateUsage or a skewed clock still finds them.
QUOTA_GRACE_SECONDS = 3600
PROCESS_WINDOW_SECONDS = 5
CLOSE_SECONDS = 1.0
# Packed takes kept per store before the cache starts over (each route and key of a config needs one).
PACKED_CHECKS = 65536


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the counters say about a request; `retry_after` in whole seconds for refusals."""

    outcome: str
    retry_after: int = 0


ALLOWED = Verdict(WITHIN_LIMITS)
STORE_UNAVAILABLE = Verdict(STORE_DOWN, 1)


class CounterStore(Protocol):
    """Where buckets and quota counters live.

    A `synchronous` store answers `take_now(check)` at once (in-process); the others answer `submit(check)`
    with a future of their raw reply, read by `verdict(reply)`, so the limiter can bound the wait cheaply.
    """

    name: str
    synchronous: bool

    async def take(self, check: LimitCheck) -> Verdict:
        """Check every bucket and the quota and take from all of them, or from none; raise if the store fails."""
        ...

    async def ping(self) -> None:
        """Return when the store answers; raise otherwise."""
        ...

    async def warm_up(self, connections: int) -> None:
        """Connect ahead of the first requests; raise if the store does not answer."""
        ...

    async def reset(self) -> None:
        """Drop every connection (after a failure they are likely dead)."""
        ...

    async def heartbeat(self, process_id: str) -> int:
        """Say this gateway process is alive; return how many are."""
        ...

    def prune(self) -> None:
        """Forget state nobody needs any more (in-process stores)."""
        ...

    async def close(self, process_id: str) -> None:
        """Leave the set of live processes and release connections."""
        ...


def _pick_period(bounds: Sequence[int], now: float) -> tuple[int, int]:
    """Return (start, end) of the period among `bounds` that holds `now` (the nearest one if none does)."""
    for index in (1, 2, 3):
        if now < bounds[index]:
            return bounds[index - 1], bounds[index]
    return bounds[2], bounds[3]


# -- in-process store ----------------------------------------------------------------------------------------


class MemoryCounterStore:
    """Buckets and quota counters in this process: the embedded mode, and the `local` fail mode."""

    name = "memory"
    synchronous = True  # take_now answers at once: no deadline, no await

    def __init__(self, *, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._buckets: dict[str, tuple[float, float, float, int]] = {}  # key -> (tokens, at, rate, burst)
        self._quotas: dict[str, list[float]] = {}  # "{key}:{start}" -> [used, extra, end]

    async def take(self, check: LimitCheck) -> Verdict:
        return self.take_now(check)

    def take_now(self, check: LimitCheck) -> Verdict:
        """Check and take synchronously: nothing else runs in between on this event loop."""
        now = self._clock()
        levels: list[float] = []
        wait = 0.0
        for bucket in check.buckets:
            state = self._buckets.get(bucket.key)
            level = float(bucket.burst)
            if state is not None:
                level = min(float(bucket.burst), state[0] + max(0.0, now - state[1]) * bucket.rate)
            if level < 1:
                wait = max(wait, (1 - level) / bucket.rate if bucket.rate > 0 else NO_REFILL_RETRY_SECONDS)
            levels.append(level)
        if wait > 0:
            return Verdict(OVER_RATE, max(1, math.ceil(wait)))
        counter: list[float] | None = None
        if check.quota is not None:
            start, end = _pick_period(check.quota.bounds, now)
            counter = self._quotas.get(f"{check.quota.key}:{start}")
            if counter is None:
                counter = self._quotas[f"{check.quota.key}:{start}"] = [0, 0, end]
            if counter[0] + 1 > check.quota.limit + counter[1]:
                return Verdict(OVER_QUOTA, max(1, math.ceil(end - now)))
        for bucket, level in zip(check.buckets, levels, strict=True):
            self._buckets[bucket.key] = (level - 1, now, bucket.rate, bucket.burst)
        if counter is not None:
            counter[0] += 1
        return ALLOWED

    def set_remaining(self, quota: QuotaCheck, period_start: int, remaining: int) -> None:
        """Make `remaining` requests left in the period starting at `period_start` (UpdateUsage)."""
        start, end = _pick_period(quota.bounds, self._clock())
        if period_start != start:
            return  # an adjustment of a period that is over
        counter = self._quotas.setdefault(f"{quota.key}:{start}", [0, 0, end])
        counter[1] = remaining - quota.limit + counter[0]

    async def ping(self) -> None:
        return None

    async def warm_up(self, connections: int) -> None:
        return None

    async def reset(self) -> None:
        return None

    async def heartbeat(self, process_id: str) -> int:
        return 1

    def prune(self) -> None:
        now = self._clock()
        self._buckets = {
            key: state
            for key, state in self._buckets.items()
            if state[0] + max(0.0, now - state[1]) * state[2] < state[3]
        }
        self._quotas = {key: counter for key, counter in self._quotas.items() if counter[2] + QUOTA_GRACE_SECONDS > now}

    async def close(self, process_id: str) -> None:
        return None


# -- Redis store -------------------------------------------------------------------------------------------

# KEYS: the bucket keys, then (with a quota) the counters of the previous, current and next period.
# ARGV: bucket count; rate and burst per bucket; then (with a quota) the limit and the four period bounds.
# Reply: {0, remaining quota or -1} allowed, {1, ms} throttled, {2, s} quota exceeded.
TAKE_SCRIPT = """
local clock = redis.call('TIME')
local now_s = tonumber(clock[1])
local now_ms = now_s * 1000 + math.floor(tonumber(clock[2]) / 1000)
local count = tonumber(ARGV[1])
local levels = {}
local wait_ms = 0
for i = 1, count do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local level = burst
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  if state[1] then
    local elapsed = now_ms - tonumber(state[2])
    if elapsed < 0 then elapsed = 0 end
    level = math.min(burst, tonumber(state[1]) + elapsed * rate / 1000)
  end
  if level < 1 then
    local wait = 60000
    if rate > 0 then wait = math.ceil((1 - level) * 1000 / rate) end
    if wait > wait_ms then wait_ms = wait end
  end
  levels[i] = level
end
if wait_ms > 0 then return {1, wait_ms} end
local remaining = -1
local quota_key = nil
local period_end = 0
if #KEYS > count then
  local base = 2 * count + 2
  local slot = 3
  for j = 1, 3 do
    if now_s < tonumber(ARGV[base + j + 1]) then slot = j break end
  end
  quota_key = KEYS[count + slot]
  period_end = tonumber(ARGV[base + slot + 1])
  local counter = redis.call('HMGET', quota_key, 'used', 'extra')
  local used = tonumber(counter[1] or '0')
  local allowed = tonumber(ARGV[base]) + tonumber(counter[2] or '0')
  if used + 1 > allowed then
    local wait = period_end - now_s
    if wait < 1 then wait = 1 end
    return {2, wait}
  end
  remaining = allowed - used - 1
end
for i = 1, count do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  redis.call('HSET', KEYS[i], 'tokens', levels[i] - 1, 'at', now_ms)
  local ttl = 86400000
  if rate > 0 then ttl = math.ceil(burst * 1000 / rate) + 1000 end
  redis.call('PEXPIRE', KEYS[i], ttl)
end
if quota_key then
  redis.call('HINCRBY', quota_key, 'used', 1)
  redis.call('EXPIREAT', quota_key, period_end + 3600)
end
return {0, remaining}
"""

# KEYS: the counters of the previous, current and next period. ARGV: limit, the four bounds, and the new
# remaining count (empty to only read). Reply: {used, remaining, period start, period end}.
USAGE_SCRIPT = """
local now_s = tonumber(redis.call('TIME')[1])
local slot = 3
for j = 1, 3 do
  if now_s < tonumber(ARGV[j + 2]) then slot = j break end
end
local key = KEYS[slot]
local limit = tonumber(ARGV[1])
local counter = redis.call('HMGET', key, 'used', 'extra')
local used = tonumber(counter[1] or '0')
local extra = tonumber(counter[2] or '0')
local period_end = tonumber(ARGV[slot + 2])
if ARGV[6] ~= '' then
  extra = tonumber(ARGV[6]) - limit + used
  redis.call('HSET', key, 'extra', extra)
  redis.call('EXPIREAT', key, period_end + 3600)
end
return {used, limit + extra - used, tonumber(ARGV[slot + 1]), period_end}
"""

HEARTBEAT_SCRIPT = """
local now_s = tonumber(redis.call('TIME')[1])
redis.call('ZADD', KEYS[1], now_s, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_s - tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])
"""


def _sha(script: str) -> str:
    return hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()


def take_arguments(check: LimitCheck, prefix: str) -> tuple[list[str], list[Any]]:
    """Return the KEYS and ARGV of TAKE_SCRIPT for a check."""
    keys = [prefix + bucket.key for bucket in check.buckets]
    args: list[Any] = [len(check.buckets)]
    for bucket in check.buckets:
        args += (bucket.rate, bucket.burst)
    if check.quota is not None:
        keys += quota_period_keys(prefix, check.quota)
        args += (check.quota.limit, *check.quota.bounds)
    return keys, args


def quota_period_keys(prefix: str, quota: QuotaCheck) -> list[str]:
    """Return the counter keys of the previous, current and next period of a quota."""
    return [f"{prefix}{quota.key}:{start}" for start in quota.bounds[:3]]


def usage_arguments(prefix: str, quota: QuotaCheck, remaining: int | None) -> tuple[list[str], list[Any]]:
    """Return the KEYS and ARGV of USAGE_SCRIPT: read a key's quota, or set what remains of it."""
    return quota_period_keys(prefix, quota), [quota.limit, *quota.bounds, "" if remaining is None else remaining]


def usage_check(plan_id: str, key_id: str, quota_limit: int, bounds: tuple[int, int, int, int]) -> QuotaCheck:
    """Return the QuotaCheck naming one key's quota counter under one plan."""
    return QuotaCheck(quota_counter_key(plan_id, key_id), quota_limit, bounds)


def _verdict(reply: Sequence[Any]) -> Verdict:
    code, value = int(reply[0]), int(reply[1])
    if code == 0:
        return ALLOWED
    if code == 1:
        return Verdict(OVER_RATE, max(1, math.ceil(value / 1000)))
    return Verdict(OVER_QUOTA, max(1, value))


class ScriptMissing(Exception):
    """Redis has not cached the counters' script (restarted, or new): send it with EVAL."""


class RedisCounterStore:
    """Buckets and quota counters in Redis, taken by one Lua script per request.

    Every call goes over one pipelined connection (`redisproto.RedisPipe`): the takes of one event-loop
    turn go out in one write. The EVALSHA of a check is packed once and kept with the check, so a route's
    cached check costs no packing. Deadlines are the limiter's (`Limiter.admit`).
    """

    name = "redis"
    synchronous = False

    def __init__(self, url: str, *, prefix: str, connect_timeout_s: float = 1.0):
        from gateway_runtime.redisproto import RedisPipe

        self._pipe = RedisPipe(url, connect_timeout=connect_timeout_s)
        self._prefix = prefix
        self._take_sha = _sha(TAKE_SCRIPT)
        self._heartbeat_sha = _sha(HEARTBEAT_SCRIPT)
        # Packed EVALSHA per check object (identity): the pipeline hands the same check to every request of
        # a route and key until the config or the quota period changes.
        self._packed: dict[LimitCheck, bytes] = {}

    def _pack(self, check: LimitCheck) -> bytes:
        import hiredis

        packed = self._packed.get(check)
        if packed is None:
            keys, args = take_arguments(check, self._prefix)
            packed = hiredis.pack_command(("EVALSHA", self._take_sha, len(keys), *keys, *args))
            if len(self._packed) >= PACKED_CHECKS:
                self._packed.clear()
            self._packed[check] = packed
        return packed

    def submit(self, check: LimitCheck) -> asyncio.Future[Any]:
        """Send the take of a check; return the future of Redis's raw reply (see `verdict`)."""
        return self._pipe.call(self._pack(check))

    @staticmethod
    def verdict(reply: Any) -> Verdict:
        """Return the verdict of a take's reply; raise ScriptMissing or the error Redis answered."""
        if isinstance(reply, list):
            return _verdict(reply)
        if isinstance(reply, Exception):
            if str(reply).startswith("NOSCRIPT"):
                raise ScriptMissing(str(reply))
            raise reply
        raise ValueError(f"Unexpected reply from the counters' script: {reply!r}")

    async def take(self, check: LimitCheck) -> Verdict:
        try:
            return self.verdict(await self.submit(check))
        except ScriptMissing:
            return await self.take_sending_script(check)

    async def take_sending_script(self, check: LimitCheck) -> Verdict:
        """Take with EVAL, which sends the script's body; Redis caches it again for the EVALSHAs that follow."""
        keys, args = take_arguments(check, self._prefix)
        return self.verdict(await self._pipe.execute("EVAL", TAKE_SCRIPT, len(keys), *keys, *args))

    async def ping(self) -> None:
        await self._pipe.execute("PING")

    async def warm_up(self, connections: int) -> None:
        """Connect and cache the script before traffic comes (one connection serves every request)."""
        await self._pipe.execute("SCRIPT", "LOAD", TAKE_SCRIPT)

    async def reset(self) -> None:
        # A restarted Redis closed the connection; reusing it would fail a request and mark the store down again.
        self._pipe.reset()

    async def heartbeat(self, process_id: str) -> int:
        keys, args = [f"{self._prefix}gateways"], [process_id, PROCESS_WINDOW_SECONDS]
        try:
            reply = await self._pipe.execute("EVALSHA", self._heartbeat_sha, len(keys), *keys, *args)
        except Exception as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            reply = await self._pipe.execute("EVAL", HEARTBEAT_SCRIPT, len(keys), *keys, *args)
        return int(reply)

    def prune(self) -> None:
        return None  # Redis expires what it holds

    async def close(self, process_id: str) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_SECONDS):
                await self._pipe.execute("ZREM", f"{self._prefix}gateways", process_id)
        await self._pipe.close()
