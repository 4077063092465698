"""Writes of deployments (immutable snapshots) and the stages that serve them."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from apis import models as m
from apis.errors import BadRequest, Conflict, NotFound
from apis.patching import PatchOp, apply_patch, route
from apis.selectors import api_snapshot
from apis.services.runtime import runtime_config_bump
from apis.services.tags import tags_delete_all, tags_replace

STAGE_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
VARIABLE_VALUE = re.compile(r"^[A-Za-z0-9\-._~:/?#&=,+%@]{0,512}$")
CACHE_SIZES = {"0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"}
LOGGING_LEVELS = {"OFF", "ERROR", "INFO"}
CACHE_HEADER_STRATEGIES = {"FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER"}

# AWS fills every field of a method setting the first time one of them is patched.
METHOD_SETTING_DEFAULTS: dict[str, Any] = {
    "metricsEnabled": False,
    "loggingLevel": "OFF",
    "dataTraceEnabled": False,
    "throttlingBurstLimit": 5000,
    "throttlingRateLimit": 10000.0,
    "cachingEnabled": False,
    "cacheTtlInSeconds": 300,
    "cacheDataEncrypted": False,
    "requireAuthorizationForCacheControl": True,
    "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
}


def _check_variables(variables: dict | None) -> dict:
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("Stage variables must be a map of strings")
    variables = dict(variables or {})
    for name, value in variables.items():
        if not VARIABLE_NAME.match(str(name)):
            raise BadRequest(f"Stage variable name '{name}' must be alphanumeric or underscore, at most 64 characters")
        if not isinstance(value, str) or not VARIABLE_VALUE.match(value):
            raise BadRequest(
                f"Stage variable value for '{name}' may contain only alphanumerics and -._~:/?#&=,+%@ "
                "and be at most 512 characters"
            )
    return variables


def _check_stage_name(name: str) -> None:
    if not isinstance(name, str) or not STAGE_NAME.match(name):
        raise BadRequest("Stage name only allows a-zA-Z0-9_- and must be 1 to 128 characters long")


@transaction.atomic
def deployment_create(
    *,
    api: m.RestApi,
    description: str = "",
    stage_name: str | None = None,
    stage_description: str = "",
    cache_cluster_enabled: bool | None = None,
    cache_cluster_size: str | None = None,
    variables: dict | None = None,
    canary_settings: dict | None = None,
    tracing_enabled: bool | None = None,
) -> m.Deployment:
    """Snapshot the whole API into a new deployment and, when a stage is named, point it there."""
    snapshot = api_snapshot(api=api)
    methods = [
        (resource["path"], verb, method)
        for resource in snapshot["resources"]
        for verb, method in resource.get("resourceMethods", {}).items()
    ]
    if not methods:
        raise BadRequest("The REST API doesn't contain any methods")
    for _path, _verb, method in methods:
        if "methodIntegration" not in method:
            raise BadRequest("No integration defined for method")
    if stage_name is not None:
        _check_stage_name(stage_name)
        variables = _check_variables(variables)
    deployment = m.Deployment.objects.create(rest_api=api, description=description or "", snapshot=snapshot)
    if stage_name is not None:
        stage = m.Stage.objects.filter(rest_api=api, stage_name=stage_name).first()
        if stage is None:
            stage_create(
                api=api,
                stage_name=stage_name,
                deployment_id=deployment.id,
                description=stage_description,
                cache_cluster_enabled=bool(cache_cluster_enabled),
                cache_cluster_size=cache_cluster_size,
                variables=variables,
                canary_settings=canary_settings,
                tracing_enabled=bool(tracing_enabled),
            )
        else:
            if canary_settings:
                # As AWS does, a deployment with canary settings becomes the stage's canary, not its base.
                stage.canary_settings = _check_canary(api, {**canary_settings, "deploymentId": deployment.id})
            else:
                stage.deployment = deployment
            if stage_description:
                stage.description = stage_description
            if variables:
                stage.variables = {**stage.variables, **variables}
            if cache_cluster_enabled is not None:
                stage.cache_cluster_enabled = cache_cluster_enabled
            if tracing_enabled is not None:
                stage.tracing_enabled = tracing_enabled
            stage.save()
            runtime_config_bump(stages=[stage])
    return deployment


@transaction.atomic
def deployment_update(*, deployment: m.Deployment, patch_operations: list[PatchOp]) -> m.Deployment:
    """Change a deployment's description; its snapshot never changes."""

    def description(op: PatchOp, _: dict) -> None:
        deployment.description = "" if op.op == "remove" else op.text

    apply_patch(patch_operations, [route("/description", "replace add remove", description)])
    deployment.save(update_fields=["description"])
    return deployment


