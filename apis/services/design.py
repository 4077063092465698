"""Writes that design an API: the API itself, resources, methods, integrations and their responses."""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import IntegrityError, transaction

from apis import models as m
from apis.errors import BadRequest, Conflict, NotFound
from apis.patching import PatchOp, apply_patch, route
from apis.services.tags import tags_replace

HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}
INTEGRATION_TYPES = {"HTTP", "HTTP_PROXY", "AWS", "AWS_PROXY", "MOCK"}
AUTHORIZATION_TYPES = {"NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"}
PASSTHROUGH = {"WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"}
CONTENT_HANDLING = {"", "CONVERT_TO_BINARY", "CONVERT_TO_TEXT"}
PATH_PART = re.compile(r"^(?:[A-Za-z0-9._:\-]+|\{[A-Za-z0-9._\-]+\+?\})$")
STATUS_CODE = re.compile(r"^[1-5]\d\d$")

EMPTY_SCHEMA = json.dumps(
    {"$schema": "http://json-schema.org/draft-04/schema#", "title": "Empty Schema", "type": "object"}
)
ERROR_SCHEMA = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "Error Schema",
        "type": "object",
        "properties": {"message": {"type": "string"}},
    }
)


# --- REST APIs ---------------------------------------------------------------------------------------


@transaction.atomic
def rest_api_create(
    *,
    owner: Any,
    name: str,
    description: str = "",
    version: str = "",
    binary_media_types: list[str] | None = None,
    minimum_compression_size: int | None = None,
    api_key_source: str = "HEADER",
    endpoint_configuration: dict | None = None,
    policy: str = "",
    disable_execute_api_endpoint: bool = False,
    tags: dict[str, str] | None = None,
) -> m.RestApi:
    """Create an API with its root resource and the Empty and Error models, as AWS does."""
    if not name or not str(name).strip():
        raise BadRequest("Invalid REST API name specified")
    if api_key_source not in m.ApiKeySource.values:
        raise BadRequest(f"Invalid API Key source specified: {api_key_source}")
    _check_compression_size(minimum_compression_size)
    api = m.RestApi.objects.create(
        owner=owner,
        name=name,
        description=description or "",
        version=version or "",
        binary_media_types=list(binary_media_types or []),
        minimum_compression_size=minimum_compression_size,
        api_key_source=api_key_source,
        endpoint_configuration=endpoint_configuration or {"types": ["EDGE"]},
        policy=policy or "",
        disable_execute_api_endpoint=bool(disable_execute_api_endpoint),
    )
    m.Resource.objects.create(id=m.new_api_id(), rest_api=api, parent=None, path_part="", path="/")
    m.Model.objects.create(
        rest_api=api, name="Empty", description="This is a default empty schema model", schema=EMPTY_SCHEMA
    )
    m.Model.objects.create(
        rest_api=api, name="Error", description="This is a default error schema model", schema=ERROR_SCHEMA
    )
    if tags:
        from apis.shapes import rest_api_arn

        tags_replace(resource_arn=rest_api_arn(api.id), tags=tags)
    return api


def _check_compression_size(size: int | None) -> None:
    if size is not None and not 0 <= int(size) <= 10 * 1024 * 1024:
        raise BadRequest("Invalid minimum compression size, must be between 0 and 10485760")


