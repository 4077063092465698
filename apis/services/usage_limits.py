"""What is left of an API key's quota, and changing it (UpdateUsage), where the gateways count.

With Redis (REDIS_URL) the gateways share quota counters there, and this process reads and changes the
counter of the current period directly, in one Lua script timed by Redis's clock as the gateways' are. In
the embedded mode the counters live in the gateway process: what was used is read from metering, and the
change is published through the runtime config (a QuotaAdjustment) for the gateway to apply within a
config poll.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from apis import models as m
from apis.errors import BadRequest, ServiceUnavailable
from apis.patching import PatchOp, apply_patch, route
from apis.selectors import usage_plan_key_get
from apis.services.runtime import runtime_config_bump
from gateway_runtime.counters import USAGE_SCRIPT, usage_arguments, usage_check
from gateway_runtime.limits import parse_quota, period_bounds

REDIS_TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class QuotaUsage:
    """One key's quota in the current period: when it started and ends, what was used and what is left."""

    start: datetime
    end: datetime
    used: int
    remaining: int


def _timestamp(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _redis_usage(
    plan_id: str, key_id: str, limit: int, bounds: tuple[int, int, int, int], remaining: int | None
) -> QuotaUsage:
    import redis

    prefix = settings.GATEWAY.get("COUNTER_PREFIX") or "portico:"
    keys, args = usage_arguments(prefix, usage_check(plan_id, key_id, limit, bounds), remaining)
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        used, left, start, end = (int(value) for value in client.eval(USAGE_SCRIPT, len(keys), *keys, *args))
    except redis.RedisError:
        raise ServiceUnavailable("The quota counters cannot be reached; try again later") from None
    finally:
        client.close()
    return QuotaUsage(start=_timestamp(start), end=_timestamp(end), used=used, remaining=max(left, 0))


@transaction.atomic
def usage_remaining_update(*, plan: m.UsagePlan, key_id: str, patch_operations: list[PatchOp]) -> QuotaUsage:
    """Set what is left of a key's quota in the current period (AWS UpdateUsage, `replace /remaining`)."""
    link = usage_plan_key_get(plan=plan, key_id=key_id)
    quota = parse_quota(plan.quota)
    if quota is None:
        raise BadRequest(f"Usage plan {plan.id} has no quota")
    wanted: list[int] = []

    def remaining(op: PatchOp, _: dict) -> None:
        value = op.as_int()
        if value < 0:
            raise BadRequest("The remaining quota must not be negative")
        wanted.append(value)

    apply_patch(patch_operations, [route("/remaining", "replace", remaining)])
    new_remaining = wanted[-1] if wanted else None
    bounds = period_bounds(quota, time.time())
    if settings.REDIS_URL:
        counted = _redis_usage(plan.id, link.api_key_id, quota.limit, bounds, new_remaining)
        if new_remaining is not None:
            # The shared counter is already changed; the row is what GetUsage and the console read it from.
            m.QuotaAdjustment.objects.create(
                usage_plan=plan, api_key_id=link.api_key_id, period_start=counted.start, remaining=new_remaining
            )
        return counted
    # Embedded mode: the count lives in the gateway process; what was used comes from metering (as of its
    # last drain), and the new remaining count reaches the gateway through the runtime config.
    start, end = _timestamp(bounds[1]), _timestamp(bounds[2])
    used = _metered(plan.id, link.api_key_id, start, end)
    if new_remaining is None:
        return QuotaUsage(start=start, end=end, used=used, remaining=max(quota.limit - used, 0))
    m.QuotaAdjustment.objects.create(
        usage_plan=plan, api_key_id=link.api_key_id, period_start=start, remaining=new_remaining
    )
    runtime_config_bump()
    return QuotaUsage(start=start, end=end, used=used, remaining=new_remaining)


def _metered(plan_id: str, key_id: str, start: datetime, end: datetime) -> int:
    from usage.selectors import daily_used

    last_day = (end - timedelta(seconds=1)).date()
    days = daily_used(plan_id=plan_id, start=start.date(), end=last_day, key_ids=[key_id]).get(key_id, {})
    return sum(days.values())