@transaction.atomic
def deployment_delete(*, deployment: m.Deployment) -> None:
    """Delete a deployment no stage (or canary) points at."""
    if m.Stage.objects.filter(deployment=deployment).exists():
        raise BadRequest("Active stages pointing to this deployment must be moved or deleted")
    for stage in m.Stage.objects.filter(rest_api_id=deployment.rest_api_id).exclude(canary_settings=None):
        if (stage.canary_settings or {}).get("deploymentId") == deployment.id:
            raise BadRequest("Active stages with canary settings pointing to this deployment must be moved or deleted")
    deployment.delete()


def _check_canary(api: m.RestApi, canary: dict | None) -> dict | None:
    if not canary:
        return None
    if not isinstance(canary, dict):
        raise BadRequest("canarySettings must be an object")
    try:
        percent_traffic = float(canary.get("percentTraffic") or 0.0)
    except (TypeError, ValueError):
        raise BadRequest("Canary percentTraffic must be a number") from None
    result = {
        "percentTraffic": percent_traffic,
        "deploymentId": canary.get("deploymentId"),
        "stageVariableOverrides": _check_variables(canary.get("stageVariableOverrides")),
        "useStageCache": bool(canary.get("useStageCache", False)),
    }
    if not 0.0 <= result["percentTraffic"] <= 100.0:
        raise BadRequest("Canary percentTraffic must be between 0.0 and 100.0")
    if result["deploymentId"] and not m.Deployment.objects.filter(rest_api=api, id=result["deploymentId"]).exists():
        raise BadRequest("Deployment id does not exist")
    return result


@transaction.atomic
def stage_create(
    *,
    api: m.RestApi,
    stage_name: str,
    deployment_id: str,
    description: str = "",
    cache_cluster_enabled: bool = False,
    cache_cluster_size: str | None = None,
    variables: dict | None = None,
    documentation_version: str = "",
    canary_settings: dict | None = None,
    tracing_enabled: bool = False,
    tags: dict[str, str] | None = None,
) -> m.Stage:
    """Create a stage serving a deployment."""
    from apis.shapes import stage_arn

    _check_stage_name(stage_name)
    deployment = m.Deployment.objects.filter(rest_api=api, id=deployment_id).first()
    if deployment is None:
        raise NotFound("Invalid Deployment identifier specified")
    if m.Stage.objects.filter(rest_api=api, stage_name=stage_name).exists():
        raise Conflict("Stage already exists")
    if cache_cluster_size and cache_cluster_size not in CACHE_SIZES:
        raise BadRequest(f"Invalid cache cluster size specified: {cache_cluster_size}")
    stage = m.Stage.objects.create(
        rest_api=api,
        stage_name=stage_name,
        deployment=deployment,
        description=description or "",
        cache_cluster_enabled=bool(cache_cluster_enabled),
        cache_cluster_size=cache_cluster_size or ("0.5" if cache_cluster_enabled else ""),
        variables=_check_variables(variables),
        documentation_version=documentation_version or "",
        canary_settings=_check_canary(api, canary_settings),
        tracing_enabled=bool(tracing_enabled),
    )
    if tags:
        tags_replace(resource_arn=stage_arn(api.id, stage_name), tags=tags)
    runtime_config_bump(stages=[stage])
    return stage


def _method_setting_key(resource_path: str, http_method: str) -> str:
    if resource_path == "*" and http_method == "*":
        return "*/*"
    return f"{resource_path.lstrip('/')}/{http_method}"


