"""The check cache: one LimitCheck per route and subscription, reused until its quota period or the config changes.

The keyring hands out one Subscription object per key and plan, the pipeline keeps the check built for a
route and subscription in `limiter.checks`, and the Redis store keeps the packed command of each check
object. A new config must never be served with a check of the old one.
"""

from __future__ import annotations

import dataclasses
import math
import time
from datetime import UTC, datetime

import pytest

from gateway_runtime import limiter as limiter_module
from gateway_runtime.config import GatewaySettings
from gateway_runtime.counters import MemoryCounterStore, RedisCounterStore
from gateway_runtime.keyring import Subscription, compile_keyring
from gateway_runtime.limiter import Limiter
from gateway_runtime.limits import Bucket, LimitCheck, QuotaCheck, request_check
from gateway_runtime.tests import snapshots
from gateway_runtime.tests.conftest import Gateway, StartGateway
from gateway_runtime.tests.snapshots import API_ID, limits, method_setting, mock

PEPPER = b"check-cache-pepper"
KEY_A = "KeyAValue0123456789abcdefgh"
KEY_B = "KeyBValue0123456789abcdefgh"
SLOW = 0.01  # requests a second: no refill within a test
STAGE = f"{API_ID}/prod"
OTHER_STAGE = f"{API_ID}/beta"


def _keyring_config(plans: dict[str, dict], key_plans: dict[str, list[str]] | None = None) -> dict:
    key_plans = key_plans or {KEY_A: ["plan01"], KEY_B: ["plan01"]}
    entries = [(value, f"key{index:07d}", True, plan_ids) for index, (value, plan_ids) in enumerate(key_plans.items())]
    return snapshots.keyring(entries, plans, pepper=PEPPER)


def _utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()  # type: ignore[misc]


# -- subscriptions -----------------------------------------------------------------------------------------


def test_the_keyring_returns_the_same_subscription_for_every_lookup() -> None:
    keyring = compile_keyring(_keyring_config({"plan01": snapshots.plan({STAGE: {}}, throttle=limits(SLOW, 2))}))

    first = keyring.subscription(KEY_A.encode(), STAGE, PEPPER)
    again = keyring.subscription(KEY_A.encode(), STAGE, PEPPER)
    other_key = keyring.subscription(KEY_B.encode(), STAGE, PEPPER)

    assert isinstance(first, Subscription)
    assert first is again
    assert (first.key_id, first.plan.id) == ("key0000000", "plan01")
    assert other_key is not None and other_key is not first and other_key.plan is first.plan


def test_a_key_in_two_plans_has_one_subscription_per_plan() -> None:
    plans = {"plan01": snapshots.plan({STAGE: {}}), "plan02": snapshots.plan({OTHER_STAGE: {}})}
    keyring = compile_keyring(_keyring_config(plans, {KEY_A: ["plan01", "plan02"]}))

    prod = keyring.subscription(KEY_A.encode(), STAGE, PEPPER)
    beta = keyring.subscription(KEY_A.encode(), OTHER_STAGE, PEPPER)

    assert prod is not None and beta is not None
    assert (prod.plan.id, beta.plan.id) == ("plan01", "plan02")
    assert prod is keyring.subscription(KEY_A.encode(), STAGE, PEPPER)
    assert beta is keyring.subscription(KEY_A.encode(), OTHER_STAGE, PEPPER)
    assert keyring.subscription(KEY_A.encode(), f"{API_ID}/other", PEPPER) is None


def test_a_recompiled_keyring_hands_out_new_subscriptions() -> None:
    # The check cache is keyed by the subscription object: a new config must not find the old checks.
    config = _keyring_config({"plan01": snapshots.plan({STAGE: {}}, throttle=limits(SLOW, 2))})

    old = compile_keyring(config).subscription(KEY_A.encode(), STAGE, PEPPER)
    new = compile_keyring(config).subscription(KEY_A.encode(), STAGE, PEPPER)

    assert old is not None and new is not None
    assert old is not new


# -- the limiter's cache ---------------------------------------------------------------------------------


def _entry(check: LimitCheck | None = None) -> tuple[object, object, LimitCheck | None, float]:
    return (object(), object(), check, math.inf)