@transaction.atomic
def rest_api_update(*, api: m.RestApi, patch_operations: list[PatchOp]) -> m.RestApi:
    """Apply patch operations to an API's settings."""

    def set_name(op: PatchOp, _: dict) -> None:
        if not op.text.strip():
            raise BadRequest("Invalid REST API name specified")
        api.name = op.text

    def set_key_source(op: PatchOp, _: dict) -> None:
        if op.text not in m.ApiKeySource.values:
            raise BadRequest(f"Invalid API Key source specified: {op.text}")
        api.api_key_source = op.text

    def set_compression(op: PatchOp, _: dict) -> None:
        size = None if op.op == "remove" or op.text == "" else op.as_int()
        _check_compression_size(size)
        api.minimum_compression_size = size

    def binary_type(op: PatchOp, params: dict) -> None:
        media = params["media"]
        types = [t for t in api.binary_media_types if t != media]
        if op.op in {"add", "replace"}:
            types.append(media)
        api.binary_media_types = types

    def endpoint_types(op: PatchOp, _: dict) -> None:
        if op.text not in {"EDGE", "REGIONAL", "PRIVATE"}:
            raise BadRequest(f"Invalid endpoint type: {op.text}")
        api.endpoint_configuration = {**api.endpoint_configuration, "types": [op.text]}

    def set_attr(attr: str):
        def handler(op: PatchOp, _: dict) -> None:
            setattr(api, attr, "" if op.op == "remove" else op.text)

        return handler

    def set_disable(op: PatchOp, _: dict) -> None:
        api.disable_execute_api_endpoint = op.as_bool()

    apply_patch(
        patch_operations,
        [
            route("/name", "replace", set_name),
            route("/description", "replace add remove", set_attr("description")),
            route("/version", "replace add remove", set_attr("version")),
            route("/policy", "replace add remove", set_attr("policy")),
            route("/apiKeySource", "replace", set_key_source),
            route("/minimumCompressionSize", "replace add remove", set_compression),
            route("/binaryMediaTypes/{media}", "add replace remove", binary_type),
            route("/endpointConfiguration/types/{index}", "replace", endpoint_types),
            route("/disableExecuteApiEndpoint", "replace", set_disable),
        ],
    )
    api.save()
    return api


@transaction.atomic
def rest_api_delete(*, api: m.RestApi) -> None:
    """Delete an API with everything it holds, including its stages and their usage-plan links."""
    from apis.services.runtime import runtime_config_bump
    from apis.shapes import rest_api_arn

    had_stages = api.stages.exists()
    m.Tag.objects.filter(resource_arn__startswith=rest_api_arn(api.id)).delete()
    # Stages protect deployments; remove them first so the cascade can proceed.
    m.Stage.objects.filter(rest_api=api).delete()
    api.delete()
    if had_stages:
        runtime_config_bump()


# --- Resources -----------------------------------------------------------------------------------------


def _validate_path_part(path_part: str) -> None:
    if not isinstance(path_part, str) or not PATH_PART.match(path_part):
        raise BadRequest(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end "
            "and an optional plus sign before the closing brace."
        )


def _check_sibling_rules(parent: m.Resource, path_part: str, exclude_id: str | None = None) -> None:
    if parent.is_greedy:
        raise BadRequest(f"Cannot create a child of a resource with a greedy path variable: {parent.path}")
    siblings = m.Resource.objects.filter(parent=parent)
    if exclude_id:
        siblings = siblings.exclude(id=exclude_id)
    for sibling in siblings:
        if sibling.path_part == path_part:
            raise Conflict(f"Another resource with the same parent already has this name: {path_part}")
        if path_part.startswith("{") and sibling.is_variable:
            raise BadRequest(
                f"A sibling ({sibling.path_part}) of this resource already has a variable path part -- "
                "only one is allowed"
            )


def _child_path(parent: m.Resource, path_part: str) -> str:
    return f"/{path_part}" if parent.path == "/" else f"{parent.path}/{path_part}"


@transaction.atomic
def resource_create(*, api: m.RestApi, parent_id: str, path_part: str) -> m.Resource:
    """Create a resource under a parent, enforcing AWS's sibling and greedy-path rules."""
    parent = m.Resource.objects.filter(rest_api=api, id=parent_id).first()
    if parent is None:
        raise NotFound("Invalid Resource identifier specified")
    _validate_path_part(path_part)
    _check_sibling_rules(parent, path_part)
    try:
        with transaction.atomic():
            return m.Resource.objects.create(
                rest_api=api, parent=parent, path_part=path_part, path=_child_path(parent, path_part)
            )
    except IntegrityError:
        raise Conflict(f"Another resource with the same parent already has this name: {path_part}") from None


