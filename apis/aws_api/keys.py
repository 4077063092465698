"""Operations on API keys, usage plans and usage plan keys."""

from __future__ import annotations

from apis import models as m
from apis import selectors, shapes
from apis.aws_api.framework import Call, paginate
from apis.secrets import decrypt
from apis.services import keys


def _key_shape(key: m.ApiKey, *, include_value: bool = False) -> dict:
    tags = selectors.tags_for(resource_arn=shapes.api_key_arn(key.id))
    value = decrypt(key.value_encrypted) if include_value else None
    return shapes.api_key_shape(key, value=value, tags=tags or None)


def create_api_key(call: Call) -> dict:
    key, value = keys.api_key_create(
        owner=call.user,
        name=call.field("name", str),
        description=call.text("description"),
        enabled=call.flag("enabled"),
        value=call.field("value", str),
        customer_id=call.text("customerId"),
        stage_keys=call.field("stageKeys", list),
        tags=call.mapping("tags"),
    )
    shape = _key_shape(key)
    shape["value"] = value
    return shape


def get_api_key(call: Call) -> dict:
    return _key_shape(
        selectors.api_key_get(key_id=call.params["api_Key"]), include_value=call.query_flag("includeValue")
    )


def get_api_keys(call: Call) -> dict:
    found = m.ApiKey.objects.all()
    if call.query.get("name"):  # boto3's nameQuery travels as `name`
        found = found.filter(name__startswith=call.query["name"])
    if call.query.get("customerId"):
        found = found.filter(customer_id=call.query["customerId"])
    include = call.query_flag("includeValues")
    return paginate(call, found, lambda k: _key_shape(k, include_value=include))


def update_api_key(call: Call) -> dict:
    key = keys.api_key_update(
        key=selectors.api_key_get(key_id=call.params["api_Key"]), patch_operations=call.patch_operations()
    )
    return _key_shape(key)


def delete_api_key(call: Call) -> None:
    keys.api_key_delete(key=selectors.api_key_get(key_id=call.params["api_Key"]))


def import_api_keys(call: Call) -> dict:
    from apis.errors import BadRequest

    if (call.query.get("format") or "csv").lower() != "csv":
        raise BadRequest("Invalid format specified: only csv is supported")
    ids, warnings = keys.api_keys_import(
        owner=call.user, body=call.raw_body, fail_on_warnings=call.query_flag("failonwarnings")
    )
    return {"ids": ids, "warnings": warnings}


def _plan(call: Call) -> m.UsagePlan:
    return selectors.usage_plan_get(plan_id=call.params["usageplanId"])


def _plan_shape(plan: m.UsagePlan) -> dict:
    tags = selectors.tags_for(resource_arn=shapes.usage_plan_arn(plan.id))
    return shapes.usage_plan_shape(plan, tags=tags or None)


def create_usage_plan(call: Call) -> dict:
    plan = keys.usage_plan_create(
        owner=call.user,
        name=call.text("name", required=True),
        description=call.text("description"),
        api_stages=call.field("apiStages", list),
        throttle=call.mapping("throttle"),
        quota=call.mapping("quota"),
        tags=call.mapping("tags"),
    )
    return _plan_shape(selectors.usage_plan_get(plan_id=plan.id))


def get_usage_plan(call: Call) -> dict:
    return _plan_shape(_plan(call))


def get_usage_plans(call: Call) -> dict:
    plans = m.UsagePlan.objects.prefetch_related("api_stages")
    if call.query.get("keyId"):
        plans = plans.filter(plan_keys__api_key_id=call.query["keyId"])
    return paginate(call, plans, _plan_shape)


def update_usage_plan(call: Call) -> dict:
    plan = keys.usage_plan_update(plan=_plan(call), patch_operations=call.patch_operations())
    return _plan_shape(selectors.usage_plan_get(plan_id=plan.id))


def delete_usage_plan(call: Call) -> None:
    keys.usage_plan_delete(plan=_plan(call))


def create_usage_plan_key(call: Call) -> dict:
    link = keys.usage_plan_key_create(
        plan=_plan(call), key_id=call.text("keyId", required=True), key_type=call.text("keyType", "API_KEY")
    )
    return shapes.usage_plan_key_shape(link)


def get_usage_plan_key(call: Call) -> dict:
    return shapes.usage_plan_key_shape(selectors.usage_plan_key_get(plan=_plan(call), key_id=call.params["keyId"]))


def get_usage_plan_keys(call: Call) -> dict:
    links = m.UsagePlanKey.objects.filter(usage_plan=_plan(call)).select_related("api_key")
    if call.query.get("name"):
        links = links.filter(api_key__name__startswith=call.query["name"])
    return paginate(call, links, shapes.usage_plan_key_shape)


def delete_usage_plan_key(call: Call) -> None:
    keys.usage_plan_key_delete(link=selectors.usage_plan_key_get(plan=_plan(call), key_id=call.params["keyId"]))
