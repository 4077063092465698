"""Operations on REST APIs, resources, methods, integrations and their responses."""

from __future__ import annotations

from apis import models as m
from apis import selectors, shapes
from apis.aws_api.framework import Call, paginate
from apis.services import design


def _api(call: Call) -> m.RestApi:
    return selectors.rest_api_get(api_id=call.params["restapi_id"])


def _resource(call: Call) -> m.Resource:
    return selectors.resource_get(api=_api(call), resource_id=call.params["resource_id"])


def _method(call: Call) -> m.Method:
    return selectors.method_get(resource=_resource(call), http_method=call.params["http_method"])


def _api_shape(api: m.RestApi) -> dict:
    return shapes.rest_api_shape(
        api,
        root_id=selectors.root_resource_id(api=api),
        tags=selectors.tags_for(resource_arn=shapes.rest_api_arn(api.id)) or None,
    )


def create_rest_api(call: Call) -> dict:
    if call.body.get("cloneFrom"):
        from apis.services.cloning import rest_api_clone

        api = rest_api_clone(
            owner=call.user,
            source=selectors.rest_api_get(api_id=call.text("cloneFrom")),
            name=call.text("name", required=True),
            description=call.text("description"),
        )
        return _api_shape(api)
    api = design.rest_api_create(
        owner=call.user,
        name=call.text("name", required=True),
        description=call.text("description"),
        version=call.text("version"),
        binary_media_types=call.field("binaryMediaTypes", list),
        minimum_compression_size=call.field("minimumCompressionSize", int),
        api_key_source=call.text("apiKeySource", "HEADER"),
        endpoint_configuration=call.mapping("endpointConfiguration"),
        policy=call.text("policy"),
        disable_execute_api_endpoint=call.flag("disableExecuteApiEndpoint"),
        tags=call.mapping("tags"),
    )
    return _api_shape(api)


def get_rest_api(call: Call) -> dict:
    return _api_shape(_api(call))


def get_rest_apis(call: Call) -> dict:
    return paginate(call, m.RestApi.objects.all(), _api_shape)


def update_rest_api(call: Call) -> dict:
    return _api_shape(design.rest_api_update(api=_api(call), patch_operations=call.patch_operations()))


def delete_rest_api(call: Call) -> None:
    design.rest_api_delete(api=_api(call))


# --- Resources -----------------------------------------------------------------------------------------


def get_resources(call: Call) -> dict:
    embed = "methods" in call.query.getlist("embed")
    return paginate(
        call, selectors.resources_with_methods(api=_api(call)), lambda r: shapes.resource_shape(r, embed_methods=embed)
    )


def get_resource(call: Call) -> dict:
    embed = "methods" in call.query.getlist("embed")
    return shapes.resource_shape(_resource(call), embed_methods=embed)


def create_resource(call: Call) -> dict:
    resource = design.resource_create(
        api=_api(call), parent_id=call.params["parent_id"], path_part=call.text("pathPart", required=True)
    )
    return shapes.resource_shape(resource)


def update_resource(call: Call) -> dict:
    resource = design.resource_update(resource=_resource(call), patch_operations=call.patch_operations())
    return shapes.resource_shape(selectors.resource_get(api=resource.rest_api, resource_id=resource.id))


def delete_resource(call: Call) -> None:
    design.resource_delete(resource=_resource(call))


# --- Methods -------------------------------------------------------------------------------------------


def _method_shape(method: m.Method) -> dict:
    return shapes.method_shape(selectors.method_get(resource=method.resource, http_method=method.http_method))


def put_method(call: Call) -> dict:
    method = design.method_put(
        resource=_resource(call),
        http_method=call.params["http_method"],
        authorization_type=call.text("authorizationType", required=True),
        authorizer_id=call.text("authorizerId") or None,
        api_key_required=call.flag("apiKeyRequired"),
        operation_name=call.text("operationName"),
        request_parameters=call.mapping("requestParameters"),
        request_models=call.mapping("requestModels"),
        request_validator_id=call.text("requestValidatorId") or None,
        authorization_scopes=call.field("authorizationScopes", list),
    )
    return _method_shape(method)


def get_method(call: Call) -> dict:
    return shapes.method_shape(_method(call))


def update_method(call: Call) -> dict:
    return _method_shape(design.method_update(method=_method(call), patch_operations=call.patch_operations()))


def delete_method(call: Call) -> None:
    design.method_delete(method=_method(call))


def _status(call: Call) -> str:
    return call.params["status_code"]