@transaction.atomic
def resource_update(*, resource: m.Resource, patch_operations: list[PatchOp]) -> m.Resource:
    """Rename or move a resource; the paths of its descendants follow."""
    if resource.is_root:
        raise BadRequest("Root resource cannot be updated")
    new_parent = resource.parent
    new_part = resource.path_part

    def set_part(op: PatchOp, _: dict) -> None:
        nonlocal new_part
        new_part = op.text

    def set_parent(op: PatchOp, _: dict) -> None:
        nonlocal new_parent
        new_parent = m.Resource.objects.filter(rest_api_id=resource.rest_api_id, id=op.text).first()
        if new_parent is None:
            raise NotFound("Invalid Resource identifier specified")

    apply_patch(patch_operations, [route("/pathPart", "replace", set_part), route("/parentId", "replace", set_parent)])
    assert new_parent is not None
    _validate_path_part(new_part)
    cursor: m.Resource | None = new_parent
    while cursor is not None:
        if cursor.id == resource.id:
            raise BadRequest("A resource cannot be moved under itself")
        cursor = cursor.parent
    _check_sibling_rules(new_parent, new_part, exclude_id=resource.id)
    if new_part.endswith("+}") and resource.children.exists():
        raise BadRequest("A resource with children cannot take a greedy path variable")
    resource.parent = new_parent
    resource.path_part = new_part
    resource.path = _child_path(new_parent, new_part)
    resource.save()
    _repath_descendants(resource)
    return resource


def _repath_descendants(resource: m.Resource) -> None:
    for child in resource.children.all():
        child.path = _child_path(resource, child.path_part)
        child.save(update_fields=["path"])
        _repath_descendants(child)


@transaction.atomic
def resource_delete(*, resource: m.Resource) -> None:
    """Delete a resource with its children and methods."""
    if resource.is_root:
        raise BadRequest("Cannot delete the root resource")
    resource.delete()


# --- Methods -------------------------------------------------------------------------------------------


def _check_http_method(http_method: str) -> str:
    verb = (http_method or "").upper()
    if verb not in HTTP_METHODS:
        raise BadRequest(f"Invalid HTTP method specified: {http_method}. Must be one of {sorted(HTTP_METHODS)}")
    return verb


def _check_request_parameters(params: dict | None, prefix: str) -> dict:
    params = dict(params or {})
    for key, value in params.items():
        if not re.match(
            rf"^{re.escape(prefix)}(path|querystring|header|multivaluequerystring|multivalueheader)\.\S+$",
            key,
        ):
            raise BadRequest(
                f"Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                f"[Invalid method request parameter name specified: {key}]"
            )
        if not isinstance(value, bool):
            raise BadRequest(f"Invalid value for request parameter {key}: must be a boolean")
    return params


def _lookup_validator(api_id: str, validator_id: str | None) -> m.RequestValidator | None:
    if not validator_id:
        return None
    validator = m.RequestValidator.objects.filter(rest_api_id=api_id, id=validator_id).first()
    if validator is None:
        raise BadRequest("Invalid Request Validator identifier specified")
    return validator


def _lookup_authorizer(api_id: str, authorizer_id: str | None) -> m.Authorizer | None:
    if not authorizer_id:
        return None
    authorizer = m.Authorizer.objects.filter(rest_api_id=api_id, id=authorizer_id).first()
    if authorizer is None:
        raise BadRequest("Invalid authorizer ID specified")
    return authorizer


def _check_models(api_id: str, request_models: dict | None) -> dict:
    request_models = dict(request_models or {})
    names = set(m.Model.objects.filter(rest_api_id=api_id).values_list("name", flat=True))
    for content_type, model_name in request_models.items():
        if model_name not in names:
            raise BadRequest(f"Invalid model identifier specified: {model_name}")
        if not content_type:
            raise BadRequest("Invalid content type specified")
    return request_models


