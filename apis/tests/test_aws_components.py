"""boto3 against the live management API: models, request validators, authorizers and gateway responses."""

from __future__ import annotations

import json

import pytest

from apis.tests.aws_calls import all_pages, aws_error, build_pets_api, status_of

PET_SCHEMA = json.dumps({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})
AUTHORIZER_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:auth/invocations"
)


@pytest.fixture
def api_id(apigw) -> str:
    return apigw.create_rest_api(name="components")["id"]


# --- Models --------------------------------------------------------------------------------------------


def test_it_creates_reads_updates_and_deletes_a_model(apigw, api_id):
    created = apigw.create_model(
        restApiId=api_id, name="Pet", contentType="application/json", schema=PET_SCHEMA, description="a pet"
    )
    assert status_of(created) == 201
    assert (created["name"], created["schema"], created["description"]) == ("Pet", PET_SCHEMA, "a pet")

    fetched = apigw.get_model(restApiId=api_id, modelName="Pet")
    assert status_of(fetched) == 200
    assert fetched["id"] == created["id"]

    new_schema = json.dumps({"type": "object", "properties": {"age": {"type": "integer"}}})
    updated = apigw.update_model(
        restApiId=api_id,
        modelName="Pet",
        patchOperations=[
            {"op": "replace", "path": "/schema", "value": new_schema},
            {"op": "replace", "path": "/description", "value": "an older pet"},
        ],
    )
    assert status_of(updated) == 200
    after = apigw.get_model(restApiId=api_id, modelName="Pet")
    assert (after["schema"], after["description"]) == (new_schema, "an older pet")

    assert status_of(apigw.delete_model(restApiId=api_id, modelName="Pet")) == 202
    with aws_error(404, "NotFoundException", "Invalid model name specified: Pet"):
        apigw.get_model(restApiId=api_id, modelName="Pet")


def test_every_api_starts_with_the_empty_and_error_models_and_pages_them(apigw, api_id):
    apigw.create_model(restApiId=api_id, name="Pet", contentType="application/json", schema=PET_SCHEMA)
    apigw.create_model(restApiId=api_id, name="Owner", contentType="application/json", schema=PET_SCHEMA)

    items, pages = all_pages(apigw.get_models, restApiId=api_id)

    assert sorted(item["name"] for item in items) == ["Empty", "Error", "Owner", "Pet"]
    assert len({item["id"] for item in items}) == 4
    assert pages == 4


def test_it_answers_409_for_a_duplicate_model(apigw, api_id):
    apigw.create_model(restApiId=api_id, name="Pet", contentType="application/json", schema=PET_SCHEMA)

    with aws_error(409, "ConflictException", "Model name already exists for this REST API"):
        apigw.create_model(restApiId=api_id, name="Pet", contentType="application/json", schema=PET_SCHEMA)


@pytest.mark.parametrize(
    ("name", "schema", "message"),
    [
        ("Bad-Name", PET_SCHEMA, "Model name must be non-empty and alphanumeric"),
        ("Pet", "{not json", "Invalid model specified"),
        ("Pet", '{"type": 12}', "Invalid model specified"),
    ],
)
def test_it_rejects_an_invalid_model(apigw, api_id, name, schema, message):
    with aws_error(400, "BadRequestException", message):
        apigw.create_model(restApiId=api_id, name=name, contentType="application/json", schema=schema)
    assert sorted(m["name"] for m in apigw.get_models(restApiId=api_id)["items"]) == ["Empty", "Error"]


def test_it_keeps_the_schema_when_a_patch_is_invalid(apigw, api_id):
    apigw.create_model(restApiId=api_id, name="Pet", contentType="application/json", schema=PET_SCHEMA)

    with aws_error(400, "BadRequestException", "Invalid model specified"):
        apigw.update_model(
            restApiId=api_id,
            modelName="Pet",
            patchOperations=[
                {"op": "replace", "path": "/description", "value": "changed"},
                {"op": "replace", "path": "/schema", "value": "[oops"},
            ],
        )

    fetched = apigw.get_model(restApiId=api_id, modelName="Pet")
    assert fetched["schema"] == PET_SCHEMA
    assert "description" not in fetched


# --- Request validators --------------------------------------------------------------------------------


