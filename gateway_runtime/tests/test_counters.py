"""Counter stores and the limiter: all-or-nothing takes, quotas by the store's clock, failures never 'over limit'."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis

from gateway_runtime.counters import (
    ALLOWED,
    OVER_QUOTA,
    OVER_RATE,
    STORE_DOWN,
    USAGE_SCRIPT,
    MemoryCounterStore,
    RedisCounterStore,
    usage_arguments,
    usage_check,
)
from gateway_runtime.limiter import Limiter
from gateway_runtime.limits import Bucket, LimitCheck, Quota, QuotaCheck, period_bounds
from gateway_runtime.tests.redis_support import RedisServer

DAY = Quota(limit=3, period="DAY", offset=0)
SLOW = 0.001  # tokens a second: no refill within a test


def _quota(limit: int = 3, now: float | None = None) -> QuotaCheck:
    return QuotaCheck("q:plan:key", limit, period_bounds(Quota(limit, "DAY", 0), time.time() if now is None else now))


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[MemoryCounterStore | RedisCounterStore]:
    """Each store, so both modes are held to the same semantics."""
    if request.param == "memory":
        yield MemoryCounterStore()
        return
    url, prefix = request.getfixturevalue("shared_redis")
    yield RedisCounterStore(url, prefix=prefix)


def _run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


async def _take_many(store, check: LimitCheck, times: int) -> list[str]:  # type: ignore[no-untyped-def]
    outcomes = [(await store.take(check)).outcome for _ in range(times)]
    if isinstance(store, RedisCounterStore):
        await store.close("test")
    return outcomes


def test_a_bucket_lets_its_burst_through_then_throttles(store) -> None:  # type: ignore[no-untyped-def]
    check = LimitCheck((Bucket("b:one", SLOW, 3),), None)

    outcomes = _run(_take_many(store, check, 5))

    assert outcomes == [ALLOWED.outcome] * 3 + [OVER_RATE] * 2


def test_nothing_is_taken_unless_every_bucket_has_a_token(store) -> None:  # type: ignore[no-untyped-def]
    roomy, tight = Bucket("b:roomy", SLOW, 10), Bucket("b:tight", SLOW, 1)

    async def scenario() -> list[str]:
        outcomes = [
            (await store.take(LimitCheck((roomy, tight), None))).outcome,
            (await store.take(LimitCheck((roomy, tight), None))).outcome,
        ]
        # The refused request took nothing from `roomy`: 9 tokens are left, not 8.
        outcomes += [(await store.take(LimitCheck((roomy,), None))).outcome for _ in range(10)]
        if isinstance(store, RedisCounterStore):
            await store.close("test")
        return outcomes

    outcomes = _run(scenario())

    assert outcomes[:2] == [ALLOWED.outcome, OVER_RATE]
    assert outcomes[2:].count(ALLOWED.outcome) == 9


def test_a_quota_refuses_the_request_that_would_exceed_it_until_the_period_ends(store) -> None:  # type: ignore[no-untyped-def]
    check = LimitCheck((), _quota(3))

    async def scenario():  # type: ignore[no-untyped-def]
        verdicts = [await store.take(check) for _ in range(4)]
        if isinstance(store, RedisCounterStore):
            await store.close("test")
        return verdicts

    verdicts = _run(scenario())

    assert [verdict.outcome for verdict in verdicts] == [ALLOWED.outcome] * 3 + [OVER_QUOTA]
    seconds_to_midnight = check.quota.bounds[2] - time.time()  # type: ignore[union-attr]
    assert abs(verdicts[-1].retry_after - seconds_to_midnight) <= 2


def test_a_throttled_request_takes_no_quota(store) -> None:  # type: ignore[no-untyped-def]
    tight = Bucket("b:q", SLOW, 1)
    quota = _quota(2)

    async def scenario() -> list[str]:
        outcomes = [(await store.take(LimitCheck((tight,), quota))).outcome for _ in range(3)]
        outcomes += [(await store.take(LimitCheck((), quota))).outcome for _ in range(2)]
        if isinstance(store, RedisCounterStore):
            await store.close("test")
        return outcomes

    # One passes, two are throttled (and take no quota), so one request of the quota is left.
    assert _run(scenario()) == [ALLOWED.outcome, OVER_RATE, OVER_RATE, ALLOWED.outcome, OVER_QUOTA]


def test_the_period_is_picked_by_the_store_clock_not_the_gateway_clock(shared_redis: tuple[str, str]) -> None:
    url, prefix = shared_redis
    store = RedisCounterStore(url, prefix=prefix)
    right = _quota(2)
    # A gateway whose clock is a day behind offers yesterday as "current"; Redis's clock picks today.
    behind = _quota(2, now=time.time() - 86_400)

    async def scenario() -> list[str]:
        outcomes = [(await store.take(LimitCheck((), check))).outcome for check in (behind, right, behind)]
        await store.close("test")
        return outcomes

    assert _run(scenario()) == [ALLOWED.outcome, ALLOWED.outcome, OVER_QUOTA]


def test_a_redis_without_the_script_cached_still_answers(shared_redis: tuple[str, str]) -> None:
    url, prefix = shared_redis
    redis.Redis.from_url(url).script_flush()
    store = RedisCounterStore(url, prefix=prefix)

    async def scenario():  # type: ignore[no-untyped-def]
        verdict = await store.take(LimitCheck((Bucket("b:x", SLOW, 1),), None))
        await store.close("test")
        return verdict

    assert _run(scenario()) is ALLOWED


def test_update_usage_sets_what_is_left_for_every_gateway(shared_redis: tuple[str, str]) -> None:
    url, prefix = shared_redis
    store = RedisCounterStore(url, prefix=prefix)
    check = usage_check("plan", "key", 3, period_bounds(DAY, time.time()))
    client = redis.Redis.from_url(url)

    async def take(times: int) -> list[str]:
        return [(await store.take(LimitCheck((), check))).outcome for _ in range(times)]

    async def scenario() -> tuple[list[str], list[str]]:
        first = await take(4)
        keys, args = usage_arguments(prefix, check, 5)
        used, remaining, start, _end = client.eval(USAGE_SCRIPT, len(keys), *keys, *args)
        assert (used, remaining, start) == (3, 5, check.bounds[1])
        second = await take(6)
        await store.close("test")
        return first, second

    first, second = _run(scenario())

    assert first == [ALLOWED.outcome] * 3 + [OVER_QUOTA]
    assert second == [ALLOWED.outcome] * 5 + [OVER_QUOTA]


def test_the_memory_store_applies_a_published_adjustment_once() -> None:
    from gateway_runtime.keyring import compile_keyring

    keyring = compile_keyring({"keys": {}, "plans": {"plan": {"quota": {"limit": 3, "period": "DAY"}, "stages": {}}}})
    limiter = Limiter(MemoryCounterStore())
    check = LimitCheck((), usage_check("plan", "key", 3, period_bounds(DAY, time.time())))
    adjustment = {"id": 7, "usagePlanId": "plan", "keyId": "key", "periodStart": check.quota.bounds[1], "remaining": 1}  # type: ignore[union-attr]

    async def scenario() -> list[str]:
        outcomes = [(await limiter.admit(check, "open")).outcome]
        limiter.apply_quota_adjustments([adjustment], keyring.plans)
        limiter.apply_quota_adjustments([adjustment], keyring.plans)  # the next config poll: already applied
        outcomes += [(await limiter.admit(check, "open")).outcome for _ in range(2)]
        return outcomes

    assert _run(scenario()) == [ALLOWED.outcome, ALLOWED.outcome, OVER_QUOTA]


# -- failures -------------------------------------------------------------------------------------------


def _down_limiter(port: int, timeout_s: float = 0.05) -> Limiter:
    return Limiter(RedisCounterStore(f"redis://127.0.0.1:{port}/0", prefix="x:"), timeout_s=timeout_s)


CHECK = LimitCheck((Bucket("b:f", 10.0, 2),), None)


@pytest.mark.parametrize(
    ("fail_mode", "outcomes"),
    [
        ("open", [ALLOWED.outcome] * 4),
        ("closed", [STORE_DOWN] * 4),
        ("local", [ALLOWED.outcome] * 2 + [OVER_RATE] * 2),
    ],
)
def test_a_refused_connection_falls_back_to_the_fail_mode(
    refused_port: int, fail_mode: str, outcomes: list[str]
) -> None:
    limiter = _down_limiter(refused_port)

    async def scenario() -> list[str]:
        results = [(await limiter.admit(CHECK, fail_mode)).outcome for _ in range(4)]
        await limiter.store.close("test")
        return results

    assert _run(scenario()) == outcomes
    assert limiter.healthy is False
    stats = limiter.stats()
    assert stats["degradedAllowed"] == outcomes.count(ALLOWED.outcome)
    assert stats["degradedRefused"] == outcomes.count(STORE_DOWN)
    assert stats["degradedThrottled"] == outcomes.count(OVER_RATE)


def test_the_local_fail_mode_shares_the_limit_between_processes(refused_port: int) -> None:
    limiter = _down_limiter(refused_port)
    limiter.processes = 2  # as the heartbeat learnt while Redis answered
    check = LimitCheck((Bucket("b:l", SLOW, 10),), None)

    async def scenario() -> list[str]:
        results = [(await limiter.admit(check, "local")).outcome for _ in range(8)]
        await limiter.store.close("test")
        return results

    assert _run(scenario()).count(ALLOWED.outcome) == 5


def test_a_stalled_store_costs_one_timeout_then_nothing(private_redis: RedisServer) -> None:
    limiter = Limiter(RedisCounterStore(private_redis.url, prefix="x:"), timeout_s=0.05)

    async def scenario() -> list[float]:
        assert (await limiter.admit(CHECK, "closed")) is ALLOWED
        private_redis.pause()
        elapsed = []
        for _ in range(3):
            started = time.perf_counter()
            verdict = await limiter.admit(CHECK, "closed")
            elapsed.append(time.perf_counter() - started)
            assert verdict.outcome == STORE_DOWN
        private_redis.resume()
        await limiter.store.close("test")
        return elapsed

    elapsed = _run(scenario())

    assert elapsed[0] < 0.05 + 0.05
    # Once the store is known down, requests no longer wait for it.
    assert max(elapsed[1:]) < 0.005


def test_the_limiter_recovers_when_the_store_answers_again(private_redis: RedisServer) -> None:
    limiter = Limiter(RedisCounterStore(private_redis.url, prefix="x:"), timeout_s=0.05)

    async def scenario() -> float:
        await limiter.start()
        private_redis.stop()
        assert (await limiter.admit(CHECK, "open")) is ALLOWED
        assert limiter.healthy is False
        private_redis.start()
        restarted = time.monotonic()
        while not limiter.healthy and time.monotonic() - restarted < 5:
            await asyncio.sleep(0.02)
        recovered_after = time.monotonic() - restarted
        await limiter.stop()
        return recovered_after

    assert _run(scenario()) < 2.0