@transaction.atomic
def method_put(
    *,
    resource: m.Resource,
    http_method: str,
    authorization_type: str,
    authorizer_id: str | None = None,
    api_key_required: bool = False,
    operation_name: str = "",
    request_parameters: dict | None = None,
    request_models: dict | None = None,
    request_validator_id: str | None = None,
    authorization_scopes: list[str] | None = None,
) -> m.Method:
    """Create or replace a method on a resource."""
    verb = _check_http_method(http_method)
    if authorization_type not in AUTHORIZATION_TYPES:
        raise BadRequest(f"Invalid authorization type specified: {authorization_type}")
    api_id = resource.rest_api_id
    authorizer = _lookup_authorizer(api_id, authorizer_id)
    if authorization_type in {"CUSTOM", "COGNITO_USER_POOLS"} and authorizer is None:
        raise BadRequest("Invalid authorizer ID specified")
    fields = {
        "authorization_type": authorization_type,
        "authorizer": authorizer,
        "api_key_required": bool(api_key_required),
        "operation_name": operation_name or "",
        "request_parameters": _check_request_parameters(request_parameters, "method.request."),
        "request_models": _check_models(api_id, request_models),
        "request_validator": _lookup_validator(api_id, request_validator_id),
        "authorization_scopes": list(authorization_scopes or []),
    }
    if m.Method.objects.filter(resource=resource, http_method=verb).exists():
        raise Conflict("Method already exists for this resource")
    return m.Method.objects.create(resource=resource, http_method=verb, **fields)


@transaction.atomic
def method_update(*, method: m.Method, patch_operations: list[PatchOp]) -> m.Method:
    """Apply patch operations to a method."""
    api_id = method.resource.rest_api_id

    def set_auth(op: PatchOp, _: dict) -> None:
        if op.text not in AUTHORIZATION_TYPES:
            raise BadRequest(f"Invalid authorization type specified: {op.text}")
        method.authorization_type = op.text

    def set_authorizer(op: PatchOp, _: dict) -> None:
        method.authorizer = None if op.op == "remove" else _lookup_authorizer(api_id, op.text)

    def set_key_required(op: PatchOp, _: dict) -> None:
        method.api_key_required = op.as_bool()

    def set_operation(op: PatchOp, _: dict) -> None:
        method.operation_name = "" if op.op == "remove" else op.text

    def set_validator(op: PatchOp, _: dict) -> None:
        method.request_validator = None if op.op == "remove" else _lookup_validator(api_id, op.text)

    def request_parameter(op: PatchOp, params: dict) -> None:
        name = params["name"]
        if op.op == "remove":
            if name not in method.request_parameters:
                raise NotFound(f"Invalid parameter name specified: {name}")
            method.request_parameters.pop(name)
        else:
            value = op.as_bool() if op.value is not None else False
            method.request_parameters = {
                **method.request_parameters,
                **_check_request_parameters({name: value}, "method.request."),
            }

    def request_model(op: PatchOp, params: dict) -> None:
        content_type = params["contentType"]
        if op.op == "remove":
            method.request_models.pop(content_type, None)
        else:
            method.request_models = {
                **method.request_models,
                **_check_models(api_id, {content_type: op.text}),
            }

    def scopes(op: PatchOp, _: dict) -> None:
        if op.op == "remove":
            method.authorization_scopes = [s for s in method.authorization_scopes if s != op.text]
        else:
            method.authorization_scopes = [*method.authorization_scopes, op.text]

    apply_patch(
        patch_operations,
        [
            route("/authorizationType", "replace", set_auth),
            route("/authorizerId", "replace remove", set_authorizer),
            route("/apiKeyRequired", "replace", set_key_required),
            route("/operationName", "replace add remove", set_operation),
            route("/requestValidatorId", "replace remove", set_validator),
            route("/requestParameters/{name}", "add replace remove", request_parameter),
            route("/requestModels/{contentType}", "add replace remove", request_model),
            route("/authorizationScopes", "add remove", scopes),
        ],
    )
    if method.authorization_type in {"CUSTOM", "COGNITO_USER_POOLS"} and method.authorizer is None:
        raise BadRequest("Invalid authorizer ID specified")
    method.save()
    return method


@transaction.atomic
def method_delete(*, method: m.Method) -> None:
    """Delete a method with its responses and integration."""
    method.delete()


