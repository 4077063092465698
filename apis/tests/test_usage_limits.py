"""Keys, plans and limits as the control plane publishes them, and UpdateUsage through the management API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from apis import models as m
from apis.patching import PatchOp
from apis.selectors import (
    config_version,
    keyring_runtime_config,
    quota_adjustments_runtime_config,
    stage_runtime_config,
)
from apis.services import deployments, keys
from apis.tests.keyed_api import KeyedApi, build_keyed_api
from gateway_runtime.counters import ALLOWED, OVER_QUOTA, RedisCounterStore, usage_check
from gateway_runtime.keyring import compile_keyring
from gateway_runtime.limits import LimitCheck, parse_quota, period_bounds
from gateway_runtime.tests.redis_support import delete_prefix, shared_redis_url, unique_prefix

QUOTA = {"limit": 10, "offset": 0, "period": "DAY"}


@pytest.fixture
def keyed(owner) -> KeyedApi:  # type: ignore[no-untyped-def]
    return build_keyed_api(owner, quota=QUOTA, throttle={"rateLimit": 5, "burstLimit": 10})


@pytest.fixture
def redis_counters(settings) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Point the control plane (and so UpdateUsage) at the shared Redis, under a prefix of this test's own."""
    url, prefix = shared_redis_url(), unique_prefix()
    settings.REDIS_URL = url
    settings.GATEWAY = {**settings.GATEWAY, "COUNTER_PREFIX": prefix}
    yield url, prefix
    delete_prefix(url, prefix)


@pytest.fixture
def embedded_counters(settings) -> None:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = ""


def test_the_keyring_publishes_digests_enabled_flags_plans_and_limits(keyed: KeyedApi) -> None:
    keys.usage_plan_update(
        plan=keyed.plan,
        patch_operations=[
            PatchOp(op="replace", path=f"/apiStages/{keyed.api.id}:prod/throttle/~1pets/GET/rateLimit", value="50"),
            PatchOp(op="replace", path=f"/apiStages/{keyed.api.id}:prod/throttle/~1pets/GET/burstLimit", value="60"),
        ],
    )

    keyring = keyring_runtime_config()

    assert keyed.key_value not in repr(keyring)
    assert keyring["keys"][keyed.key.value_digest] == {"id": keyed.key.id, "enabled": True, "plans": [keyed.plan.id]}
    assert keyring["plans"][keyed.plan.id] == {
        "throttle": {"rateLimit": 5.0, "burstLimit": 10},
        "quota": QUOTA,
        "stages": {f"{keyed.api.id}/prod": {"/pets/GET": {"rateLimit": 50.0, "burstLimit": 60}}},
    }
    # What the gateway compiles from it finds the key by its value.
    subscription = compile_keyring(keyring).subscription(keyed.key_value.encode(), f"{keyed.api.id}/prod", _pepper())
    assert subscription is not None and subscription.key_id == keyed.key.id


def _pepper() -> bytes:
    from django.conf import settings

    return settings.API_KEY_PEPPER.encode()


def test_disabling_unlinking_or_deleting_a_key_moves_the_config_version(keyed: KeyedApi) -> None:
    versions = [config_version()]
    keys.api_key_update(key=keyed.key, patch_operations=[PatchOp(op="replace", path="/enabled", value="false")])
    versions.append(config_version())
    assert keyring_runtime_config()["keys"][keyed.key.value_digest]["enabled"] is False

    keys.usage_plan_key_delete(link=m.UsagePlanKey.objects.get(api_key=keyed.key))
    versions.append(config_version())
    assert keyring_runtime_config()["keys"][keyed.key.value_digest]["plans"] == []

    keys.api_key_delete(key=keyed.key)
    versions.append(config_version())
    assert keyed.key.value_digest not in keyring_runtime_config()["keys"]
    assert versions == sorted(set(versions))


def test_a_stage_fail_mode_is_set_by_update_stage_and_published(keyed: KeyedApi, apigw) -> None:  # type: ignore[no-untyped-def]
    assert stage_runtime_config(stage=keyed.stage)["throttlingFailMode"] == "open"

    apigw.update_stage(
        restApiId=keyed.api.id,
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/throttlingFailMode", "value": "closed"}],
    )

    stage = m.Stage.objects.get(pk=keyed.stage.pk)
    assert stage_runtime_config(stage=stage)["throttlingFailMode"] == "closed"
    assert stage.revision > keyed.stage.revision
    with pytest.raises(ClientError) as raised:
        apigw.update_stage(
            restApiId=keyed.api.id,
            stageName="prod",
            patchOperations=[{"op": "replace", "path": "/throttlingFailMode", "value": "sometimes"}],
        )
    assert raised.value.response["Error"]["Code"] == "BadRequestException"


