"""Writes of an API's shared components: models, request validators, authorizers, gateway responses."""

from __future__ import annotations

import json
import re

from django.db import IntegrityError, transaction

from apis import models as m
from apis.errors import BadRequest, Conflict
from apis.patching import PatchOp, apply_patch, route

MODEL_NAME = re.compile(r"^[A-Za-z0-9]+$")
AUTHORIZER_TYPES = {"TOKEN", "REQUEST", "COGNITO_USER_POOLS"}
DEFAULT_ERROR_TEMPLATE = {"application/json": '{"message":$context.error.messageString}'}

# AWS's gateway response types with their default status codes (None: DEFAULT_4XX/5XX decide).
GATEWAY_RESPONSE_TYPES: dict[str, str | None] = {
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
    "ACCESS_DENIED": "403",
    "API_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_FAILURE": "500",
    "BAD_REQUEST_PARAMETERS": "400",
    "BAD_REQUEST_BODY": "400",
    "EXPIRED_TOKEN": "403",
    "INTEGRATION_FAILURE": "504",
    "INTEGRATION_TIMEOUT": "504",
    "INVALID_API_KEY": "403",
    "INVALID_SIGNATURE": "403",
    "MISSING_AUTHENTICATION_TOKEN": "403",
    "QUOTA_EXCEEDED": "429",
    "REQUEST_TOO_LARGE": "413",
    "RESOURCE_NOT_FOUND": "404",
    "THROTTLED": "429",
    "UNAUTHORIZED": "401",
    "UNSUPPORTED_MEDIA_TYPE": "415",
    "WAF_FILTERED": "403",
}


def gateway_response_default(response_type: str) -> dict:
    """Return AWS's default for a gateway response type."""
    return {
        "statusCode": GATEWAY_RESPONSE_TYPES.get(response_type),
        "responseTemplates": DEFAULT_ERROR_TEMPLATE,
    }


# --- Models --------------------------------------------------------------------------------------------


def _check_schema(schema: str, content_type: str) -> None:
    if not schema or "json" not in content_type:
        return
    try:
        parsed = json.loads(schema)
    except ValueError as exc:
        raise BadRequest(f"Invalid model specified: Validation Result: warnings : [], errors : [{exc}]") from None
    if not isinstance(parsed, dict):
        raise BadRequest(
            "Invalid model specified: Validation Result: warnings : [], errors : [schema must be an object]"
        )
    from jsonschema import exceptions, validators

    try:
        validators.validator_for(parsed).check_schema(parsed)
    except exceptions.SchemaError as exc:
        raise BadRequest(
            f"Invalid model specified: Validation Result: warnings : [], errors : [{exc.message}]"
        ) from None


@transaction.atomic
def model_create(*, api: m.RestApi, name: str, content_type: str, schema: str = "", description: str = "") -> m.Model:
    """Create a model after checking its name and JSON Schema."""
    if not name or not MODEL_NAME.match(name):
        raise BadRequest("Model name must be non-empty and alphanumeric")
    if not content_type:
        raise BadRequest("Invalid content type specified")
    _check_schema(schema or "", content_type)
    if m.Model.objects.filter(rest_api=api, name=name).exists():
        raise Conflict("Model name already exists for this REST API")
    return m.Model.objects.create(
        rest_api=api, name=name, content_type=content_type, schema=schema or "", description=description or ""
    )


@transaction.atomic
def model_update(*, model: m.Model, patch_operations: list[PatchOp]) -> m.Model:
    """Apply patch operations to a model."""

    def set_schema(op: PatchOp, _: dict) -> None:
        _check_schema(op.text, model.content_type)
        model.schema = op.text

    def set_description(op: PatchOp, _: dict) -> None:
        model.description = "" if op.op == "remove" else op.text

    apply_patch(
        patch_operations,
        [
            route("/schema", "replace", set_schema),
            route("/description", "replace add remove", set_description),
        ],
    )
    model.save()
    return model


@transaction.atomic
def model_delete(*, model: m.Model) -> None:
    """Delete a model that no method or method response refers to."""
    name = model.name
    for method in m.Method.objects.filter(resource__rest_api_id=model.rest_api_id):
        if name in method.request_models.values():
            raise Conflict(f"Cannot delete model '{name}', is referenced in method request")
    for response in m.MethodResponse.objects.filter(method__resource__rest_api_id=model.rest_api_id):
        if name in response.response_models.values():
            raise Conflict(f"Cannot delete model '{name}', is referenced in method response")
    model.delete()


