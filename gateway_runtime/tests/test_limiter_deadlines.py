"""The limiter's deadlines on a Redis that stalls: one watchdog bounds every waiting admit, late replies are dropped.

A paused (SIGSTOP) private redis-server keeps its connections open and answers nothing, as a stalled Redis
does; on resume it answers everything it was sent, late.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Coroutine
from typing import Any

import redis

from gateway_runtime.counters import ALLOWED, OVER_RATE, STORE_DOWN, TAKE_SCRIPT, RedisCounterStore
from gateway_runtime.limiter import Limiter
from gateway_runtime.limits import FAIL_CLOSED, FAIL_OPEN, Bucket, LimitCheck
from gateway_runtime.tests.redis_support import RedisServer

PREFIX = "d:"
TIMEOUT_S = 0.05
SLOW = 0.001  # tokens a second: no refill within a test


def _run(coroutine: Coroutine[Any, Any, Any], limit: float = 5.0) -> Any:
    """Run a scenario on a fresh loop, bounded so a stuck admit fails the test instead of hanging it."""

    async def bounded() -> Any:
        async with asyncio.timeout(limit):
            return await coroutine

    return asyncio.run(bounded())


def _limiter(server: RedisServer, timeout_s: float = TIMEOUT_S) -> Limiter:
    return Limiter(RedisCounterStore(server.url, prefix=PREFIX), timeout_s=timeout_s)


def _check(name: str, burst: int) -> LimitCheck:
    return LimitCheck((Bucket(f"b:{name}", SLOW, burst),), None)


def test_a_stalled_store_answers_every_waiting_admit_by_the_fail_mode_within_the_deadline(
    private_redis: RedisServer,
) -> None:
    limiter = _limiter(private_redis)
    check = _check("stall", 1000)

    async def scenario() -> tuple[list[str], float]:
        try:
            assert await limiter.admit(check, FAIL_CLOSED) is ALLOWED  # connected, and the script cached
            private_redis.pause()
            try:
                started = time.perf_counter()
                verdicts = await asyncio.gather(*(limiter.admit(check, FAIL_CLOSED) for _ in range(50)))
                elapsed = time.perf_counter() - started
            finally:
                private_redis.resume()
            return [verdict.outcome for verdict in verdicts], elapsed
        finally:
            await limiter.stop()

    outcomes, elapsed = _run(scenario())

    assert outcomes == [STORE_DOWN] * 50
    # They waited for the deadline (not failed at once), and all came back together with one timer: one
    # timeout each in turn would take 50 x 50 ms. The bound leaves room for a descheduled test process.
    assert TIMEOUT_S <= elapsed < 1.0
    assert limiter.healthy is False
    assert limiter.stats()["degradedRefused"] == 50


def test_admits_are_counted_in_redis_again_once_the_store_recovers(private_redis: RedisServer) -> None:
    limiter = _limiter(private_redis)
    stalled, after = _check("stalled", 1000), _check("after", 3)

    async def scenario() -> tuple[list[str], bool, list[str], float]:
        await limiter.start()  # the background probe is what notices the recovery
        try:
            private_redis.pause()
            try:
                during = await asyncio.gather(*(limiter.admit(stalled, FAIL_OPEN) for _ in range(50)))
                down = not limiter.healthy
            finally:
                private_redis.resume()
            resumed = time.monotonic()
            while not limiter.healthy and time.monotonic() - resumed < 3:
                await asyncio.sleep(0.02)
            recovered_after = time.monotonic() - resumed
            counted = [(await limiter.admit(after, FAIL_OPEN)).outcome for _ in range(4)]
            return [verdict.outcome for verdict in during], down, counted, recovered_after
        finally:
            await limiter.stop()

    during, down, counted, recovered_after = _run(scenario())

    assert during == [ALLOWED.outcome] * 50  # the open fail mode let them through uncounted
    assert down is True
    assert recovered_after < 2.0
    # The fail mode would allow all four; Redis's bucket of 3 refuses the fourth.
    assert counted == [ALLOWED.outcome] * 3 + [OVER_RATE]
    assert redis.Redis(port=private_redis.port).exists(f"{PREFIX}b:after") == 1


def test_a_late_reply_is_not_taken_for_a_newer_admit(private_redis: RedisServer) -> None:
    limiter = _limiter(private_redis)
    spent, fresh = _check("spent", 1), _check("fresh", 1)

    async def scenario() -> tuple[list[str], list[str]]:
        try:
            assert await limiter.admit(spent, FAIL_CLOSED) is ALLOWED  # its only token is gone
            private_redis.pause()
            try:
                late = await asyncio.gather(*(limiter.admit(spent, FAIL_CLOSED) for _ in range(3)))
            finally:
                private_redis.resume()
            # Healthy again on the same connection (the probe would open a new one), so the three late
            # "over the rate" replies of `spent` arrive ahead of the answer to `fresh`.
            limiter._recovered()
            after = [(await limiter.admit(check, FAIL_CLOSED)).outcome for check in (fresh, spent, fresh)]
            return [verdict.outcome for verdict in late], after
        finally:
            await limiter.stop()

    late, after = _run(scenario())

    assert late == [STORE_DOWN] * 3
    # `fresh` gets its own token, then each check its own refusal.
    assert after == [ALLOWED.outcome, OVER_RATE, OVER_RATE]


def test_admit_sends_the_script_again_after_script_flush(private_redis: RedisServer) -> None:
    limiter = _limiter(private_redis, timeout_s=0.5)
    client = redis.Redis(port=private_redis.port)
    first, second = _check("flush-one", 2), _check("flush-two", 3)

    async def scenario() -> tuple[list[str], list[str]]:
        try:
            await limiter.store.warm_up(1)
            assert await limiter.admit(first, FAIL_CLOSED) is ALLOWED
            client.script_flush()
            one = [(await limiter.admit(first, FAIL_CLOSED)).outcome for _ in range(2)]
            client.script_flush()
            # Concurrent admits all miss the script together; each must still get an all-or-nothing verdict.
            two = await asyncio.gather(*(limiter.admit(second, FAIL_CLOSED) for _ in range(5)))
            return one, [verdict.outcome for verdict in two]
        finally:
            await limiter.stop()

    one, two = _run(scenario())

    assert one == [ALLOWED.outcome, OVER_RATE]
    assert sorted(two) == sorted([ALLOWED.outcome] * 3 + [OVER_RATE] * 2)
    assert limiter.healthy is True
    assert client.script_exists(hashlib.sha1(TAKE_SCRIPT.encode()).hexdigest()) == [True]