def test_forget_checks_empties_the_cache() -> None:
    limiter = Limiter(MemoryCounterStore())
    limiter.remember_check((1, 2), _entry())
    limiter.remember_check((3, 4), _entry())

    limiter.forget_checks()

    assert limiter.checks == {}


def test_the_cache_starts_over_when_it_is_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limiter_module, "CACHED_CHECKS", 2)
    limiter = Limiter(MemoryCounterStore())
    limiter.remember_check((1, 1), _entry())
    limiter.remember_check((2, 2), _entry())

    limiter.remember_check((3, 3), _entry())

    assert list(limiter.checks) == [(3, 3)]


# -- checks ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quota", "now", "period_end"),
    [
        ({"limit": 5, "period": "DAY"}, _utc(2026, 3, 10, 15, 30), _utc(2026, 3, 11)),
        # Weeks start on the offset's weekday, counted from Sunday: 2026-03-10 is a Tuesday, offset 1 is Monday.
        ({"limit": 5, "period": "WEEK", "offset": 1}, _utc(2026, 3, 10, 15, 30), _utc(2026, 3, 16)),
        ({"limit": 5, "period": "MONTH", "offset": 14}, _utc(2026, 3, 10, 15, 30), _utc(2026, 3, 15)),
        ({"limit": 5, "period": "MONTH"}, _utc(2026, 12, 31, 23, 59), _utc(2027, 1, 1)),
    ],
)
def test_a_quota_check_is_valid_until_the_end_of_its_current_period(quota: dict, now: float, period_end: float) -> None:
    keyring = compile_keyring(_keyring_config({"plan01": snapshots.plan({STAGE: {}}, quota=quota)}))
    subscription = keyring.subscription(KEY_A.encode(), STAGE, PEPPER)

    check = request_check(
        stage_key=STAGE,
        resource_path="/plain",
        http_method="GET",
        stage_tier=None,
        account_tier=None,
        subscription=subscription,
        now=now,
    )

    assert check is not None and check.quota is not None
    assert check.valid_until == period_end
    assert check.quota.bounds[1] <= now < check.valid_until


def test_a_check_without_a_quota_never_goes_stale() -> None:
    assert LimitCheck((Bucket("b", 1.0, 1),), None).valid_until == math.inf


def test_checks_with_the_same_limits_are_still_different_checks() -> None:
    bucket = Bucket("b:same", 1.0, 1)
    one, two = LimitCheck((bucket,), None), LimitCheck((bucket,), None)

    assert one != two
    assert len({one: 1, two: 2}) == 2


def test_the_redis_store_packs_a_check_once_and_a_lookalike_on_its_own() -> None:
    store = RedisCounterStore("redis://127.0.0.1:1/0", prefix="p:")  # never connects: packing only
    quota = QuotaCheck("q:plan:key", 3, (0, 1, 2, 3))
    check, lookalike = LimitCheck((Bucket("b", 1.0, 1),), quota), LimitCheck((Bucket("b", 1.0, 1),), quota)

    packed = store._pack(check)

    assert store._pack(check) is packed
    assert store._pack(lookalike) == packed and store._pack(lookalike) is not packed
    assert b"EVALSHA" in packed and b"p:q:plan:key:1" in packed


# -- through a live gateway ------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
def settings(request: pytest.FixtureRequest) -> GatewaySettings:
    """Gateway settings for each counter store, with the account limit out of the way."""
    base = GatewaySettings(
        config_poll_seconds=0.05, api_key_pepper=PEPPER, account_rate_limit=None, counter_timeout_ms=2000
    )
    if request.param == "memory":
        return base
    url, prefix = request.getfixturevalue("shared_redis")
    return dataclasses.replace(base, redis_url=url, counter_prefix=prefix)


def _stage(method_settings: dict | None = None, revision: int = 1) -> dict:
    routes = {(path, "GET"): mock() for path in ("/plain", "/other")}
    return snapshots.stage(routes, key_required=list(routes), method_settings=method_settings, revision=revision)


def _statuses(gateway: Gateway, path: str, times: int, key: str = KEY_A) -> list[int]:
    return [gateway.request("GET", path, headers={"x-api-key": key}).status for _ in range(times)]


def _wait_for_version(gateway: Gateway, version: int) -> None:
    deadline = time.monotonic() + 3
    while gateway.app.runtime.version < version:
        assert time.monotonic() < deadline, "the gateway did not load the new config"
        time.sleep(0.01)


