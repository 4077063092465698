"""Render control-plane models in the shapes of the apigateway 2015-07-09 service.

The same shapes serve the management API's responses and the deployment snapshot, so a snapshot reads
like the output of the corresponding Get* calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings

from apis import models as m


def epoch(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def compact(data: dict[str, Any]) -> dict[str, Any]:
    """Drop unset fields, as AWS omits them from its responses."""
    return {k: v for k, v in data.items() if v is not None and v != "" and v != {} and v != []}


def arn(path: str) -> str:
    return f"arn:aws:apigateway:{settings.PORTICO_REGION}::{path}"


def rest_api_arn(api_id: str) -> str:
    return arn(f"/restapis/{api_id}")


def stage_arn(api_id: str, stage_name: str) -> str:
    return arn(f"/restapis/{api_id}/stages/{stage_name}")


def api_key_arn(key_id: str) -> str:
    return arn(f"/apikeys/{key_id}")


def usage_plan_arn(plan_id: str) -> str:
    return arn(f"/usageplans/{plan_id}")


def domain_name_arn(domain_name: str) -> str:
    return arn(f"/domainnames/{domain_name}")


def rest_api_shape(api: m.RestApi, *, root_id: str | None = None, tags: dict[str, str] | None = None) -> dict:
    endpoint = api.endpoint_configuration or {"types": ["EDGE"]}
    return compact(
        {
            "id": api.id,
            "name": api.name,
            "description": api.description,
            "createdDate": epoch(api.created_date),
            "version": api.version,
            "binaryMediaTypes": list(api.binary_media_types or []),
            "minimumCompressionSize": api.minimum_compression_size,
            "apiKeySource": api.api_key_source,
            "endpointConfiguration": endpoint,
            "policy": api.policy,
            "tags": tags,
            "disableExecuteApiEndpoint": api.disable_execute_api_endpoint,
            "rootResourceId": root_id,
        }
    ) | {"disableExecuteApiEndpoint": api.disable_execute_api_endpoint}


def integration_response_shape(ir: m.IntegrationResponse) -> dict:
    return compact(
        {
            "statusCode": ir.status_code,
            "selectionPattern": ir.selection_pattern,
            "responseParameters": ir.response_parameters,
            "responseTemplates": ir.response_templates,
            "contentHandling": ir.content_handling,
        }
    )


def integration_shape(integration: m.Integration, responses: Iterable[m.IntegrationResponse]) -> dict:
    shape = compact(
        {
            "type": integration.type,
            "httpMethod": integration.http_method,
            "uri": integration.uri,
            "connectionType": integration.connection_type,
            "connectionId": integration.connection_id,
            "credentials": integration.credentials,
            "requestParameters": integration.request_parameters,
            "requestTemplates": integration.request_templates,
            "passthroughBehavior": integration.passthrough_behavior,
            "contentHandling": integration.content_handling,
            "timeoutInMillis": integration.timeout_in_millis,
            "cacheNamespace": integration.cache_namespace,
            "cacheKeyParameters": integration.cache_key_parameters,
            "tlsConfig": integration.tls_config,
        }
    )
    shape["cacheKeyParameters"] = list(integration.cache_key_parameters or [])
    rendered = {ir.status_code: integration_response_shape(ir) for ir in responses}
    if rendered:
        shape["integrationResponses"] = rendered
    return shape


def method_response_shape(mr: m.MethodResponse) -> dict:
    return compact(
        {
            "statusCode": mr.status_code,
            "responseParameters": mr.response_parameters,
            "responseModels": mr.response_models,
        }
    )


def method_shape(method: m.Method) -> dict:
    """Render a method with its responses and integration (prefetch them to avoid queries per method)."""
    shape = compact(
        {
            "httpMethod": method.http_method,
            "authorizationType": method.authorization_type,
            "authorizerId": method.authorizer_id,
            "requestValidatorId": method.request_validator_id,
            "operationName": method.operation_name,
            "requestParameters": method.request_parameters,
            "requestModels": method.request_models,
            "authorizationScopes": method.authorization_scopes,
        }
    )
    shape["apiKeyRequired"] = method.api_key_required
    responses = {mr.status_code: method_response_shape(mr) for mr in method.method_responses.all()}
    if responses:
        shape["methodResponses"] = responses
    integration = getattr(method, "integration", None) if _has_integration(method) else None
    if integration is not None:
        shape["methodIntegration"] = integration_shape(integration, integration.integration_responses.all())
    return shape


def _has_integration(method: m.Method) -> bool:
    try:
        method.integration  # noqa: B018 - the attribute access itself answers the question
    except m.Integration.DoesNotExist:
        return False
    return True


def resource_shape(resource: m.Resource, *, embed_methods: bool = False) -> dict:
    shape = compact({"id": resource.id, "parentId": resource.parent_id, "pathPart": resource.path_part})
    shape["path"] = resource.path
    methods = list(resource.methods.all())
    if methods:
        if embed_methods:
            shape["resourceMethods"] = {meth.http_method: method_shape(meth) for meth in methods}
        else:
            # Without embed, AWS lists the verbs with empty bodies.
            shape["resourceMethods"] = {meth.http_method: {} for meth in methods}
    return shape


def model_shape(model: m.Model) -> dict:
    return compact(
        {
            "id": model.id,
            "name": model.name,
            "description": model.description,
            "schema": model.schema,
            "contentType": model.content_type,
        }
    )


def request_validator_shape(validator: m.RequestValidator) -> dict:
    return compact({"id": validator.id, "name": validator.name}) | {
        "validateRequestBody": validator.validate_request_body,
        "validateRequestParameters": validator.validate_request_parameters,
    }


def authorizer_shape(authorizer: m.Authorizer) -> dict:
    return compact(
        {
            "id": authorizer.id,
            "name": authorizer.name,
            "type": authorizer.type,
            "providerARNs": authorizer.provider_arns,
            "authType": authorizer.auth_type,
            "authorizerUri": authorizer.authorizer_uri,
            "authorizerCredentials": authorizer.authorizer_credentials,
            "identitySource": authorizer.identity_source,
            "identityValidationExpression": authorizer.identity_validation_expression,
            "authorizerResultTtlInSeconds": authorizer.authorizer_result_ttl_in_seconds,
        }
    )


def gateway_response_shape(response: m.GatewayResponse | None, response_type: str, default: dict) -> dict:
    """Render a gateway response: the owner's when put, else AWS's default for the type."""
    if response is None:
        return compact(
            {
                "responseType": response_type,
                "statusCode": default.get("statusCode"),
                "responseParameters": {},
                "responseTemplates": default.get("responseTemplates", {}),
            }
        ) | {"defaultResponse": True}
    return compact(
        {
            "responseType": response.response_type,
            "statusCode": response.status_code,
            "responseParameters": response.response_parameters,
            "responseTemplates": response.response_templates,
        }
    ) | {"defaultResponse": False}


def deployment_shape(deployment: m.Deployment) -> dict:
    return compact(
        {
            "id": deployment.id,
            "description": deployment.description,
            "createdDate": epoch(deployment.created_date),
        }
    )


def method_settings_shape(settings: dict[str, Any]) -> dict[str, Any]:
    """Key method settings as AWS does: `*/*`, or the escaped resource path and the verb (`~1pets/GET`)."""
    shaped = {}
    for key, value in settings.items():
        path, _, verb = key.rpartition("/")
        if path != "*":
            # Stored as the runtime config names them (`pets/GET`, docs/runtime-config.md).
            path = f"/{path}".replace("~", "~0").replace("/", "~1")
        shaped[f"{path}/{verb}"] = value
    return shaped


def stage_shape(stage: m.Stage, *, tags: dict[str, str] | None = None) -> dict:
    return compact(
        {
            "deploymentId": stage.deployment_id,
            "clientCertificateId": stage.client_certificate_id,
            "stageName": stage.stage_name,
            "description": stage.description,
            "cacheClusterSize": stage.cache_cluster_size,
            "cacheClusterStatus": "AVAILABLE" if stage.cache_cluster_enabled else "NOT_AVAILABLE",
            "methodSettings": method_settings_shape(stage.method_settings or {}),
            "variables": stage.variables,
            "documentationVersion": stage.documentation_version,
            "accessLogSettings": stage.access_log_settings,
            "canarySettings": stage.canary_settings,
            "tags": tags,
            "createdDate": epoch(stage.created_date),
            "lastUpdatedDate": epoch(stage.last_updated_date),
        }
    ) | {
        "cacheClusterEnabled": stage.cache_cluster_enabled,
        "tracingEnabled": stage.tracing_enabled,
        # Portico's own field (not in AWS's Stage); AWS SDKs ignore it.
        "throttlingFailMode": stage.throttling_fail_mode,
    }


def api_key_shape(key: m.ApiKey, *, value: str | None = None, tags: dict[str, str] | None = None) -> dict:
    return compact(
        {
            "id": key.id,
            "value": value,
            "name": key.name,
            "customerId": key.customer_id,
            "description": key.description,
            "createdDate": epoch(key.created_date),
            "lastUpdatedDate": epoch(key.last_updated_date),
            "stageKeys": key.stage_keys,
            "tags": tags,
        }
    ) | {"enabled": key.enabled}


def usage_plan_shape(plan: m.UsagePlan, *, tags: dict[str, str] | None = None) -> dict:
    stages = []
    for api_stage in plan.api_stages.all():
        entry: dict[str, Any] = {"apiId": api_stage.rest_api_id, "stage": api_stage.stage_name}
        if api_stage.throttle:
            entry["throttle"] = api_stage.throttle
        stages.append(entry)
    return compact(
        {
            "id": plan.id,
            "name": plan.name,
            "description": plan.description,
            "apiStages": stages,
            "throttle": plan.throttle,
            "quota": plan.quota,
            "productCode": plan.product_code,
            "tags": tags,
        }
    )


def usage_plan_key_shape(link: m.UsagePlanKey) -> dict:
    return {"id": link.api_key_id, "type": "API_KEY", "name": link.api_key.name}


def domain_name_shape(domain: m.DomainName, *, tags: dict[str, str] | None = None) -> dict:
    return compact(
        {
            "domainName": domain.domain_name,
            "certificateName": domain.certificate_name,
            "certificateArn": domain.certificate_arn,
            "certificateUploadDate": epoch(domain.created_date),
            "regionalCertificateName": domain.regional_certificate_name,
            "regionalCertificateArn": domain.regional_certificate_arn,
            "regionalDomainName": domain.domain_name,
            "distributionDomainName": domain.domain_name,
            "endpointConfiguration": domain.endpoint_configuration or {"types": ["EDGE"]},
            "domainNameStatus": "AVAILABLE",
            "securityPolicy": domain.security_policy,
            "tags": tags,
        }
    )


def base_path_mapping_shape(mapping: m.BasePathMapping) -> dict:
    return compact(
        {
            "basePath": mapping.base_path or "(none)",
            "restApiId": mapping.rest_api_id,
            "stage": mapping.stage,
        }
    )