def _check_status_code(status_code: str) -> str:
    status_code = str(status_code)
    if not STATUS_CODE.match(status_code):
        raise BadRequest(f"Invalid status code specified: {status_code}")
    return status_code


def _check_response_parameters(params: dict | None, prefix: str, *, boolean_values: bool) -> dict:
    params = dict(params or {})
    for key, value in params.items():
        if not key.startswith(prefix):
            raise BadRequest(f"Invalid mapping expression specified: {key}")
        if boolean_values and not isinstance(value, bool):
            raise BadRequest(f"Invalid value for response parameter {key}: must be a boolean")
        if not boolean_values and not isinstance(value, str):
            raise BadRequest(f"Invalid mapping expression specified: {value}")
    return params


@transaction.atomic
def method_response_put(
    *,
    method: m.Method,
    status_code: str,
    response_parameters: dict | None = None,
    response_models: dict | None = None,
) -> m.MethodResponse:
    """Create or replace a method response."""
    status_code = _check_status_code(status_code)
    params = _check_response_parameters(response_parameters, "method.response.header.", boolean_values=True)
    models = _check_models(method.resource.rest_api_id, response_models)
    response, _ = m.MethodResponse.objects.update_or_create(
        method=method,
        status_code=status_code,
        defaults={"response_parameters": params, "response_models": models},
    )
    return response


@transaction.atomic
def method_response_update(*, response: m.MethodResponse, patch_operations: list[PatchOp]) -> m.MethodResponse:
    """Apply patch operations to a method response."""
    api_id = response.method.resource.rest_api_id

    def parameter(op: PatchOp, params: dict) -> None:
        name = params["name"]
        if op.op == "remove":
            response.response_parameters.pop(name, None)
        else:
            value = op.as_bool() if op.value is not None else False
            response.response_parameters = {
                **response.response_parameters,
                **_check_response_parameters({name: value}, "method.response.header.", boolean_values=True),
            }

    def model(op: PatchOp, params: dict) -> None:
        content_type = params["contentType"]
        if op.op == "remove":
            response.response_models.pop(content_type, None)
        else:
            response.response_models = {
                **response.response_models,
                **_check_models(api_id, {content_type: op.text}),
            }

    apply_patch(
        patch_operations,
        [
            route("/responseParameters/{name}", "add replace remove", parameter),
            route("/responseModels/{contentType}", "add replace remove", model),
        ],
    )
    response.save()
    return response


# --- Integrations --------------------------------------------------------------------------------------


def _check_integration(
    *,
    type: str,
    http_method: str,
    uri: str,
    timeout_in_millis: int,
    passthrough_behavior: str,
    content_handling: str,
) -> None:
    if type not in INTEGRATION_TYPES:
        raise BadRequest(f"Invalid integration type specified: {type}")
    if type in {"HTTP", "HTTP_PROXY", "AWS", "AWS_PROXY"}:
        if not http_method:
            raise BadRequest("Enumeration value for HttpMethod must be non-empty")
        _check_http_method(http_method)
        if not uri:
            raise BadRequest("Invalid HTTP endpoint specified for URI")
    if type in {"HTTP", "HTTP_PROXY"} and not re.match(r"^https?://[^\s/]+", uri):
        raise BadRequest("Invalid HTTP endpoint specified for URI")
    if type in {"AWS", "AWS_PROXY"} and not uri.startswith("arn:"):
        raise BadRequest("AWS ARN for integration must contain path or action")
    if not 50 <= int(timeout_in_millis) <= 29000:
        raise BadRequest("Timeout should be between 50 ms and 29000 ms")
    if passthrough_behavior not in PASSTHROUGH:
        raise BadRequest(f"Invalid passthrough behavior specified: {passthrough_behavior}")
    if content_handling not in CONTENT_HANDLING:
        raise BadRequest(f"Invalid content handling specified: {content_handling}")