def _method_setting_handlers(stage: m.Stage) -> list:
    def setter(field: str, parse):
        def handler(op: PatchOp, params: dict) -> None:
            key = _method_setting_key(params["resourcePath"], params["httpMethod"])
            current = {**METHOD_SETTING_DEFAULTS, **stage.method_settings.get(key, {})}
            current[field] = parse(op)
            stage.method_settings = {**stage.method_settings, key: current}

        return handler

    def remove_all(op: PatchOp, params: dict) -> None:
        key = _method_setting_key(params["resourcePath"], params["httpMethod"])
        settings = dict(stage.method_settings)
        settings.pop(key, None)
        stage.method_settings = settings

    def non_negative_int(op: PatchOp) -> int:
        value = op.as_int()
        if value < 0:
            raise BadRequest(f"Invalid value for {op.path}: must not be negative")
        return value

    def non_negative_float(op: PatchOp) -> float:
        value = op.as_float()
        if value < 0:
            raise BadRequest(f"Invalid value for {op.path}: must not be negative")
        return value

    def level(op: PatchOp) -> str:
        if op.text.upper() not in LOGGING_LEVELS:
            raise BadRequest(f"Invalid logging level specified: {op.text}. Must be one of {sorted(LOGGING_LEVELS)}")
        return op.text.upper()

    def ttl(op: PatchOp) -> int:
        value = op.as_int()
        if not 0 <= value <= 3600:
            raise BadRequest("Cache TTL must be between 0 and 3600 seconds")
        return value

    def strategy(op: PatchOp) -> str:
        if op.text not in CACHE_HEADER_STRATEGIES:
            raise BadRequest(f"Invalid unauthorized cache control header strategy: {op.text}")
        return op.text

    def boolean(op: PatchOp) -> bool:
        return op.as_bool()

    base = "/{resourcePath}/{httpMethod}"
    return [
        route(f"{base}/metrics/enabled", "replace", setter("metricsEnabled", boolean)),
        route(f"{base}/logging/loglevel", "replace", setter("loggingLevel", level)),
        route(f"{base}/logging/dataTrace", "replace", setter("dataTraceEnabled", boolean)),
        route(f"{base}/throttling/burstLimit", "replace", setter("throttlingBurstLimit", non_negative_int)),
        route(f"{base}/throttling/rateLimit", "replace", setter("throttlingRateLimit", non_negative_float)),
        route(f"{base}/caching/enabled", "replace", setter("cachingEnabled", boolean)),
        route(f"{base}/caching/ttlInSeconds", "replace", setter("cacheTtlInSeconds", ttl)),
        route(f"{base}/caching/dataEncrypted", "replace", setter("cacheDataEncrypted", boolean)),
        route(
            f"{base}/caching/requireAuthorizationForCacheControl",
            "replace",
            setter("requireAuthorizationForCacheControl", boolean),
        ),
        route(
            f"{base}/caching/unauthorizedCacheControlHeaderStrategy",
            "replace",
            setter("unauthorizedCacheControlHeaderStrategy", strategy),
        ),
        route(base, "remove", remove_all),
    ]