# --- Request validators --------------------------------------------------------------------------------


@transaction.atomic
def request_validator_create(
    *,
    api: m.RestApi,
    name: str = "",
    validate_request_body: bool = False,
    validate_request_parameters: bool = False,
) -> m.RequestValidator:
    """Create a request validator."""
    if name and m.RequestValidator.objects.filter(rest_api=api, name=name).exists():
        raise Conflict("Validator with this name already exists")
    return m.RequestValidator.objects.create(
        rest_api=api,
        name=name or "",
        validate_request_body=bool(validate_request_body),
        validate_request_parameters=bool(validate_request_parameters),
    )


@transaction.atomic
def request_validator_update(*, validator: m.RequestValidator, patch_operations: list[PatchOp]) -> m.RequestValidator:
    """Apply patch operations to a request validator."""

    def set_name(op: PatchOp, _: dict) -> None:
        validator.name = op.text

    def set_flag(attr: str):
        def handler(op: PatchOp, _: dict) -> None:
            setattr(validator, attr, op.as_bool())

        return handler

    apply_patch(
        patch_operations,
        [
            route("/name", "replace", set_name),
            route("/validateRequestBody", "replace", set_flag("validate_request_body")),
            route("/validateRequestParameters", "replace", set_flag("validate_request_parameters")),
        ],
    )
    validator.save()
    return validator


@transaction.atomic
def request_validator_delete(*, validator: m.RequestValidator) -> None:
    """Delete a request validator; methods using it stop validating."""
    validator.delete()


# --- Authorizers ---------------------------------------------------------------------------------------


def _check_authorizer(authorizer: m.Authorizer) -> None:
    if authorizer.type not in AUTHORIZER_TYPES:
        raise BadRequest(f"Invalid authorizer type specified: {authorizer.type}")
    if authorizer.type in {"TOKEN", "REQUEST"} and not authorizer.authorizer_uri:
        raise BadRequest("Authorizer URI is required for TOKEN and REQUEST authorizers")
    if authorizer.type == "COGNITO_USER_POOLS" and not authorizer.provider_arns:
        raise BadRequest("ProviderARNs are required for COGNITO_USER_POOLS authorizers")
    if authorizer.type == "TOKEN" and not authorizer.identity_source:
        raise BadRequest("Identity source is required for TOKEN authorizers")
    ttl = authorizer.authorizer_result_ttl_in_seconds
    if ttl is not None and not 0 <= ttl <= 3600:
        raise BadRequest("Authorizer result TTL must be between 0 and 3600 seconds")


@transaction.atomic
def authorizer_create(
    *,
    api: m.RestApi,
    name: str,
    type: str,
    provider_arns: list[str] | None = None,
    auth_type: str = "",
    authorizer_uri: str = "",
    authorizer_credentials: str = "",
    identity_source: str = "",
    identity_validation_expression: str = "",
    authorizer_result_ttl_in_seconds: int | None = 300,
) -> m.Authorizer:
    """Create an authorizer (stored; the gateway enforces authorizers once they land)."""
    if not name:
        raise BadRequest("Authorizer name must be non-empty")
    authorizer = m.Authorizer(
        rest_api=api,
        name=name,
        type=type,
        provider_arns=list(provider_arns or []),
        auth_type=auth_type or "",
        authorizer_uri=authorizer_uri or "",
        authorizer_credentials=authorizer_credentials or "",
        identity_source=identity_source or "",
        identity_validation_expression=identity_validation_expression or "",
        authorizer_result_ttl_in_seconds=authorizer_result_ttl_in_seconds,
    )
    _check_authorizer(authorizer)
    try:
        with transaction.atomic():
            authorizer.save()
    except IntegrityError:
        raise Conflict("Authorizer name already exists for this REST API") from None
    return authorizer