def _check_integration_request_parameters(params: dict | None) -> dict:
    params = dict(params or {})
    for key, value in params.items():
        if not re.match(
            r"^integration\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)\.\S+$",
            key,
        ):
            raise BadRequest(
                f"Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                f"[Invalid mapping expression specified: {key}]"
            )
        if not isinstance(value, str) or not re.match(
            r"^(method\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)\.\S+"
            r"|stageVariables\.\w+|context\.\S+|'.*')$",
            value,
        ):
            raise BadRequest(
                f"Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                f"[Invalid mapping expression parameter specified: {value}]"
            )
    return params


@transaction.atomic
def integration_put(
    *,
    method: m.Method,
    type: str,
    http_method: str = "",
    uri: str = "",
    connection_type: str = "INTERNET",
    connection_id: str = "",
    credentials: str = "",
    request_parameters: dict | None = None,
    request_templates: dict | None = None,
    passthrough_behavior: str | None = None,
    content_handling: str | None = None,
    timeout_in_millis: int | None = None,
    cache_namespace: str = "",
    cache_key_parameters: list[str] | None = None,
    tls_config: dict | None = None,
) -> m.Integration:
    """Create or replace the integration of a method; its integration responses are reset, as AWS does."""
    timeout = 29000 if timeout_in_millis is None else int(timeout_in_millis)
    passthrough = passthrough_behavior or "WHEN_NO_MATCH"
    handling = content_handling or ""
    _check_integration(
        type=type,
        http_method=(http_method or "").upper(),
        uri=uri or "",
        timeout_in_millis=timeout,
        passthrough_behavior=passthrough,
        content_handling=handling,
    )
    if connection_type not in {"INTERNET", "VPC_LINK"}:
        raise BadRequest(f"Invalid connection type specified: {connection_type}")
    m.Integration.objects.filter(method=method).delete()
    return m.Integration.objects.create(
        method=method,
        type=type,
        http_method=(http_method or "").upper(),
        uri=uri or "",
        connection_type=connection_type,
        connection_id=connection_id or "",
        credentials=credentials or "",
        request_parameters=_check_integration_request_parameters(request_parameters),
        request_templates=dict(request_templates or {}),
        passthrough_behavior=passthrough,
        content_handling=handling,
        timeout_in_millis=timeout,
        cache_namespace=cache_namespace or method.resource_id,
        cache_key_parameters=list(cache_key_parameters or []),
        tls_config=tls_config,
    )


@transaction.atomic
def integration_update(*, integration: m.Integration, patch_operations: list[PatchOp]) -> m.Integration:
    """Apply patch operations to an integration."""

    def text_attr(attr: str, upper: bool = False):
        def handler(op: PatchOp, _: dict) -> None:
            value = "" if op.op == "remove" else op.text
            setattr(integration, attr, value.upper() if upper else value)

        return handler

    def timeout(op: PatchOp, _: dict) -> None:
        integration.timeout_in_millis = 29000 if op.op == "remove" else op.as_int()

    def request_parameter(op: PatchOp, params: dict) -> None:
        name = params["name"]
        if op.op == "remove":
            integration.request_parameters.pop(name, None)
        else:
            integration.request_parameters = {
                **integration.request_parameters,
                **_check_integration_request_parameters({name: op.text}),
            }

    def request_template(op: PatchOp, params: dict) -> None:
        content_type = params["contentType"]
        if op.op == "remove":
            integration.request_templates.pop(content_type, None)
        else:
            integration.request_templates = {**integration.request_templates, content_type: op.text}

    def cache_key(op: PatchOp, params: dict) -> None:
        name = params["name"]
        keys = [k for k in integration.cache_key_parameters if k != name]
        if op.op == "add":
            keys.append(name)
        integration.cache_key_parameters = keys

    apply_patch(
        patch_operations,
        [
            route("/type", "replace", text_attr("type")),
            route("/httpMethod", "replace", text_attr("http_method", upper=True)),
            route("/uri", "replace", text_attr("uri")),
            route("/connectionType", "replace", text_attr("connection_type")),
            route("/connectionId", "replace remove", text_attr("connection_id")),
            route("/credentials", "replace remove add", text_attr("credentials")),
            route("/passthroughBehavior", "replace", text_attr("passthrough_behavior")),
            route("/contentHandling", "replace remove", text_attr("content_handling")),
            route("/timeoutInMillis", "replace remove", timeout),
            route("/cacheNamespace", "replace", text_attr("cache_namespace")),
            route("/requestParameters/{name}", "add replace remove", request_parameter),
            route("/requestTemplates/{contentType}", "add replace remove", request_template),
            route("/cacheKeyParameters/{name}", "add remove", cache_key),
        ],
    )
    _check_integration(
        type=integration.type,
        http_method=integration.http_method,
        uri=integration.uri,
        timeout_in_millis=integration.timeout_in_millis,
        passthrough_behavior=integration.passthrough_behavior,
        content_handling=integration.content_handling,
    )
    integration.save()
    return integration


