"""Writes of API keys, usage plans and the links between them."""

from __future__ import annotations

import csv
import io
import re
import secrets
import string
from typing import Any

from django.db import IntegrityError, transaction

from apis import models as m
from apis.errors import BadRequest, Conflict, NotFound
from apis.patching import PatchOp, apply_patch, route
from apis.secrets import api_key_digest, encrypt
from apis.services.runtime import runtime_config_bump
from apis.services.tags import tags_delete_all, tags_replace

KEY_ALPHABET = string.ascii_letters + string.digits
GENERATED_KEY_LENGTH = 40  # about 238 bits of randomness
MIN_KEY_LENGTH = 20
MAX_KEY_LENGTH = 128
QUOTA_PERIODS = {"DAY": 0, "WEEK": 6, "MONTH": 27}  # period -> largest offset AWS accepts


def api_key_generate_value() -> str:
    """Return a fresh API key value drawn from the system's CSPRNG."""
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(GENERATED_KEY_LENGTH))


def _check_value(value: str) -> None:
    if not isinstance(value, str) or not MIN_KEY_LENGTH <= len(value) <= MAX_KEY_LENGTH:
        raise BadRequest(
            f"API Key value should be at least {MIN_KEY_LENGTH} characters and at most {MAX_KEY_LENGTH} characters"
        )
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise BadRequest("API Key value may not contain whitespace or control characters")


def _check_stage_keys(stage_keys: list | None) -> list[str]:
    result = []
    for entry in stage_keys or []:
        api_id = entry.get("restApiId") if isinstance(entry, dict) else None
        stage_name = entry.get("stageName") if isinstance(entry, dict) else None
        if not m.Stage.objects.filter(rest_api_id=api_id, stage_name=stage_name).exists():
            raise BadRequest(f"Invalid stage key: {api_id}/{stage_name}")
        result.append(f"{api_id}/{stage_name}")
    return result


@transaction.atomic
def api_key_create(
    *,
    owner: Any = None,
    name: str | None = None,
    description: str = "",
    enabled: bool = False,
    value: str | None = None,
    customer_id: str = "",
    stage_keys: list | None = None,
    tags: dict[str, str] | None = None,
) -> tuple[m.ApiKey, str]:
    """Create an API key and return it with its value, which is never stored in the clear."""
    from apis.shapes import api_key_arn

    if value is None:
        value = api_key_generate_value()
    _check_value(value)
    digest = api_key_digest(value)
    if m.ApiKey.objects.filter(value_digest=digest).exists():
        raise Conflict("API Key already exists")
    key = m.ApiKey(
        owner=owner,
        description=description or "",
        enabled=bool(enabled),
        customer_id=customer_id or "",
        value_digest=digest,
        value_encrypted=encrypt(value),
        stage_keys=_check_stage_keys(stage_keys),
    )
    key.name = name or key.id
    try:
        with transaction.atomic():
            key.save()
    except IntegrityError:
        raise Conflict("API Key already exists") from None
    if tags:
        tags_replace(resource_arn=api_key_arn(key.id), tags=tags)
    runtime_config_bump()
    return key, value


@transaction.atomic
def api_key_update(*, key: m.ApiKey, patch_operations: list[PatchOp]) -> m.ApiKey:
    """Apply patch operations to an API key; disabling takes effect on every gateway within seconds."""

    def text_attr(attr: str):
        def handler(op: PatchOp, _: dict) -> None:
            setattr(key, attr, "" if op.op == "remove" else op.text)

        return handler

    def enabled(op: PatchOp, _: dict) -> None:
        key.enabled = op.as_bool()

    def stages(op: PatchOp, _: dict) -> None:
        api_id, _sep, stage_name = op.text.partition("/")
        entry = f"{api_id}/{stage_name}"
        if op.op == "add":
            _check_stage_keys([{"restApiId": api_id, "stageName": stage_name}])
            key.stage_keys = sorted({*key.stage_keys, entry})
        else:
            key.stage_keys = [s for s in key.stage_keys if s != entry]

    apply_patch(
        patch_operations,
        [
            route("/name", "replace", text_attr("name")),
            route("/description", "replace add remove", text_attr("description")),
            route("/customerId", "replace add remove", text_attr("customer_id")),
            route("/enabled", "replace", enabled),
            route("/stages", "add remove", stages),
        ],
    )
    if not key.name:
        raise BadRequest("API Key name must be non-empty")
    key.save()
    runtime_config_bump()
    return key


