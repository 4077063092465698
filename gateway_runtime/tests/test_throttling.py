"""Throttling and quotas in the pipeline, as AWS applies them, with in-process counters and with Redis.

Precedence: within the key tier a plan's per-method limit replaces the plan's throttle; within the stage
tier a method's settings replace the stage default (`*/*`); a key's limit is its own (per key) while the
stage and account limits are shared caps that every request must also pass.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable

import pytest

from gateway_runtime.config import GatewaySettings
from gateway_runtime.tests import snapshots
from gateway_runtime.tests.conftest import Gateway, StartGateway
from gateway_runtime.tests.snapshots import API_ID, limits, method_setting, mock

PEPPER = b"runtime-test-pepper"
KEY_A = "KeyAValue0123456789abcdefgh"
KEY_B = "KeyBValue0123456789abcdefgh"
SLOW = 0.01  # requests a second: no refill within a test
STAGE = f"{API_ID}/prod"


@pytest.fixture(params=["memory", "redis"])
def settings(request: pytest.FixtureRequest) -> GatewaySettings:
    """Gateway settings for each counter store; the account limit is out of the way unless a test sets it.

    The counter timeout is patient: these tests are about limits, and the gateway shares this process.
    """
    base = GatewaySettings(
        config_poll_seconds=0.1, api_key_pepper=PEPPER, account_rate_limit=None, counter_timeout_ms=2000
    )
    if request.param == "memory":
        return base
    url, prefix = request.getfixturevalue("shared_redis")
    return dataclasses.replace(base, redis_url=url, counter_prefix=prefix)


def _stage(method_settings: dict | None = None, **kwargs: object) -> dict:
    routes = {(path, "GET"): mock() for path in ("/fast", "/plain", "/other")}
    return snapshots.stage(
        routes,
        key_required=list(routes),
        method_settings=method_settings,
        **kwargs,  # type: ignore[arg-type]
    )


def _keyring(plan: dict, keys: Iterable[str] = (KEY_A, KEY_B)) -> dict:
    entries = [(value, f"key{index:07d}", True, ["plan01"]) for index, value in enumerate(keys)]
    return snapshots.keyring(entries, {"plan01": plan}, pepper=PEPPER)


def _statuses(gateway: Gateway, path: str, times: int, key: str = KEY_A) -> list[int]:
    return [gateway.request("GET", path, headers={"x-api-key": key}).status for _ in range(times)]


def test_a_per_method_plan_limit_beats_the_plan_limit(start_gateway: StartGateway, settings: GatewaySettings) -> None:
    plan = snapshots.plan({STAGE: {"/fast/GET": limits(SLOW, 6)}}, throttle=limits(SLOW, 2))
    gateway = start_gateway([_stage()], settings=settings, keyring=_keyring(plan))

    # /fast has its own per-method limit (6), looser than the plan's (2): it replaces it.
    assert _statuses(gateway, "/prod/fast", 7) == [200] * 6 + [429]
    # Other methods get the plan's limit, in a bucket of their own.
    assert _statuses(gateway, "/prod/plain", 3) == [200, 200, 429]


def test_a_plan_limit_beats_the_stage_limits(start_gateway: StartGateway, settings: GatewaySettings) -> None:
    plan = snapshots.plan({STAGE: {}}, throttle=limits(SLOW, 2))
    stage = _stage({"*/*": method_setting(SLOW, 50), "plain/GET": method_setting(SLOW, 40)})
    gateway = start_gateway([stage], settings=settings, keyring=_keyring(plan))

    # The stage would allow 40 on /plain; each key gets its plan's 2, and a second key its own 2.
    assert _statuses(gateway, "/prod/plain", 3, KEY_A) == [200, 200, 429]
    assert _statuses(gateway, "/prod/plain", 3, KEY_B) == [200, 200, 429]


def test_a_stage_method_setting_beats_the_stage_default(start_gateway: StartGateway, settings: GatewaySettings) -> None:
    plan = snapshots.plan({STAGE: {}})
    stage = _stage({"*/*": method_setting(SLOW, 2), "plain/GET": method_setting(SLOW, 5)})
    gateway = start_gateway([stage], settings=settings, keyring=_keyring(plan))

    assert _statuses(gateway, "/prod/plain", 6) == [200] * 5 + [429]
    # The default applies per method: /other and /fast each have their own 2.
    assert _statuses(gateway, "/prod/other", 3) == [200, 200, 429]
    assert _statuses(gateway, "/prod/fast", 3) == [200, 200, 429]


def test_a_stage_limit_caps_every_key_together(start_gateway: StartGateway, settings: GatewaySettings) -> None:
    plan = snapshots.plan({STAGE: {}}, throttle=limits(SLOW, 10))
    gateway = start_gateway([_stage({"*/*": method_setting(SLOW, 3)})], settings=settings, keyring=_keyring(plan))

    statuses = _statuses(gateway, "/prod/plain", 2, KEY_A) + _statuses(gateway, "/prod/plain", 2, KEY_B)

    assert statuses == [200, 200, 200, 429]


def test_the_account_limit_applies_when_nothing_else_does(
    start_gateway: StartGateway, settings: GatewaySettings
) -> None:
    account = dataclasses.replace(settings, account_rate_limit=SLOW, account_burst_limit=3)
    stage = snapshots.stage({("/open", "GET"): mock()}, method_settings={"*/*": method_setting(SLOW, 100)})
    gateway = start_gateway([stage], settings=account)

    assert [gateway.request("GET", "/prod/open").status for _ in range(4)] == [200, 200, 200, 429]


def test_a_throttled_request_gets_429_too_many_requests_with_retry_after(
    start_gateway: StartGateway, settings: GatewaySettings
) -> None:
    plan = snapshots.plan({STAGE: {}}, throttle=limits(0.5, 1))
    gateway = start_gateway([_stage()], settings=settings, keyring=_keyring(plan))
    gateway.request("GET", "/prod/plain", headers={"x-api-key": KEY_A})

    reply = gateway.request("GET", "/prod/plain", headers={"x-api-key": KEY_A})

    assert reply.status == 429
    assert reply.json() == {"message": "Too Many Requests"}
    assert reply.header("x-amzn-ErrorType") == "TooManyRequestsException"
    assert reply.header("Retry-After") == "2"  # one token at 0.5/s


def test_the_request_that_would_exceed_the_quota_gets_429_limit_exceeded(
    start_gateway: StartGateway, settings: GatewaySettings
) -> None:
    plan = snapshots.plan({STAGE: {}}, quota={"limit": 3, "offset": 0, "period": "DAY"})
    gateway = start_gateway([_stage()], settings=settings, keyring=_keyring(plan))

    assert _statuses(gateway, "/prod/plain", 3) == [200] * 3
    reply = gateway.request("GET", "/prod/other", headers={"x-api-key": KEY_A})

    assert reply.status == 429
    assert reply.json() == {"message": "Limit Exceeded"}
    assert reply.header("x-amzn-ErrorType") == "LimitExceededException"
    seconds_to_midnight = 86_400 - time.time() % 86_400
    assert abs(int(reply.header("Retry-After") or 0) - seconds_to_midnight) <= 2
    # The quota is per key: the other key still has its three.
    assert _statuses(gateway, "/prod/plain", 3, KEY_B) == [200] * 3


def test_throttle_and_quota_settings_change_without_a_redeploy(
    start_gateway: StartGateway, settings: GatewaySettings
) -> None:
    gateway = start_gateway([_stage()], settings=settings, keyring=_keyring(snapshots.plan({STAGE: {}})))
    assert _statuses(gateway, "/prod/plain", 3) == [200] * 3

    tight = snapshots.plan({STAGE: {}}, throttle=limits(SLOW, 1))
    gateway.source.replace_keyring(_keyring(tight))
    deadline = time.monotonic() + 2
    while 429 not in _statuses(gateway, "/prod/plain", 2) and time.monotonic() < deadline:
        time.sleep(0.02)

    assert _statuses(gateway, "/prod/plain", 1) == [429]