def _cached_checks(gateway: Gateway) -> list[LimitCheck | None]:
    assert gateway.app.limiter is not None
    return [entry[2] for entry in list(gateway.app.limiter.checks.values())]


def test_a_gateway_builds_one_check_per_route_and_key(start_gateway: StartGateway, settings: GatewaySettings) -> None:
    plan = snapshots.plan({STAGE: {}}, throttle=limits(SLOW, 10))
    gateway = start_gateway([_stage()], settings=settings, keyring=_keyring_config({"plan01": plan}))

    assert _statuses(gateway, "/prod/plain", 1) == [200]
    (first,) = _cached_checks(gateway)
    assert _statuses(gateway, "/prod/plain", 3) == [200] * 3
    assert _cached_checks(gateway) == [first]
    assert _statuses(gateway, "/prod/plain", 1, KEY_B) + _statuses(gateway, "/prod/other", 1) == [200, 200]

    assert len(_cached_checks(gateway)) == 3


def test_a_quota_check_past_its_period_is_built_again(start_gateway: StartGateway, settings: GatewaySettings) -> None:
    plan = snapshots.plan({STAGE: {}}, quota={"limit": 100, "period": "DAY"})
    gateway = start_gateway([_stage()], settings=settings, keyring=_keyring_config({"plan01": plan}))
    assert _statuses(gateway, "/prod/plain", 1) == [200]
    checks = gateway.app.limiter.checks  # type: ignore[union-attr]
    ((key, (route, subscription, stale, _)),) = checks.items()

    checks[key] = (route, subscription, stale, time.time() - 1)  # as if its period had just ended
    assert _statuses(gateway, "/prod/plain", 1) == [200]

    (rebuilt,) = _cached_checks(gateway)
    assert rebuilt is not stale
    assert rebuilt is not None and rebuilt.valid_until > time.time()


def test_a_lowered_plan_quota_applies_after_a_config_change(
    start_gateway: StartGateway, settings: GatewaySettings
) -> None:
    loose = snapshots.plan({STAGE: {}}, quota={"limit": 100, "period": "DAY"})
    gateway = start_gateway([_stage()], settings=settings, keyring=_keyring_config({"plan01": loose}))
    assert _statuses(gateway, "/prod/plain", 3) == [200] * 3

    tight = snapshots.plan({STAGE: {}}, quota={"limit": 4, "period": "DAY"})
    _wait_for_version(gateway, gateway.source.replace_keyring(_keyring_config({"plan01": tight})))

    # Three of the four are used (the counter is the same); a check cached from the old config would allow 97.
    assert _statuses(gateway, "/prod/plain", 2) == [200, 429]
    assert _statuses(gateway, "/prod/plain", 2, KEY_B) == [200, 200]


def test_a_lowered_plan_throttle_applies_after_a_config_change(
    start_gateway: StartGateway, settings: GatewaySettings
) -> None:
    loose = snapshots.plan({STAGE: {}}, throttle=limits(SLOW, 100))
    gateway = start_gateway([_stage()], settings=settings, keyring=_keyring_config({"plan01": loose}))
    assert _statuses(gateway, "/prod/plain", 3) == [200] * 3

    tight = snapshots.plan({STAGE: {}}, throttle=limits(SLOW, 2))
    _wait_for_version(gateway, gateway.source.replace_keyring(_keyring_config({"plan01": tight})))

    # The bucket (same counter) now holds at most 2 tokens.
    assert _statuses(gateway, "/prod/plain", 3) == [200, 200, 429]


def test_a_lowered_stage_throttle_applies_after_a_redeploy(
    start_gateway: StartGateway, settings: GatewaySettings
) -> None:
    plan = snapshots.plan({STAGE: {}})
    keyring = _keyring_config({"plan01": plan})
    gateway = start_gateway([_stage({"*/*": method_setting(SLOW, 100)})], settings=settings, keyring=keyring)
    assert _statuses(gateway, "/prod/plain", 3) == [200] * 3

    version = gateway.source.replace([_stage({"*/*": method_setting(SLOW, 2)}, revision=2)], keyring=keyring)
    _wait_for_version(gateway, version)

    assert _statuses(gateway, "/prod/plain", 3) == [200, 200, 429]
