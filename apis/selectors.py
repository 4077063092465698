"""Reads of the control plane, shared by the management API, the console and the gateway's config source."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from apis import models as m
from apis import shapes
from apis.errors import NotFound

SNAPSHOT_FORMAT_VERSION = 1


def rest_api_get(*, api_id: str) -> m.RestApi:
    api = m.RestApi.objects.filter(id=api_id).first()
    if api is None:
        raise NotFound(f"Invalid API identifier specified {_account()}:{api_id}")
    return api


def _account() -> str:
    from django.conf import settings

    return settings.PORTICO_ACCOUNT_ID


def root_resource_id(*, api: m.RestApi) -> str | None:
    return m.Resource.objects.filter(rest_api=api, parent=None).values_list("id", flat=True).first()


def resources_with_methods(*, api: m.RestApi) -> QuerySet[m.Resource]:
    """Return an API's resources with methods, responses and integrations prefetched."""
    methods = m.Method.objects.select_related("integration").prefetch_related(
        "method_responses", "integration__integration_responses"
    )
    return m.Resource.objects.filter(rest_api=api).prefetch_related(Prefetch("methods", queryset=methods))


def resource_get(*, api: m.RestApi, resource_id: str) -> m.Resource:
    resource = resources_with_methods(api=api).filter(id=resource_id).first()
    if resource is None:
        raise NotFound("Invalid Resource identifier specified")
    return resource


def method_get(*, resource: m.Resource, http_method: str) -> m.Method:
    method = (
        m.Method.objects.filter(resource=resource, http_method=http_method.upper())
        .prefetch_related("method_responses", "integration__integration_responses")
        .first()
    )
    if method is None:
        raise NotFound("Invalid Method identifier specified")
    return method


def method_response_get(*, method: m.Method, status_code: str) -> m.MethodResponse:
    response = m.MethodResponse.objects.filter(method=method, status_code=status_code).first()
    if response is None:
        raise NotFound("Invalid Response status code specified")
    return response


def integration_get(*, method: m.Method) -> m.Integration:
    integration = m.Integration.objects.filter(method=method).prefetch_related("integration_responses").first()
    if integration is None:
        raise NotFound("No integration defined for method")
    return integration


def integration_response_get(*, integration: m.Integration, status_code: str) -> m.IntegrationResponse:
    response = m.IntegrationResponse.objects.filter(integration=integration, status_code=status_code).first()
    if response is None:
        raise NotFound("Invalid Response status code specified")
    return response


def model_get(*, api: m.RestApi, name: str) -> m.Model:
    model = m.Model.objects.filter(rest_api=api, name=name).first()
    if model is None:
        raise NotFound(f"Invalid model name specified: {name}")
    return model


def request_validator_get(*, api: m.RestApi, validator_id: str) -> m.RequestValidator:
    validator = m.RequestValidator.objects.filter(rest_api=api, id=validator_id).first()
    if validator is None:
        raise NotFound("Invalid Request Validator identifier specified")
    return validator


def authorizer_get(*, api: m.RestApi, authorizer_id: str) -> m.Authorizer:
    authorizer = m.Authorizer.objects.filter(rest_api=api, id=authorizer_id).first()
    if authorizer is None:
        raise NotFound("Invalid Authorizer identifier specified")
    return authorizer


def gateway_responses(*, api: m.RestApi) -> list[dict]:
    """Return every gateway response type: the owner's where put, AWS's defaults elsewhere."""
    from apis.services.components import GATEWAY_RESPONSE_TYPES, gateway_response_default

    put = {r.response_type: r for r in m.GatewayResponse.objects.filter(rest_api=api)}
    return [shapes.gateway_response_shape(put.get(t), t, gateway_response_default(t)) for t in GATEWAY_RESPONSE_TYPES]


def deployment_get(*, api: m.RestApi, deployment_id: str) -> m.Deployment:
    deployment = m.Deployment.objects.filter(rest_api=api, id=deployment_id).first()
    if deployment is None:
        raise NotFound("Invalid Deployment identifier specified")
    return deployment


