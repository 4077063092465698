"""Operations on models, request validators, authorizers and gateway responses."""

from __future__ import annotations

from apis import models as m
from apis import selectors, shapes
from apis.aws_api.framework import Call, paginate
from apis.errors import BadRequest, NotFound
from apis.services import components
from apis.services.components import GATEWAY_RESPONSE_TYPES, gateway_response_default


def _api(call: Call) -> m.RestApi:
    return selectors.rest_api_get(api_id=call.params["restapi_id"])


def _model(call: Call) -> m.Model:
    return selectors.model_get(api=_api(call), name=call.params["model_name"])


def create_model(call: Call) -> dict:
    model = components.model_create(
        api=_api(call),
        name=call.text("name", required=True),
        content_type=call.text("contentType", required=True),
        schema=call.text("schema"),
        description=call.text("description"),
    )
    return shapes.model_shape(model)


def get_model(call: Call) -> dict:
    return shapes.model_shape(_model(call))


def get_models(call: Call) -> dict:
    return paginate(call, m.Model.objects.filter(rest_api=_api(call)), shapes.model_shape)


def update_model(call: Call) -> dict:
    return shapes.model_shape(components.model_update(model=_model(call), patch_operations=call.patch_operations()))


def delete_model(call: Call) -> None:
    components.model_delete(model=_model(call))


def _validator(call: Call) -> m.RequestValidator:
    return selectors.request_validator_get(api=_api(call), validator_id=call.params["requestvalidator_id"])


def create_request_validator(call: Call) -> dict:
    validator = components.request_validator_create(
        api=_api(call),
        name=call.text("name"),
        validate_request_body=call.flag("validateRequestBody"),
        validate_request_parameters=call.flag("validateRequestParameters"),
    )
    return shapes.request_validator_shape(validator)


def get_request_validator(call: Call) -> dict:
    return shapes.request_validator_shape(_validator(call))


def get_request_validators(call: Call) -> dict:
    return paginate(call, m.RequestValidator.objects.filter(rest_api=_api(call)), shapes.request_validator_shape)


def update_request_validator(call: Call) -> dict:
    validator = components.request_validator_update(
        validator=_validator(call), patch_operations=call.patch_operations()
    )
    return shapes.request_validator_shape(validator)


def delete_request_validator(call: Call) -> None:
    components.request_validator_delete(validator=_validator(call))


def _authorizer(call: Call) -> m.Authorizer:
    return selectors.authorizer_get(api=_api(call), authorizer_id=call.params["authorizer_id"])


def create_authorizer(call: Call) -> dict:
    authorizer = components.authorizer_create(
        api=_api(call),
        name=call.text("name", required=True),
        type=call.text("type", required=True),
        provider_arns=call.field("providerARNs", list),
        auth_type=call.text("authType"),
        authorizer_uri=call.text("authorizerUri"),
        authorizer_credentials=call.text("authorizerCredentials"),
        identity_source=call.text("identitySource"),
        identity_validation_expression=call.text("identityValidationExpression"),
        authorizer_result_ttl_in_seconds=call.field("authorizerResultTtlInSeconds", int, 300),
    )
    return shapes.authorizer_shape(authorizer)


def get_authorizer(call: Call) -> dict:
    return shapes.authorizer_shape(_authorizer(call))


def get_authorizers(call: Call) -> dict:
    return paginate(call, m.Authorizer.objects.filter(rest_api=_api(call)), shapes.authorizer_shape)


def update_authorizer(call: Call) -> dict:
    authorizer = components.authorizer_update(authorizer=_authorizer(call), patch_operations=call.patch_operations())
    return shapes.authorizer_shape(authorizer)


def delete_authorizer(call: Call) -> None:
    components.authorizer_delete(authorizer=_authorizer(call))


def _response_type(call: Call) -> str:
    response_type = call.params["response_type"]
    if response_type not in GATEWAY_RESPONSE_TYPES:
        raise BadRequest(f"Invalid response type specified: {response_type}")
    return response_type


def put_gateway_response(call: Call) -> dict:
    response = components.gateway_response_put(
        api=_api(call),
        response_type=_response_type(call),
        status_code=call.text("statusCode") or None,
        response_parameters=call.mapping("responseParameters"),
        response_templates=call.mapping("responseTemplates"),
    )
    return shapes.gateway_response_shape(response, response.response_type, {})


def get_gateway_response(call: Call) -> dict:
    response_type = _response_type(call)
    response = m.GatewayResponse.objects.filter(rest_api=_api(call), response_type=response_type).first()
    return shapes.gateway_response_shape(response, response_type, gateway_response_default(response_type))


def get_gateway_responses(call: Call) -> dict:
    return paginate(call, selectors.gateway_responses(api=_api(call)), lambda x: x)


def update_gateway_response(call: Call) -> dict:
    response = components.gateway_response_update(
        api=_api(call), response_type=_response_type(call), patch_operations=call.patch_operations()
    )
    return shapes.gateway_response_shape(response, response.response_type, {})


def delete_gateway_response(call: Call) -> None:
    response = m.GatewayResponse.objects.filter(rest_api=_api(call), response_type=_response_type(call)).first()
    if response is None:
        raise NotFound("Invalid Gateway Response identifier specified")
    components.gateway_response_delete(response=response)
