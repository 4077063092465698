"""UpdateUsage: change what is left of an API key's quota in the current period."""

from __future__ import annotations

from datetime import timedelta

from apis import selectors
from apis.aws_api.framework import Call
from apis.services.usage_limits import QuotaUsage, usage_remaining_update


def _usage_shape(plan_id: str, key_id: str, usage: QuotaUsage) -> dict:
    # AWS's Usage: dates are days (the end one inclusive), values are [used, remaining] per key.
    return {
        "usagePlanId": plan_id,
        "startDate": usage.start.date().isoformat(),
        "endDate": (usage.end - timedelta(seconds=1)).date().isoformat(),
        "values": {key_id: [[usage.used, usage.remaining]]},
    }


def update_usage(call: Call) -> dict:
    plan = selectors.usage_plan_get(plan_id=call.params["usageplanId"])
    key_id = call.params["keyId"]
    usage = usage_remaining_update(plan=plan, key_id=key_id, patch_operations=call.patch_operations())
    return _usage_shape(plan.id, key_id, usage)