def stage_get(*, api: m.RestApi, stage_name: str) -> m.Stage:
    stage = m.Stage.objects.filter(rest_api=api, stage_name=stage_name).first()
    if stage is None:
        raise NotFound("Invalid Stage identifier specified")
    return stage


def api_key_get(*, key_id: str) -> m.ApiKey:
    key = m.ApiKey.objects.filter(id=key_id).first()
    if key is None:
        raise NotFound("Invalid API Key identifier specified")
    return key


def usage_plan_get(*, plan_id: str) -> m.UsagePlan:
    plan = m.UsagePlan.objects.filter(id=plan_id).prefetch_related("api_stages").first()
    if plan is None:
        raise NotFound("Invalid Usage Plan ID specified")
    return plan


def usage_values(*, plan: m.UsagePlan, key_ids: list[str], start: date, end: date) -> dict[str, list[list[int]]]:
    """Return GetUsage's per-day [used, remaining] pairs of a plan's keys, with the UpdateUsage changes applied."""
    from usage import selectors as usage

    changes = [
        usage.RemainingSet(
            key_id=item.api_key_id,
            at=item.created_date,
            period_start=item.period_start.astimezone(UTC).date(),
            remaining=item.remaining,
        )
        for item in m.QuotaAdjustment.objects.filter(
            usage_plan=plan,
            api_key_id__in=key_ids,
            created_date__lt=datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1),
        )
    ]
    return usage.usage_for_plan(
        plan_id=plan.id, quota=plan.quota, key_ids=key_ids, start=start, end=end, adjustments=changes
    )


def usage_plan_key_get(*, plan: m.UsagePlan, key_id: str) -> m.UsagePlanKey:
    link = m.UsagePlanKey.objects.filter(usage_plan=plan, api_key_id=key_id).select_related("api_key").first()
    if link is None:
        raise NotFound("Invalid API Key identifier specified")
    return link


def domain_name_get(*, domain_name: str) -> m.DomainName:
    domain = m.DomainName.objects.filter(domain_name=domain_name).first()
    if domain is None:
        raise NotFound("Invalid domain name identifier specified")
    return domain


def base_path_mapping_get(*, domain: m.DomainName, base_path: str) -> m.BasePathMapping:
    stored = "" if base_path in {"(none)", ""} else base_path
    mapping = m.BasePathMapping.objects.filter(domain_name=domain, base_path=stored).first()
    if mapping is None:
        raise NotFound("Invalid base path mapping identifier specified")
    return mapping


def tags_for(*, resource_arn: str) -> dict[str, str]:
    return dict(m.Tag.objects.filter(resource_arn=resource_arn).values_list("key", "value"))


def api_snapshot(*, api: m.RestApi) -> dict[str, Any]:
    """Serialise the whole API as one JSON document (the deployment snapshot, docs/runtime-config.md)."""
    resources = [shapes.resource_shape(r, embed_methods=True) for r in resources_with_methods(api=api)]
    for resource in resources:
        resource.setdefault("resourceMethods", {})
    return {
        "formatVersion": SNAPSHOT_FORMAT_VERSION,
        "restApi": {
            "id": api.id,
            "name": api.name,
            "apiKeySource": api.api_key_source,
            "binaryMediaTypes": list(api.binary_media_types or []),
            "disableExecuteApiEndpoint": api.disable_execute_api_endpoint,
            "minimumCompressionSize": api.minimum_compression_size,
            "policy": api.policy or None,
        },
        "resources": resources,
        "models": [shapes.model_shape(x) for x in m.Model.objects.filter(rest_api=api)],
        "requestValidators": [
            shapes.request_validator_shape(x) for x in m.RequestValidator.objects.filter(rest_api=api)
        ],
        "authorizers": [shapes.authorizer_shape(x) for x in m.Authorizer.objects.filter(rest_api=api)],
        "gatewayResponses": [
            shapes.gateway_response_shape(x, x.response_type, {})
            for x in m.GatewayResponse.objects.filter(rest_api=api)
        ],
    }