@transaction.atomic
def api_key_delete(*, key: m.ApiKey) -> None:
    """Delete an API key; it stops working on every gateway within seconds."""
    from apis.shapes import api_key_arn

    tags_delete_all(resource_arn=api_key_arn(key.id))
    key.delete()
    runtime_config_bump()


@transaction.atomic
def api_keys_import(*, owner: Any, body: bytes, fail_on_warnings: bool = False) -> tuple[list[str], list[str]]:
    """Import keys from AWS's CSV format (name, key, description, enabled, usageplanIds)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("Invalid API keys file: not UTF-8 text") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise BadRequest("Invalid API keys file: empty")
    header = [h.strip().lower() for h in rows[0]]
    if "key" not in header and "value" not in header:
        raise BadRequest("Invalid API keys file: a 'key' column is required")
    ids: list[str] = []
    warnings: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        record = {header[i]: cell.strip() for i, cell in enumerate(row) if i < len(header)}
        value = record.get("key") or record.get("value") or ""
        try:
            _check_value(value)
            if m.ApiKey.objects.filter(value_digest=api_key_digest(value)).exists():
                raise Conflict("API Key already exists")
            plan_ids = [p for p in re.split(r"[;:|\s]+", record.get("usageplanids", "")) if p]
            plans = []
            for plan_id in plan_ids:
                plan = m.UsagePlan.objects.filter(id=plan_id).first()
                if plan is None:
                    raise NotFound(f"Invalid Usage Plan ID specified: {plan_id}")
                plans.append(plan)
            key, _ = api_key_create(
                owner=owner,
                name=record.get("name") or None,
                description=record.get("description", ""),
                enabled=record.get("enabled", "true").lower() != "false",
                value=value,
            )
            for plan in plans:
                m.UsagePlanKey.objects.create(usage_plan=plan, api_key=key)
            ids.append(key.id)
        except (BadRequest, Conflict, NotFound) as exc:
            warnings.append(f"Line {number}: {exc.message}")
    if warnings and fail_on_warnings:
        raise BadRequest("; ".join(warnings))
    return ids, warnings


# --- Usage plans ---------------------------------------------------------------------------------------


def _check_throttle(throttle: dict | None) -> dict | None:
    if not throttle:
        return None
    if not isinstance(throttle, dict):
        raise BadRequest("Invalid throttle settings: must be an object")
    try:
        result: dict[str, Any] = {}
        if throttle.get("burstLimit") is not None:
            result["burstLimit"] = int(throttle["burstLimit"])
        if throttle.get("rateLimit") is not None:
            result["rateLimit"] = float(throttle["rateLimit"])
    except (TypeError, ValueError):
        raise BadRequest("Invalid throttle settings: burstLimit must be an integer and rateLimit a number") from None
    if any(v < 0 for v in result.values()):
        raise BadRequest("Throttle limits must not be negative")
    return result or None


def _check_quota(quota: dict | None) -> dict | None:
    if not quota:
        return None
    period = quota.get("period")
    if period not in QUOTA_PERIODS:
        raise BadRequest("Quota period must be one of DAY, WEEK or MONTH")
    try:
        limit = int(quota.get("limit", 0))
        offset = int(quota.get("offset", 0) or 0)
    except (TypeError, ValueError):
        raise BadRequest("Quota limit and offset must be integers") from None
    if limit <= 0:
        raise BadRequest("Quota limit must be greater than 0")
    if not 0 <= offset <= QUOTA_PERIODS[period]:
        raise BadRequest(f"Quota offset for period {period} must be between 0 and {QUOTA_PERIODS[period]}")
    return {"limit": limit, "offset": offset, "period": period}


def _check_method_throttles(throttle: dict | None) -> dict:
    if throttle is not None and not isinstance(throttle, dict):
        raise BadRequest("Invalid method throttle settings: must be a map of /resource/METHOD to limits")
    result = {}
    for path, limits in (throttle or {}).items():
        if not re.match(r"^/\S*/(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY|\*)$", path):
            raise BadRequest(f"Invalid method throttle path specified: {path}. Must look like /resource/METHOD")
        result[path] = _check_throttle(limits) or {}
    return result


def _api_stage(plan: m.UsagePlan, api_id: str, stage_name: str, throttle: dict | None) -> m.UsagePlanStage:
    if not m.Stage.objects.filter(rest_api_id=api_id, stage_name=stage_name).exists():
        raise BadRequest(f"Invalid API Stage {{api: {api_id}, stage: {stage_name}}} specified for usageplan {plan.id}")
    if m.UsagePlanStage.objects.filter(usage_plan=plan, rest_api_id=api_id, stage_name=stage_name).exists():
        raise Conflict(f"Stage {stage_name} of API {api_id} is already in usage plan {plan.id}")
    return m.UsagePlanStage.objects.create(
        usage_plan=plan, rest_api_id=api_id, stage_name=stage_name, throttle=_check_method_throttles(throttle)
    )


@transaction.atomic
def usage_plan_create(
    *,
    owner: Any = None,
    name: str,
    description: str = "",
    api_stages: list[dict] | None = None,
    throttle: dict | None = None,
    quota: dict | None = None,
    tags: dict[str, str] | None = None,
) -> m.UsagePlan:
    """Create a usage plan with its API stages, throttle and quota."""
    from apis.shapes import usage_plan_arn

    if not name:
        raise BadRequest("Usage plan name must be non-empty")
    plan = m.UsagePlan.objects.create(
        owner=owner,
        name=name,
        description=description or "",
        throttle=_check_throttle(throttle),
        quota=_check_quota(quota),
    )
    for entry in api_stages or []:
        if not isinstance(entry, dict):
            raise BadRequest("apiStages entries must be objects")
        _api_stage(plan, str(entry.get("apiId")), str(entry.get("stage")), entry.get("throttle"))
    if tags:
        tags_replace(resource_arn=usage_plan_arn(plan.id), tags=tags)
    runtime_config_bump()
    return plan


@transaction.atomic
def usage_plan_update(*, plan: m.UsagePlan, patch_operations: list[PatchOp]) -> m.UsagePlan:
    """Apply patch operations to a usage plan; gateways apply new limits without a redeploy."""

    def text_attr(attr: str):
        def handler(op: PatchOp, _: dict) -> None:
            setattr(plan, attr, "" if op.op == "remove" else op.text)

        return handler

    def throttle_field(field: str):
        def handler(op: PatchOp, _: dict) -> None:
            value: Any = op.as_int() if field == "burstLimit" else op.as_float()
            plan.throttle = _check_throttle({**(plan.throttle or {}), field: value})

        return handler

    def throttle_remove(op: PatchOp, _: dict) -> None:
        plan.throttle = None

    def quota_field(field: str):
        def handler(op: PatchOp, _: dict) -> None:
            value: Any = op.text if field == "period" else op.as_int()
            # Checked once all operations are applied: a new quota arrives as several operations.
            plan.quota = {"offset": 0, **(plan.quota or {}), field: value}

        return handler

    def quota_remove(op: PatchOp, _: dict) -> None:
        plan.quota = None

    def api_stages(op: PatchOp, _: dict) -> None:
        api_id, _sep, stage_name = op.text.partition(":")
        if op.op == "add":
            _api_stage(plan, api_id, stage_name, None)
        else:
            deleted, _ = m.UsagePlanStage.objects.filter(
                usage_plan=plan, rest_api_id=api_id, stage_name=stage_name
            ).delete()
            if not deleted:
                raise NotFound(f"Invalid API Stage {{api: {api_id}, stage: {stage_name}}} specified for usageplan")

    def method_throttle(field: str | None):
        def handler(op: PatchOp, params: dict) -> None:
            api_id, _sep, stage_name = params["apiStage"].partition(":")
            link = m.UsagePlanStage.objects.filter(usage_plan=plan, rest_api_id=api_id, stage_name=stage_name).first()
            if link is None:
                raise NotFound(f"Invalid API Stage {{api: {api_id}, stage: {stage_name}}} specified for usageplan")
            key = f"{params['resourcePath']}/{params['httpMethod']}"
            throttles = dict(link.throttle or {})
            if field is None:
                throttles.pop(key, None)
            else:
                value: Any = op.as_int() if field == "burstLimit" else op.as_float()
                throttles[key] = {**throttles.get(key, {}), field: value}
            link.throttle = _check_method_throttles(throttles)
            link.save(update_fields=["throttle"])

        return handler

    stage_throttle = "/apiStages/{apiStage}/throttle/{resourcePath}/{httpMethod}"
    apply_patch(
        patch_operations,
        [
            route("/name", "replace", text_attr("name")),
            route("/description", "replace add remove", text_attr("description")),
            route("/productCode", "replace add remove", text_attr("product_code")),
            route("/throttle/burstLimit", "replace add", throttle_field("burstLimit")),
            route("/throttle/rateLimit", "replace add", throttle_field("rateLimit")),
            route("/throttle", "remove", throttle_remove),
            route("/quota/limit", "replace add", quota_field("limit")),
            route("/quota/offset", "replace add", quota_field("offset")),
            route("/quota/period", "replace add", quota_field("period")),
            route("/quota", "remove", quota_remove),
            route("/apiStages", "add remove", api_stages),
            route(f"{stage_throttle}/rateLimit", "replace add", method_throttle("rateLimit")),
            route(f"{stage_throttle}/burstLimit", "replace add", method_throttle("burstLimit")),
            route(stage_throttle, "remove", method_throttle(None)),
        ],
    )
    if not plan.name:
        raise BadRequest("Usage plan name must be non-empty")
    plan.quota = _check_quota(plan.quota)
    plan.save()
    runtime_config_bump()
    return plan


@transaction.atomic
def usage_plan_delete(*, plan: m.UsagePlan) -> None:
    """Delete a usage plan; its keys lose the access it gave."""
    from apis.shapes import usage_plan_arn

    tags_delete_all(resource_arn=usage_plan_arn(plan.id))
    plan.delete()
    runtime_config_bump()


@transaction.atomic
def usage_plan_key_create(*, plan: m.UsagePlan, key_id: str, key_type: str = "API_KEY") -> m.UsagePlanKey:
    """Link an API key to a usage plan."""
    if key_type != "API_KEY":
        raise BadRequest(f"Invalid key type specified: {key_type}")
    key = m.ApiKey.objects.filter(id=key_id).first()
    if key is None:
        raise NotFound("Invalid API Key identifier specified")
    if m.UsagePlanKey.objects.filter(usage_plan=plan, api_key=key).exists():
        raise Conflict(f"Usage Plan {plan.id} cannot be added because API Key {key.id} already exists in it")
    link = m.UsagePlanKey.objects.create(usage_plan=plan, api_key=key)
    runtime_config_bump()
    return link


@transaction.atomic
def usage_plan_key_delete(*, link: m.UsagePlanKey) -> None:
    """Unlink an API key from a usage plan."""
    link.delete()
    runtime_config_bump()