@transaction.atomic
def stage_update(*, stage: m.Stage, patch_operations: list[PatchOp]) -> m.Stage:
    """Apply patch operations to a stage; `/deploymentId` is how a stage is rolled back or forward."""
    api = stage.rest_api

    def deployment(op: PatchOp, _: dict) -> None:
        target = m.Deployment.objects.filter(rest_api=api, id=op.text).first()
        if target is None:
            raise BadRequest("Invalid deployment identifier specified")
        stage.deployment = target

    def text_attr(attr: str):
        def handler(op: PatchOp, _: dict) -> None:
            setattr(stage, attr, "" if op.op == "remove" else op.text)

        return handler

    def cache_enabled(op: PatchOp, _: dict) -> None:
        stage.cache_cluster_enabled = op.as_bool()
        if stage.cache_cluster_enabled and not stage.cache_cluster_size:
            stage.cache_cluster_size = "0.5"

    def cache_size(op: PatchOp, _: dict) -> None:
        if op.text not in CACHE_SIZES:
            raise BadRequest(f"Invalid cache cluster size specified: {op.text}")
        stage.cache_cluster_size = op.text

    def tracing(op: PatchOp, _: dict) -> None:
        stage.tracing_enabled = op.as_bool()

    def variable(op: PatchOp, params: dict) -> None:
        name = params["name"]
        if op.op == "remove":
            stage.variables = {k: v for k, v in stage.variables.items() if k != name}
        else:
            stage.variables = {**stage.variables, **_check_variables({name: op.text})}

    def access_log(field: str):
        def handler(op: PatchOp, _: dict) -> None:
            settings = dict(stage.access_log_settings or {})
            settings[field] = op.text
            stage.access_log_settings = settings

        return handler

    def access_log_remove(op: PatchOp, _: dict) -> None:
        stage.access_log_settings = None

    def canary_remove(op: PatchOp, _: dict) -> None:
        stage.canary_settings = None

    def fail_mode(op: PatchOp, _: dict) -> None:
        if op.text.lower() not in m.ThrottlingFailMode.values:
            raise BadRequest(f"Invalid throttling fail mode: {op.text}. Must be one of open, closed, local")
        stage.throttling_fail_mode = op.text.lower()

    def canary(field: str):
        def handler(op: PatchOp, _: dict) -> None:
            current = dict(stage.canary_settings or {})
            value: Any = op.text
            if field == "percentTraffic":
                value = op.as_float()
            elif field == "useStageCache":
                value = op.as_bool()
            current[field] = value
            stage.canary_settings = _check_canary(api, current)

        return handler

    def canary_variable(op: PatchOp, params: dict) -> None:
        current = dict(stage.canary_settings or {})
        overrides = dict(current.get("stageVariableOverrides") or {})
        if op.op == "remove":
            overrides.pop(params["name"], None)
        else:
            overrides[params["name"]] = op.text
        current["stageVariableOverrides"] = overrides
        stage.canary_settings = _check_canary(api, current)

    apply_patch(
        patch_operations,
        [
            route("/deploymentId", "replace", deployment),
            route("/description", "replace add remove", text_attr("description")),
            route("/cacheClusterEnabled", "replace", cache_enabled),
            route("/cacheClusterSize", "replace", cache_size),
            route("/clientCertificateId", "replace remove", text_attr("client_certificate_id")),
            route("/documentationVersion", "replace remove", text_attr("documentation_version")),
            route("/tracingEnabled", "replace", tracing),
            # Portico's own: what gateways do when the throttle/quota counters fail (open, closed, local).
            route("/throttlingFailMode", "replace", fail_mode),
            route("/variables/{name}", "add replace remove", variable),
            route("/accessLogSettings/format", "replace add", access_log("format")),
            route("/accessLogSettings/destinationArn", "replace add", access_log("destinationArn")),
            route("/accessLogSettings", "remove", access_log_remove),
            route("/canarySettings/percentTraffic", "replace", canary("percentTraffic")),
            route("/canarySettings/deploymentId", "replace", canary("deploymentId")),
            route("/canarySettings/useStageCache", "replace", canary("useStageCache")),
            route("/canarySettings/stageVariableOverrides/{name}", "add replace remove", canary_variable),
            route("/canarySettings", "remove", canary_remove),
            *_method_setting_handlers(stage),
        ],
    )
    stage.save()
    runtime_config_bump(stages=[stage])
    stage.refresh_from_db()
    return stage


@transaction.atomic
def stage_delete(*, stage: m.Stage) -> None:
    """Delete a stage; usage plans stop covering it and base path mappings to it go too."""
    from apis.shapes import stage_arn

    m.UsagePlanStage.objects.filter(rest_api_id=stage.rest_api_id, stage_name=stage.stage_name).delete()
    m.BasePathMapping.objects.filter(rest_api_id=stage.rest_api_id, stage=stage.stage_name).delete()
    tags_delete_all(resource_arn=stage_arn(stage.rest_api_id, stage.stage_name))
    stage.delete()
    runtime_config_bump()