def stage_runtime_config(*, stage: m.Stage) -> dict[str, Any]:
    """Return the stage config a gateway serves (docs/runtime-config.md)."""
    return {
        "apiId": stage.rest_api_id,
        "stageName": stage.stage_name,
        "revision": stage.revision,
        "deploymentId": stage.deployment_id,
        "snapshot": stage.deployment.snapshot,
        "variables": dict(stage.variables or {}),
        "methodSettings": dict(stage.method_settings or {}),
        "accessLogSettings": stage.access_log_settings,
        "canarySettings": stage.canary_settings,
        "tracingEnabled": stage.tracing_enabled,
        "throttlingFailMode": stage.throttling_fail_mode,
    }


def keyring_runtime_config() -> dict[str, Any]:
    """Return every API key (by digest, never by value) and usage plan, as gateways enforce them."""
    plans: dict[str, dict[str, Any]] = {}
    for plan in m.UsagePlan.objects.prefetch_related("api_stages"):
        plans[plan.id] = {
            "throttle": plan.throttle,
            "quota": plan.quota,
            "stages": {f"{s.rest_api_id}/{s.stage_name}": dict(s.throttle or {}) for s in plan.api_stages.all()},
        }
    plans_of: dict[str, list[str]] = {}
    for key_id, plan_id in m.UsagePlanKey.objects.values_list("api_key_id", "usage_plan_id"):
        plans_of.setdefault(key_id, []).append(plan_id)
    keys = {
        digest: {"id": key_id, "enabled": enabled, "plans": sorted(plans_of.get(key_id, []))}
        for key_id, digest, enabled in m.ApiKey.objects.values_list("id", "value_digest", "enabled")
    }
    return {"keys": keys, "plans": plans}


# UpdateUsage changes older than the longest quota period can no longer apply.
QUOTA_ADJUSTMENT_HORIZON = timedelta(days=32)


def quota_adjustments_runtime_config() -> list[dict[str, Any]]:
    """Return the recent UpdateUsage changes, oldest first, for gateways that count in their own process."""
    since = timezone.now() - QUOTA_ADJUSTMENT_HORIZON
    return [
        {
            "id": item.id,
            "usagePlanId": item.usage_plan_id,
            "keyId": item.api_key_id,
            "periodStart": int(item.period_start.timestamp()),
            "remaining": item.remaining,
        }
        for item in m.QuotaAdjustment.objects.filter(period_start__gte=since).order_by("id")
    ]


def domain_runtime_configs() -> list[dict[str, Any]]:
    """Return every custom domain with its base path mappings, as gateways route them."""
    configs = []
    for domain in m.DomainName.objects.prefetch_related("mappings"):
        configs.append(
            {
                "domainName": domain.domain_name,
                "mappings": [
                    {"basePath": mp.base_path or "(none)", "restApiId": mp.rest_api_id, "stage": mp.stage}
                    for mp in domain.mappings.all()
                ],
            }
        )
    return configs


def config_version() -> int:
    return m.ConfigVersion.objects.filter(id=1).values_list("version", flat=True).first() or 0


def audit_events(
    *,
    user_id: int | None = None,
    operation: str | None = None,
    target_contains: str | None = None,
    since: Any = None,
    until: Any = None,
) -> QuerySet[m.AuditEvent]:
    """Return audit events, newest first, filtered as the console asks."""
    events = m.AuditEvent.objects.select_related("user")
    if user_id is not None:
        events = events.filter(user_id=user_id)
    if operation:
        events = events.filter(operation=operation)
    if target_contains:
        events = events.filter(target__contains=target_contains)
    if since is not None:
        events = events.filter(time__gte=since)
    if until is not None:
        events = events.filter(time__lt=until)
    return events