@transaction.atomic
def integration_delete(*, integration: m.Integration) -> None:
    """Delete a method's integration and its responses."""
    integration.delete()


def _check_selection_pattern(pattern: str | None) -> None:
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise BadRequest(f"Invalid selection pattern specified: {pattern} ({exc})") from None


@transaction.atomic
def integration_response_put(
    *,
    integration: m.Integration,
    status_code: str,
    selection_pattern: str | None = None,
    response_parameters: dict | None = None,
    response_templates: dict | None = None,
    content_handling: str | None = None,
) -> m.IntegrationResponse:
    """Create or replace an integration response; its status must have a method response."""
    status_code = _check_status_code(status_code)
    if not integration.method.method_responses.filter(status_code=status_code).exists():
        raise BadRequest("Invalid Method Response status code specified")
    _check_selection_pattern(selection_pattern)
    handling = content_handling or ""
    if handling not in CONTENT_HANDLING:
        raise BadRequest(f"Invalid content handling specified: {handling}")
    params = _check_response_parameters(response_parameters, "method.response.header.", boolean_values=False)
    response, _ = m.IntegrationResponse.objects.update_or_create(
        integration=integration,
        status_code=status_code,
        defaults={
            "selection_pattern": selection_pattern,
            "response_parameters": params,
            "response_templates": dict(response_templates or {}),
            "content_handling": handling,
        },
    )
    return response


@transaction.atomic
def integration_response_update(
    *, response: m.IntegrationResponse, patch_operations: list[PatchOp]
) -> m.IntegrationResponse:
    """Apply patch operations to an integration response."""

    def pattern(op: PatchOp, _: dict) -> None:
        value = None if op.op == "remove" else op.text
        _check_selection_pattern(value)
        response.selection_pattern = value

    def parameter(op: PatchOp, params: dict) -> None:
        name = params["name"]
        if op.op == "remove":
            response.response_parameters.pop(name, None)
        else:
            response.response_parameters = {
                **response.response_parameters,
                **_check_response_parameters({name: op.text}, "method.response.header.", boolean_values=False),
            }

    def template(op: PatchOp, params: dict) -> None:
        content_type = params["contentType"]
        if op.op == "remove":
            response.response_templates.pop(content_type, None)
        else:
            response.response_templates = {**response.response_templates, content_type: op.text}

    def handling(op: PatchOp, _: dict) -> None:
        value = "" if op.op == "remove" else op.text
        if value not in CONTENT_HANDLING:
            raise BadRequest(f"Invalid content handling specified: {value}")
        response.content_handling = value

    apply_patch(
        patch_operations,
        [
            route("/selectionPattern", "replace remove add", pattern),
            route("/responseParameters/{name}", "add replace remove", parameter),
            route("/responseTemplates/{contentType}", "add replace remove", template),
            route("/contentHandling", "replace remove", handling),
        ],
    )
    response.save()
    return response


@transaction.atomic
def method_response_delete(*, response: m.MethodResponse) -> None:
    """Delete a method response."""
    response.delete()


@transaction.atomic
def integration_response_delete(*, response: m.IntegrationResponse) -> None:
    """Delete an integration response."""
    response.delete()
