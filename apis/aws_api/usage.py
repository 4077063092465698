"""GetUsage: a usage plan's daily [used, remaining] per key, answered from the metering rollups."""

from __future__ import annotations

from datetime import date

from apis import models as m
from apis import selectors
from apis.aws_api.framework import Call, paginate
from apis.errors import BadRequest
from usage import selectors as usage

MAX_DAYS = 366


def _date(call: Call, name: str) -> date:
    text = call.query.get(name)
    if not text:
        raise BadRequest(f"{name} is required")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"Invalid {name}: {text}. Expected a date like 2016-01-01") from None


def get_usage(call: Call) -> dict:
    plan = selectors.usage_plan_get(plan_id=call.params["usageplanId"])
    start, end = _date(call, "startDate"), _date(call, "endDate")
    if end < start:
        raise BadRequest("The end date must not be before the start date")
    if (end - start).days >= MAX_DAYS:
        raise BadRequest(f"The date range must not exceed {MAX_DAYS} days")
    key_id = call.query.get("keyId")
    if key_id:
        selectors.api_key_get(key_id=key_id)
        members = {key_id} if m.UsagePlanKey.objects.filter(usage_plan=plan, api_key_id=key_id).exists() else set()
        members |= usage.keys_with_usage(plan_id=plan.id, start=start, end=end) & {key_id}
    else:
        members = set(m.UsagePlanKey.objects.filter(usage_plan=plan).values_list("api_key_id", flat=True))
        members |= usage.keys_with_usage(plan_id=plan.id, start=start, end=end)
    page = paginate(call, sorted(members), str)
    body: dict = {
        "usagePlanId": plan.id,
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "values": selectors.usage_values(plan=plan, key_ids=page["item"], start=start, end=end),
    }
    if "position" in page:
        body["position"] = page["position"]
    return body