def test_it_creates_reads_updates_and_deletes_a_request_validator(apigw, api_id):
    created = apigw.create_request_validator(restApiId=api_id, name="body", validateRequestBody=True)
    assert status_of(created) == 201
    assert (created["validateRequestBody"], created["validateRequestParameters"]) == (True, False)

    fetched = apigw.get_request_validator(restApiId=api_id, requestValidatorId=created["id"])
    assert status_of(fetched) == 200
    assert fetched["name"] == "body"

    updated = apigw.update_request_validator(
        restApiId=api_id,
        requestValidatorId=created["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "everything"},
            {"op": "replace", "path": "/validateRequestParameters", "value": "true"},
        ],
    )
    assert status_of(updated) == 200
    after = apigw.get_request_validator(restApiId=api_id, requestValidatorId=created["id"])
    assert (after["name"], after["validateRequestBody"], after["validateRequestParameters"]) == (
        "everything",
        True,
        True,
    )

    deleted = apigw.delete_request_validator(restApiId=api_id, requestValidatorId=created["id"])
    assert status_of(deleted) == 202
    with aws_error(404, "NotFoundException", "Invalid Request Validator identifier specified"):
        apigw.get_request_validator(restApiId=api_id, requestValidatorId=created["id"])


def test_it_lists_request_validators_a_page_at_a_time(apigw, api_id):
    ids = {apigw.create_request_validator(restApiId=api_id, name=f"v{n}")["id"] for n in range(3)}

    items, pages = all_pages(apigw.get_request_validators, restApiId=api_id)

    assert {item["id"] for item in items} == ids
    assert len(items) == pages == 3


def test_it_rejects_a_non_boolean_validator_flag(apigw, api_id):
    validator = apigw.create_request_validator(restApiId=api_id, name="body", validateRequestBody=True)

    with aws_error(400, "BadRequestException", "Invalid boolean value 'maybe'"):
        apigw.update_request_validator(
            restApiId=api_id,
            requestValidatorId=validator["id"],
            patchOperations=[{"op": "replace", "path": "/validateRequestBody", "value": "maybe"}],
        )
    assert apigw.get_request_validator(restApiId=api_id, requestValidatorId=validator["id"])["validateRequestBody"]


# --- Authorizers ---------------------------------------------------------------------------------------


def test_it_creates_reads_updates_and_deletes_an_authorizer(apigw, api_id):
    created = apigw.create_authorizer(
        restApiId=api_id,
        name="tokens",
        type="TOKEN",
        authorizerUri=AUTHORIZER_URI,
        identitySource="method.request.header.Authorization",
        authorizerResultTtlInSeconds=60,
    )
    assert status_of(created) == 201
    assert (created["type"], created["authorizerResultTtlInSeconds"]) == ("TOKEN", 60)

    fetched = apigw.get_authorizer(restApiId=api_id, authorizerId=created["id"])
    assert status_of(fetched) == 200
    assert fetched["identitySource"] == "method.request.header.Authorization"

    updated = apigw.update_authorizer(
        restApiId=api_id,
        authorizerId=created["id"],
        patchOperations=[
            {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "0"},
            {"op": "replace", "path": "/identityValidationExpression", "value": "^Bearer .+$"},
        ],
    )
    assert status_of(updated) == 200
    after = apigw.get_authorizer(restApiId=api_id, authorizerId=created["id"])
    assert (after["authorizerResultTtlInSeconds"], after["identityValidationExpression"]) == (0, "^Bearer .+$")

    listed = apigw.get_authorizers(restApiId=api_id)
    assert status_of(listed) == 200
    assert [a["id"] for a in listed["items"]] == [created["id"]]

    assert status_of(apigw.delete_authorizer(restApiId=api_id, authorizerId=created["id"])) == 202
    with aws_error(404, "NotFoundException", "Invalid Authorizer identifier specified"):
        apigw.get_authorizer(restApiId=api_id, authorizerId=created["id"])


def test_a_method_can_use_an_authorizer(apigw):
    pets = build_pets_api(apigw)
    authorizer = apigw.create_authorizer(
        restApiId=pets.api_id,
        name="tokens",
        type="TOKEN",
        authorizerUri=AUTHORIZER_URI,
        identitySource="method.request.header.Authorization",
    )

    apigw.update_method(
        restApiId=pets.api_id,
        resourceId=pets.pets_id,
        httpMethod="GET",
        patchOperations=[
            {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"},
            {"op": "replace", "path": "/authorizerId", "value": authorizer["id"]},
        ],
    )

    method = apigw.get_method(restApiId=pets.api_id, resourceId=pets.pets_id, httpMethod="GET")
    assert (method["authorizationType"], method["authorizerId"]) == ("CUSTOM", authorizer["id"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "MAGIC", "authorizerUri": AUTHORIZER_URI}, "Invalid authorizer type specified: MAGIC"),
        ({"type": "TOKEN", "identitySource": "method.request.header.Authorization"}, "Authorizer URI is required"),
        ({"type": "COGNITO_USER_POOLS"}, "ProviderARNs are required"),
    ],
)
def test_it_rejects_an_invalid_authorizer(apigw, api_id, kwargs, message):
    with aws_error(400, "BadRequestException", message):
        apigw.create_authorizer(restApiId=api_id, name="bad", **kwargs)
    assert apigw.get_authorizers(restApiId=api_id)["items"] == []