@transaction.atomic
def authorizer_update(*, authorizer: m.Authorizer, patch_operations: list[PatchOp]) -> m.Authorizer:
    """Apply patch operations to an authorizer."""

    def text_attr(attr: str):
        def handler(op: PatchOp, _: dict) -> None:
            setattr(authorizer, attr, "" if op.op == "remove" else op.text)

        return handler

    def ttl(op: PatchOp, _: dict) -> None:
        authorizer.authorizer_result_ttl_in_seconds = op.as_int()

    def provider(op: PatchOp, params: dict) -> None:
        arns = [a for a in authorizer.provider_arns if a != params["arn"]]
        if op.op == "add":
            arns.append(params["arn"])
        authorizer.provider_arns = arns

    apply_patch(
        patch_operations,
        [
            route("/name", "replace", text_attr("name")),
            route("/type", "replace", text_attr("type")),
            route("/authType", "replace", text_attr("auth_type")),
            route("/authorizerUri", "replace", text_attr("authorizer_uri")),
            route("/authorizerCredentials", "replace remove", text_attr("authorizer_credentials")),
            route("/identitySource", "replace", text_attr("identity_source")),
            route("/identityValidationExpression", "replace remove", text_attr("identity_validation_expression")),
            route("/authorizerResultTtlInSeconds", "replace", ttl),
            route("/providerARNs/{arn}", "add remove", provider),
        ],
    )
    _check_authorizer(authorizer)
    try:
        with transaction.atomic():
            authorizer.save()
    except IntegrityError:
        raise Conflict("Authorizer name already exists for this REST API") from None
    return authorizer


@transaction.atomic
def authorizer_delete(*, authorizer: m.Authorizer) -> None:
    """Delete an authorizer no method uses."""
    if m.Method.objects.filter(authorizer=authorizer).exists():
        raise Conflict("Cannot delete authorizer, is referenced in method")
    authorizer.delete()


# --- Gateway responses ---------------------------------------------------------------------------------


def _check_gateway_response(response_type: str, status_code: str | None, parameters: dict) -> None:
    if response_type not in GATEWAY_RESPONSE_TYPES:
        raise BadRequest(f"Invalid response type specified: {response_type}")
    if status_code and not re.match(r"^[1-5]\d\d$", str(status_code)):
        raise BadRequest(f"Invalid status code specified: {status_code}")
    for key, value in parameters.items():
        if not re.match(r"^gatewayresponse\.(header|querystring|path)\.[\w\-]+$", key):
            raise BadRequest(f"Invalid gateway response parameter specified: {key}")
        if not isinstance(value, str):
            raise BadRequest(f"Invalid mapping expression specified: {value}")


@transaction.atomic
def gateway_response_put(
    *,
    api: m.RestApi,
    response_type: str,
    status_code: str | None = None,
    response_parameters: dict | None = None,
    response_templates: dict | None = None,
) -> m.GatewayResponse:
    """Create or replace the API's customisation of a gateway response type."""
    parameters = dict(response_parameters or {})
    _check_gateway_response(response_type, status_code, parameters)
    response, _ = m.GatewayResponse.objects.update_or_create(
        rest_api=api,
        response_type=response_type,
        defaults={
            "status_code": str(status_code or ""),
            "response_parameters": parameters,
            "response_templates": dict(response_templates or {}),
        },
    )
    return response


@transaction.atomic
def gateway_response_update(
    *, api: m.RestApi, response_type: str, patch_operations: list[PatchOp]
) -> m.GatewayResponse:
    """Apply patch operations to a gateway response, starting from AWS's default when none was put."""
    if response_type not in GATEWAY_RESPONSE_TYPES:
        raise BadRequest(f"Invalid response type specified: {response_type}")
    response = m.GatewayResponse.objects.filter(rest_api=api, response_type=response_type).first()
    if response is None:
        response = m.GatewayResponse(
            rest_api=api, response_type=response_type, response_templates=dict(DEFAULT_ERROR_TEMPLATE)
        )

    def status(op: PatchOp, _: dict) -> None:
        response.status_code = op.text

    def parameter(op: PatchOp, params: dict) -> None:
        if op.op == "remove":
            response.response_parameters.pop(params["name"], None)
        else:
            response.response_parameters = {**response.response_parameters, params["name"]: op.text}

    def template(op: PatchOp, params: dict) -> None:
        if op.op == "remove":
            response.response_templates.pop(params["contentType"], None)
        else:
            response.response_templates = {**response.response_templates, params["contentType"]: op.text}

    apply_patch(
        patch_operations,
        [
            route("/statusCode", "replace", status),
            route("/responseParameters/{name}", "add replace remove", parameter),
            route("/responseTemplates/{contentType}", "add replace remove", template),
        ],
    )
    _check_gateway_response(response_type, response.status_code, response.response_parameters)
    response.save()
    return response


@transaction.atomic
def gateway_response_delete(*, response: m.GatewayResponse) -> None:
    """Reset a gateway response type to AWS's default."""
    response.delete()