def put_method_response(call: Call) -> dict:
    response = design.method_response_put(
        method=_method(call),
        status_code=_status(call),
        response_parameters=call.mapping("responseParameters"),
        response_models=call.mapping("responseModels"),
    )
    return shapes.method_response_shape(response)


def get_method_response(call: Call) -> dict:
    return shapes.method_response_shape(selectors.method_response_get(method=_method(call), status_code=_status(call)))


def update_method_response(call: Call) -> dict:
    response = selectors.method_response_get(method=_method(call), status_code=_status(call))
    return shapes.method_response_shape(
        design.method_response_update(response=response, patch_operations=call.patch_operations())
    )


def delete_method_response(call: Call) -> None:
    design.method_response_delete(
        response=selectors.method_response_get(method=_method(call), status_code=_status(call))
    )


# --- Integrations --------------------------------------------------------------------------------------


def _integration(call: Call) -> m.Integration:
    return selectors.integration_get(method=_method(call))


def _integration_shape(integration: m.Integration) -> dict:
    fresh = selectors.integration_get(method=integration.method)
    return shapes.integration_shape(fresh, fresh.integration_responses.all())


def put_integration(call: Call) -> dict:
    integration = design.integration_put(
        method=_method(call),
        type=call.text("type", required=True),
        http_method=call.text("integrationHttpMethod") or call.text("httpMethod"),
        uri=call.text("uri"),
        connection_type=call.text("connectionType", "INTERNET"),
        connection_id=call.text("connectionId"),
        credentials=call.text("credentials"),
        request_parameters=call.mapping("requestParameters"),
        request_templates=call.mapping("requestTemplates"),
        passthrough_behavior=call.text("passthroughBehavior") or None,
        content_handling=call.text("contentHandling") or None,
        timeout_in_millis=call.field("timeoutInMillis", int),
        cache_namespace=call.text("cacheNamespace"),
        cache_key_parameters=call.field("cacheKeyParameters", list),
        tls_config=call.mapping("tlsConfig"),
    )
    return _integration_shape(integration)


def get_integration(call: Call) -> dict:
    return _integration_shape(_integration(call))


def update_integration(call: Call) -> dict:
    integration = design.integration_update(integration=_integration(call), patch_operations=call.patch_operations())
    return _integration_shape(integration)


def delete_integration(call: Call) -> None:
    design.integration_delete(integration=_integration(call))


def put_integration_response(call: Call) -> dict:
    response = design.integration_response_put(
        integration=_integration(call),
        status_code=_status(call),
        selection_pattern=call.field("selectionPattern", str),
        response_parameters=call.mapping("responseParameters"),
        response_templates=call.mapping("responseTemplates"),
        content_handling=call.text("contentHandling") or None,
    )
    return shapes.integration_response_shape(response)


def _integration_response(call: Call) -> m.IntegrationResponse:
    return selectors.integration_response_get(integration=_integration(call), status_code=_status(call))


def get_integration_response(call: Call) -> dict:
    return shapes.integration_response_shape(_integration_response(call))


def update_integration_response(call: Call) -> dict:
    response = design.integration_response_update(
        response=_integration_response(call), patch_operations=call.patch_operations()
    )
    return shapes.integration_response_shape(response)


def delete_integration_response(call: Call) -> None:
    design.integration_response_delete(response=_integration_response(call))


def test_invoke_method(call: Call) -> dict:
    """Run the method through the gateway pipeline against the current, undeployed definition."""
    import asyncio

    from gateway_runtime.testinvoke import MethodNotFound, test_invoke

    api = _api(call)
    resource = _resource(call)
    stage_like = {
        "apiId": api.id,
        "stageName": "test-invoke-stage",
        "revision": 0,
        "deploymentId": "test-invoke-deployment",
        "snapshot": selectors.api_snapshot(api=api),
        "methodSettings": {},
        "accessLogSettings": None,
        "canarySettings": None,
        "tracingEnabled": False,
    }
    headers = dict(call.field("headers", dict, {}) or {})
    for name, values in (call.field("multiValueHeaders", dict, {}) or {}).items():
        if isinstance(values, list) and values:
            headers.setdefault(name, ",".join(str(v) for v in values))
    try:
        return asyncio.run(
            test_invoke(
                stage_like,
                resource.id,
                call.params["http_method"],
                path_with_query=call.text("pathWithQueryString") or resource.path,
                headers=headers,
                body=call.text("body"),
                stage_variables=call.field("stageVariables", dict, {}) or {},
                session=None,
            )
        )
    except MethodNotFound:
        from apis.errors import NotFound

        raise NotFound("Invalid Method identifier specified") from None
