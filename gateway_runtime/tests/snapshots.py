"""Build stage configs (docs/runtime-config.md) for runtime tests, without a database."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

API_ID = "a1b2c3d4e5"


def resource_id(path: str) -> str:
    """Return a stable 10-character resource id for a path."""
    return hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()[:10]


def http_proxy(uri: str, *, http_method: str = "ANY", **extra: Any) -> dict[str, Any]:
    """Return an HTTP_PROXY methodIntegration."""
    return {"type": "HTTP_PROXY", "httpMethod": http_method, "uri": uri, "connectionType": "INTERNET", **extra}


def http(
    uri: str,
    *,
    http_method: str = "POST",
    responses: Mapping[str, dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return an HTTP (non-proxy) methodIntegration with a pass-everything default response."""
    return {
        "type": "HTTP",
        "httpMethod": http_method,
        "uri": uri,
        "passthroughBehavior": "WHEN_NO_MATCH",
        "integrationResponses": dict(responses or {"200": {"statusCode": "200", "selectionPattern": None}}),
        **extra,
    }


def mock(
    request_template: str = '{"statusCode": 200}',
    *,
    responses: Mapping[str, dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return a MOCK methodIntegration."""
    return {
        "type": "MOCK",
        "requestTemplates": {"application/json": request_template},
        "passthroughBehavior": "WHEN_NO_MATCH",
        "integrationResponses": dict(
            responses or {"200": {"statusCode": "200", "responseTemplates": {"application/json": '{"mock": true}'}}}
        ),
        **extra,
    }


def stage(
    routes: Mapping[tuple[str, str], dict[str, Any]],
    *,
    api_id: str = API_ID,
    stage_name: str = "prod",
    revision: int = 1,
    variables: Mapping[str, str] | None = None,
    gateway_responses: list[dict[str, Any]] | None = None,
    disable_execute_api: bool = False,
    binary_media_types: list[str] | None = None,
    key_required: Iterable[tuple[str, str]] = (),
    method_settings: Mapping[str, dict[str, Any]] | None = None,
    fail_mode: str | None = None,
    api_key_source: str = "HEADER",
) -> dict[str, Any]:
    """Return a stage config whose snapshot has one method per `(path, verb) -> methodIntegration`.

    `key_required` names the `(path, verb)` methods with apiKeyRequired; `method_settings` and `fail_mode`
    are the stage's `methodSettings` and `throttlingFailMode`.
    """
    keyed = set(key_required)
    resources: dict[str, dict[str, Any]] = {"/": {"id": resource_id("/"), "path": "/", "resourceMethods": {}}}
    for path, _ in routes:
        parts = [part for part in path.split("/") if part]
        for depth in range(1, len(parts) + 1):
            sub_path = "/" + "/".join(parts[:depth])
            parent = "/" + "/".join(parts[: depth - 1])
            resources.setdefault(
                sub_path,
                {
                    "id": resource_id(sub_path),
                    "parentId": resource_id(parent),
                    "pathPart": parts[depth - 1],
                    "path": sub_path,
                    "resourceMethods": {},
                },
            )
    for (path, verb), integration in routes.items():
        resources[path]["resourceMethods"][verb] = {
            "httpMethod": verb,
            "authorizationType": "NONE",
            "apiKeyRequired": (path, verb) in keyed,
            "requestParameters": {},
            "methodResponses": {"200": {"statusCode": "200"}},
            "methodIntegration": integration,
        }
    return {
        "apiId": api_id,
        "stageName": stage_name,
        "revision": revision,
        "deploymentId": f"d{revision:09d}",
        "snapshot": {
            "formatVersion": 1,
            "restApi": {
                "id": api_id,
                "name": "Test API",
                "apiKeySource": api_key_source,
                "binaryMediaTypes": list(binary_media_types or []),
                "disableExecuteApiEndpoint": disable_execute_api,
            },
            "resources": list(resources.values()),
            "models": [],
            "requestValidators": [],
            "authorizers": [],
            "gatewayResponses": list(gateway_responses or []),
        },
        "variables": dict(variables or {}),
        "methodSettings": dict(method_settings or {}),
        "accessLogSettings": None,
        "canarySettings": None,
        "tracingEnabled": False,
        "throttlingFailMode": fail_mode,
    }


def limits(rate: float, burst: int) -> dict[str, Any]:
    """Return a usage plan's ThrottleSettings."""
    return {"rateLimit": rate, "burstLimit": burst}


def method_setting(rate: float, burst: int) -> dict[str, Any]:
    """Return a stage method setting with a throttle."""
    return {"throttlingRateLimit": rate, "throttlingBurstLimit": burst}


def plan(
    stages: Mapping[str, Mapping[str, dict[str, Any]]],
    *,
    throttle: dict[str, Any] | None = None,
    quota: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a keyring plan covering `{"apiId/stage": {"/path/VERB": limits}}`."""
    return {"throttle": throttle, "quota": quota, "stages": {key: dict(value) for key, value in stages.items()}}


def keyring(
    keys: Iterable[tuple[str, str, bool, list[str]]], plans: Mapping[str, dict[str, Any]], *, pepper: bytes
) -> dict[str, Any]:
    """Return a keyring from `(value, id, enabled, plan ids)` keys; values are only ever stored as digests."""
    return {
        "keys": {
            hmac.new(pepper, value.encode(), hashlib.sha256).hexdigest(): {
                "id": key_id,
                "enabled": enabled,
                "plans": list(plan_ids),
            }
            for value, key_id, enabled, plan_ids in keys
        },
        "plans": dict(plans),
    }
