"""Create an API from another API's definition (CreateRestApi with cloneFrom, and the console's clone)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apis import models as m
from apis.selectors import api_snapshot
from apis.services.design import rest_api_create


@transaction.atomic
def rest_api_from_snapshot(*, owner: Any, name: str, description: str, snapshot: dict) -> m.RestApi:
    """Build a new API holding everything a snapshot describes, with fresh ids."""
    source = snapshot["restApi"]
    api = rest_api_create(
        owner=owner,
        name=name,
        description=description,
        binary_media_types=source.get("binaryMediaTypes") or [],
        minimum_compression_size=source.get("minimumCompressionSize"),
        api_key_source=source.get("apiKeySource") or "HEADER",
        policy=source.get("policy") or "",
        disable_execute_api_endpoint=bool(source.get("disableExecuteApiEndpoint")),
    )
    m.Model.objects.filter(rest_api=api).delete()
    for model in snapshot.get("models", []):
        m.Model.objects.create(
            rest_api=api,
            name=model["name"],
            description=model.get("description", ""),
            content_type=model.get("contentType", "application/json"),
            schema=model.get("schema", ""),
        )
    validators = {
        v["id"]: m.RequestValidator.objects.create(
            rest_api=api,
            name=v.get("name", ""),
            validate_request_body=v.get("validateRequestBody", False),
            validate_request_parameters=v.get("validateRequestParameters", False),
        )
        for v in snapshot.get("requestValidators", [])
    }
    authorizers = {
        a["id"]: m.Authorizer.objects.create(
            rest_api=api,
            name=a["name"],
            type=a["type"],
            provider_arns=a.get("providerARNs", []),
            auth_type=a.get("authType", ""),
            authorizer_uri=a.get("authorizerUri", ""),
            authorizer_credentials=a.get("authorizerCredentials", ""),
            identity_source=a.get("identitySource", ""),
            identity_validation_expression=a.get("identityValidationExpression", ""),
            authorizer_result_ttl_in_seconds=a.get("authorizerResultTtlInSeconds"),
        )
        for a in snapshot.get("authorizers", [])
    }
    for response in snapshot.get("gatewayResponses", []):
        m.GatewayResponse.objects.create(
            rest_api=api,
            response_type=response["responseType"],
            status_code=response.get("statusCode", ""),
            response_parameters=response.get("responseParameters", {}),
            response_templates=response.get("responseTemplates", {}),
        )
    root = m.Resource.objects.get(rest_api=api, parent=None)
    created: dict[str, m.Resource] = {}
    for resource in sorted(
        snapshot.get("resources", []), key=lambda r: r["path"].count("/") if r["path"] != "/" else 0
    ):
        if resource["path"] == "/":
            target = root
        else:
            parent = created.get(resource.get("parentId", ""), root)
            target = m.Resource.objects.create(
                rest_api=api, parent=parent, path_part=resource["pathPart"], path=resource["path"]
            )
        created[resource["id"]] = target
        for verb, method in (resource.get("resourceMethods") or {}).items():
            _copy_method(target, verb, method, validators, authorizers)
    return api


def _copy_method(resource: m.Resource, verb: str, method: dict, validators: dict, authorizers: dict) -> None:
    new = m.Method.objects.create(
        resource=resource,
        http_method=verb,
        authorization_type=method.get("authorizationType", "NONE"),
        authorizer=authorizers.get(method.get("authorizerId")),
        api_key_required=method.get("apiKeyRequired", False),
        operation_name=method.get("operationName", ""),
        request_parameters=method.get("requestParameters", {}),
        request_models=method.get("requestModels", {}),
        request_validator=validators.get(method.get("requestValidatorId")),
        authorization_scopes=method.get("authorizationScopes", []),
    )
    for status, response in (method.get("methodResponses") or {}).items():
        m.MethodResponse.objects.create(
            method=new,
            status_code=status,
            response_parameters=response.get("responseParameters", {}),
            response_models=response.get("responseModels", {}),
        )
    integration = method.get("methodIntegration")
    if not integration:
        return
    created = m.Integration.objects.create(
        method=new,
        type=integration["type"],
        http_method=integration.get("httpMethod", ""),
        uri=integration.get("uri", ""),
        connection_type=integration.get("connectionType", "INTERNET"),
        connection_id=integration.get("connectionId", ""),
        credentials=integration.get("credentials", ""),
        request_parameters=integration.get("requestParameters", {}),
        request_templates=integration.get("requestTemplates", {}),
        passthrough_behavior=integration.get("passthroughBehavior", "WHEN_NO_MATCH"),
        content_handling=integration.get("contentHandling", ""),
        timeout_in_millis=integration.get("timeoutInMillis", 29000),
        cache_namespace=resource.id,
        cache_key_parameters=integration.get("cacheKeyParameters", []),
        tls_config=integration.get("tlsConfig"),
    )
    for status, response in (integration.get("integrationResponses") or {}).items():
        m.IntegrationResponse.objects.create(
            integration=created,
            status_code=status,
            selection_pattern=response.get("selectionPattern"),
            response_parameters=response.get("responseParameters", {}),
            response_templates=response.get("responseTemplates", {}),
            content_handling=response.get("contentHandling", ""),
        )


@transaction.atomic
def rest_api_clone(*, owner: Any, source: m.RestApi, name: str, description: str = "") -> m.RestApi:
    """Create a copy of an API's current definition under a new name."""
    return rest_api_from_snapshot(owner=owner, name=name, description=description, snapshot=api_snapshot(api=source))