def test_it_answers_409_for_a_duplicate_authorizer_name(apigw, api_id):
    kwargs = {
        "restApiId": api_id,
        "name": "tokens",
        "type": "TOKEN",
        "authorizerUri": AUTHORIZER_URI,
        "identitySource": "method.request.header.Authorization",
    }
    apigw.create_authorizer(**kwargs)

    with aws_error(409, "ConflictException"):
        apigw.create_authorizer(**kwargs)


# --- Gateway responses ---------------------------------------------------------------------------------


def test_it_lists_every_gateway_response_with_aws_defaults(apigw, api_id):
    listed = apigw.get_gateway_responses(restApiId=api_id)

    assert status_of(listed) == 200
    by_type = {item["responseType"]: item for item in listed["items"]}
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED", "MISSING_AUTHENTICATION_TOKEN"} <= set(by_type)
    assert all(item["defaultResponse"] for item in listed["items"])
    assert by_type["THROTTLED"]["statusCode"] == "429"
    assert by_type["ACCESS_DENIED"]["responseTemplates"] == {
        "application/json": '{"message":$context.error.messageString}'
    }


def test_it_puts_reads_updates_and_deletes_a_gateway_response(apigw, api_id):
    put = apigw.put_gateway_response(
        restApiId=api_id,
        responseType="MISSING_AUTHENTICATION_TOKEN",
        statusCode="404",
        responseParameters={"gatewayresponse.header.X-Why": "'no route'"},
        responseTemplates={"application/json": '{"error": "not found"}'},
    )
    assert status_of(put) == 201
    assert (put["statusCode"], put["defaultResponse"]) == ("404", False)

    fetched = apigw.get_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert status_of(fetched) == 200
    assert fetched["responseParameters"] == {"gatewayresponse.header.X-Why": "'no route'"}

    updated = apigw.update_gateway_response(
        restApiId=api_id,
        responseType="MISSING_AUTHENTICATION_TOKEN",
        patchOperations=[
            {"op": "replace", "path": "/statusCode", "value": "410"},
            {"op": "remove", "path": "/responseParameters/gatewayresponse.header.X-Why"},
        ],
    )
    assert status_of(updated) == 200
    after = apigw.get_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert after["statusCode"] == "410"
    assert "responseParameters" not in after

    deleted = apigw.delete_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert status_of(deleted) == 202
    reset = apigw.get_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert (reset["statusCode"], reset["defaultResponse"]) == ("403", True)


def test_it_updates_a_gateway_response_that_was_never_put(apigw, api_id):
    apigw.update_gateway_response(
        restApiId=api_id,
        responseType="THROTTLED",
        patchOperations=[
            {"op": "add", "path": "/responseParameters/gatewayresponse.header.Retry-After", "value": "'1'"}
        ],
    )

    fetched = apigw.get_gateway_response(restApiId=api_id, responseType="THROTTLED")
    assert fetched["defaultResponse"] is False
    assert fetched["responseParameters"] == {"gatewayresponse.header.Retry-After": "'1'"}


def test_it_rejects_an_unknown_gateway_response_type_and_bad_values(apigw, api_id):
    with aws_error(400, "BadRequestException", "Invalid response type specified: TEAPOT"):
        apigw.get_gateway_response(restApiId=api_id, responseType="TEAPOT")
    with aws_error(400, "BadRequestException", "Invalid status code specified: 99"):
        apigw.put_gateway_response(restApiId=api_id, responseType="THROTTLED", statusCode="99")
    with aws_error(400, "BadRequestException", "Invalid gateway response parameter specified"):
        apigw.put_gateway_response(restApiId=api_id, responseType="THROTTLED", responseParameters={"header.X": "'x'"})
    assert apigw.get_gateway_response(restApiId=api_id, responseType="THROTTLED")["defaultResponse"] is True


def test_it_answers_404_for_components_of_an_unknown_api(apigw):
    message = "Invalid API identifier specified"
    with aws_error(404, "NotFoundException", message):
        apigw.get_models(restApiId="nosuchapi0")
    with aws_error(404, "NotFoundException", message):
        apigw.create_request_validator(restApiId="nosuchapi0", name="v")
    with aws_error(404, "NotFoundException", message):
        apigw.get_authorizers(restApiId="nosuchapi0")
    with aws_error(404, "NotFoundException", message):
        apigw.get_gateway_responses(restApiId="nosuchapi0")