def test_update_usage_with_redis_sets_what_every_gateway_has_left(keyed: KeyedApi, apigw, redis_counters) -> None:  # type: ignore[no-untyped-def]
    url, prefix = redis_counters

    usage = apigw.update_usage(
        usagePlanId=keyed.plan.id,
        keyId=keyed.key.id,
        patchOperations=[{"op": "replace", "path": "/remaining", "value": "3"}],
    )

    assert usage["usagePlanId"] == keyed.plan.id
    assert usage["items"] == {keyed.key.id: [[0, 3]]}
    assert usage["startDate"] == time.strftime("%Y-%m-%d", time.gmtime())
    assert usage["endDate"] == usage["startDate"]  # a DAY period: it ends the day it starts
    # A gateway on the same Redis now lets exactly three more requests through.
    quota = parse_quota(QUOTA)
    assert quota is not None
    check = LimitCheck((), usage_check(keyed.plan.id, keyed.key.id, quota.limit, period_bounds(quota, time.time())))
    store = RedisCounterStore(url, prefix=prefix)

    async def take(times: int) -> list[str]:
        outcomes = [(await store.take(check)).outcome for _ in range(times)]
        await store.close("test")
        return outcomes

    assert asyncio.run(take(4)) == [ALLOWED.outcome] * 3 + [OVER_QUOTA]
    again = apigw.update_usage(usagePlanId=keyed.plan.id, keyId=keyed.key.id, patchOperations=[])
    assert again["items"] == {keyed.key.id: [[3, 0]]}


def test_update_usage_in_the_embedded_mode_is_published_to_the_gateway(
    keyed: KeyedApi, apigw, embedded_counters
) -> None:  # type: ignore[no-untyped-def]
    before = config_version()

    usage = apigw.update_usage(
        usagePlanId=keyed.plan.id,
        keyId=keyed.key.id,
        patchOperations=[{"op": "replace", "path": "/remaining", "value": "4"}],
    )

    assert usage["items"] == {keyed.key.id: [[0, 4]]}  # nothing used yet (as metering counts it)
    assert config_version() > before
    (published,) = quota_adjustments_runtime_config()
    assert published["usagePlanId"] == keyed.plan.id
    assert published["keyId"] == keyed.key.id
    assert published["remaining"] == 4
    assert published["periodStart"] == int(time.time()) // 86_400 * 86_400


@pytest.mark.parametrize(
    ("operations", "error"),
    [
        ([{"op": "replace", "path": "/remaining", "value": "-1"}], "BadRequestException"),
        ([{"op": "add", "path": "/remaining", "value": "5"}], "BadRequestException"),
        ([{"op": "replace", "path": "/used", "value": "5"}], "BadRequestException"),
    ],
)
def test_update_usage_refuses_what_aws_refuses(keyed: KeyedApi, apigw, embedded_counters, operations, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as raised:
        apigw.update_usage(usagePlanId=keyed.plan.id, keyId=keyed.key.id, patchOperations=operations)

    assert raised.value.response["Error"]["Code"] == error


def test_update_usage_needs_a_key_of_the_plan_and_a_plan_with_a_quota(keyed: KeyedApi, apigw, owner) -> None:  # type: ignore[no-untyped-def]
    stranger, _ = keys.api_key_create(owner=owner, name="stranger", enabled=True)
    remaining = [{"op": "replace", "path": "/remaining", "value": "1"}]

    with pytest.raises(ClientError) as raised:
        apigw.update_usage(usagePlanId=keyed.plan.id, keyId=stranger.id, patchOperations=remaining)
    assert raised.value.response["Error"]["Code"] == "NotFoundException"

    keys.usage_plan_update(plan=keyed.plan, patch_operations=[PatchOp(op="remove", path="/quota")])
    with pytest.raises(ClientError) as raised:
        apigw.update_usage(usagePlanId=keyed.plan.id, keyId=keyed.key.id, patchOperations=remaining)
    assert raised.value.response["Error"]["Code"] == "BadRequestException"


def test_a_redeploy_keeps_the_stage_fail_mode(keyed: KeyedApi) -> None:
    deployments.stage_update(
        stage=keyed.stage, patch_operations=[PatchOp(op="replace", path="/throttlingFailMode", value="local")]
    )

    deployments.deployment_create(api=keyed.api, stage_name="prod")

    assert stage_runtime_config(stage=m.Stage.objects.get(pk=keyed.stage.pk))["throttlingFailMode"] == "local"
