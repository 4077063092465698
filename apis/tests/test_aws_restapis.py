"""boto3 against the live management API: REST APIs, resources, methods, integrations and their responses."""

from __future__ import annotations

import json

import pytest

from apis.tests.aws_calls import (
    MOCK_TEMPLATE,
    add_mock_method,
    all_pages,
    aws_error,
    build_pets_api,
    raw_call,
    status_of,
)


def where(pets, http_method: str = "GET") -> dict:
    return {"restApiId": pets.api_id, "resourceId": pets.pets_id, "httpMethod": http_method}


# --- REST APIs -----------------------------------------------------------------------------------------


def test_it_creates_reads_updates_and_deletes_a_rest_api(apigw):
    created = apigw.create_rest_api(name="PetStore", description="pets", version="1", binaryMediaTypes=["image/png"])
    assert status_of(created) == 201
    assert len(created["id"]) == 10 and created["id"].isalnum() and created["id"].islower()
    assert created["name"] == "PetStore"
    assert created["rootResourceId"]
    assert created["apiKeySource"] == "HEADER"
    assert created["endpointConfiguration"] == {"types": ["EDGE"]}

    fetched = apigw.get_rest_api(restApiId=created["id"])
    assert status_of(fetched) == 200
    assert (fetched["name"], fetched["description"], fetched["binaryMediaTypes"]) == ("PetStore", "pets", ["image/png"])

    updated = apigw.update_rest_api(
        restApiId=created["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "Zoo"},
            {"op": "replace", "path": "/description", "value": "animals"},
            {"op": "replace", "path": "/apiKeySource", "value": "AUTHORIZER"},
            {"op": "replace", "path": "/minimumCompressionSize", "value": "1024"},
            {"op": "add", "path": "/binaryMediaTypes/image~1jpeg"},
            {"op": "remove", "path": "/binaryMediaTypes/image~1png"},
        ],
    )
    assert status_of(updated) == 200
    after = apigw.get_rest_api(restApiId=created["id"])
    assert after["name"] == "Zoo"
    assert after["description"] == "animals"
    assert after["apiKeySource"] == "AUTHORIZER"
    assert after["minimumCompressionSize"] == 1024
    assert after["binaryMediaTypes"] == ["image/jpeg"]

    deleted = apigw.delete_rest_api(restApiId=created["id"])
    assert status_of(deleted) == 202
    with aws_error(404, "NotFoundException", "Invalid API identifier specified"):
        apigw.get_rest_api(restApiId=created["id"])


def test_it_pages_rest_apis_one_at_a_time(apigw):
    ids = {apigw.create_rest_api(name=f"api-{n}")["id"] for n in range(3)}

    items, pages = all_pages(apigw.get_rest_apis)

    assert sorted(item["id"] for item in items) == sorted(ids)
    assert pages == 3


def test_it_answers_404_for_an_unknown_api_on_every_kind_of_call(apigw):
    message = "Invalid API identifier specified"
    with aws_error(404, "NotFoundException", message):
        apigw.get_rest_api(restApiId="nosuchapi0")
    with aws_error(404, "NotFoundException", message):
        apigw.update_rest_api(
            restApiId="nosuchapi0", patchOperations=[{"op": "replace", "path": "/name", "value": "x"}]
        )
    with aws_error(404, "NotFoundException", message):
        apigw.delete_rest_api(restApiId="nosuchapi0")
    with aws_error(404, "NotFoundException", message):
        apigw.get_resources(restApiId="nosuchapi0")
    with aws_error(404, "NotFoundException", message):
        apigw.create_deployment(restApiId="nosuchapi0", stageName="prod")


def test_it_rejects_an_empty_name_and_an_unknown_patch_path(apigw):
    api = apigw.create_rest_api(name="keep")
    with aws_error(400, "BadRequestException", "Invalid REST API name specified"):
        apigw.update_rest_api(restApiId=api["id"], patchOperations=[{"op": "replace", "path": "/name", "value": " "}])
    with aws_error(400, "BadRequestException", "Invalid patch path"):
        apigw.update_rest_api(restApiId=api["id"], patchOperations=[{"op": "replace", "path": "/colour", "value": "x"}])
    assert apigw.get_rest_api(restApiId=api["id"])["name"] == "keep"


def test_a_patch_with_one_bad_operation_changes_nothing(apigw):
    api = apigw.create_rest_api(name="before", description="old")

    with aws_error(400, "BadRequestException"):
        apigw.update_rest_api(
            restApiId=api["id"],
            patchOperations=[
                {"op": "replace", "path": "/name", "value": "after"},
                {"op": "replace", "path": "/description", "value": "new"},
                {"op": "replace", "path": "/apiKeySource", "value": "NOWHERE"},
            ],
        )

    fetched = apigw.get_rest_api(restApiId=api["id"])
    assert (fetched["name"], fetched["description"]) == ("before", "old")


# --- Resources -----------------------------------------------------------------------------------------


def test_it_creates_pages_and_reads_resources(apigw):
    api = apigw.create_rest_api(name="tree")
    pets = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="pets")
    assert status_of(pets) == 201
    pet = apigw.create_resource(restApiId=api["id"], parentId=pets["id"], pathPart="{petId}")
    assert (pets["path"], pet["path"], pet["parentId"]) == ("/pets", "/pets/{petId}", pets["id"])

    items, pages = all_pages(apigw.get_resources, restApiId=api["id"])

    assert sorted(item["path"] for item in items) == ["/", "/pets", "/pets/{petId}"]
    assert len({item["id"] for item in items}) == 3
    assert pages == 3
    one = apigw.get_resource(restApiId=api["id"], resourceId=pet["id"])
    assert status_of(one) == 200
    assert (one["pathPart"], one["path"]) == ("{petId}", "/pets/{petId}")


def test_it_embeds_methods_only_when_asked(apigw):
    pets = build_pets_api(apigw)

    plain = {r["path"]: r for r in apigw.get_resources(restApiId=pets.api_id)["items"]}
    embedded = {r["path"]: r for r in apigw.get_resources(restApiId=pets.api_id, embed=["methods"])["items"]}
    one = apigw.get_resource(restApiId=pets.api_id, resourceId=pets.pets_id, embed=["methods"])

    assert plain["/pets"]["resourceMethods"] == {"GET": {}}
    method = embedded["/pets"]["resourceMethods"]["GET"]
    assert method["httpMethod"] == "GET"
    assert method["authorizationType"] == "NONE"
    assert method["methodResponses"]["200"]["statusCode"] == "200"
    assert method["methodIntegration"]["type"] == "MOCK"
    assert method["methodIntegration"]["integrationResponses"]["200"]["statusCode"] == "200"
    assert one["resourceMethods"]["GET"]["methodIntegration"]["requestTemplates"] == MOCK_TEMPLATE


def test_it_renames_a_resource_and_its_children_follow(apigw):
    api = apigw.create_rest_api(name="tree")
    pets = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="pets")
    pet = apigw.create_resource(restApiId=api["id"], parentId=pets["id"], pathPart="{petId}")

    updated = apigw.update_resource(
        restApiId=api["id"],
        resourceId=pets["id"],
        patchOperations=[{"op": "replace", "path": "/pathPart", "value": "animals"}],
    )

    assert status_of(updated) == 200
    assert updated["path"] == "/animals"
    assert apigw.get_resource(restApiId=api["id"], resourceId=pet["id"])["path"] == "/animals/{petId}"


def test_it_deletes_a_resource_with_its_children(apigw):
    api = apigw.create_rest_api(name="tree")
    pets = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="pets")
    pet = apigw.create_resource(restApiId=api["id"], parentId=pets["id"], pathPart="{petId}")

    assert status_of(apigw.delete_resource(restApiId=api["id"], resourceId=pets["id"])) == 202

    for resource_id in (pets["id"], pet["id"]):
        with aws_error(404, "NotFoundException", "Invalid Resource identifier specified"):
            apigw.get_resource(restApiId=api["id"], resourceId=resource_id)
    assert [r["path"] for r in apigw.get_resources(restApiId=api["id"])["items"]] == ["/"]


def test_it_answers_404_for_an_unknown_resource(apigw):
    api = apigw.create_rest_api(name="tree")
    message = "Invalid Resource identifier specified"
    with aws_error(404, "NotFoundException", message):
        apigw.get_resource(restApiId=api["id"], resourceId="nosuch")
    with aws_error(404, "NotFoundException", message):
        apigw.create_resource(restApiId=api["id"], parentId="nosuch", pathPart="pets")
    with aws_error(404, "NotFoundException", message):
        apigw.put_method(restApiId=api["id"], resourceId="nosuch", httpMethod="GET", authorizationType="NONE")


def test_it_allows_only_one_variable_sibling(apigw):
    api = apigw.create_rest_api(name="tree")
    root = api["rootResourceId"]
    apigw.create_resource(restApiId=api["id"], parentId=root, pathPart="{proxy+}")
    apigw.create_resource(restApiId=api["id"], parentId=root, pathPart="static")

    with aws_error(
        400,
        "BadRequestException",
        "A sibling ({proxy+}) of this resource already has a variable path part -- only one is allowed",
    ):
        apigw.create_resource(restApiId=api["id"], parentId=root, pathPart="{id}")

    assert sorted(r["path"] for r in apigw.get_resources(restApiId=api["id"])["items"]) == ["/", "/static", "/{proxy+}"]


def test_it_refuses_a_child_of_a_greedy_resource(apigw):
    api = apigw.create_rest_api(name="tree")
    proxy = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{proxy+}")

    with aws_error(400, "BadRequestException", "greedy"):
        apigw.create_resource(restApiId=api["id"], parentId=proxy["id"], pathPart="child")


def test_it_answers_409_for_a_duplicate_sibling(apigw):
    api = apigw.create_rest_api(name="tree")
    apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="pets")

    with aws_error(409, "ConflictException", "Another resource with the same parent already has this name: pets"):
        apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="pets")


@pytest.mark.parametrize("path_part", ["pe ts", "{unclosed", "a/b", "{}", ""])
def test_it_rejects_an_invalid_path_part(apigw, path_part):
    api = apigw.create_rest_api(name="tree")

    with aws_error(400, "BadRequestException"):
        apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart=path_part)


# --- Methods and method responses ----------------------------------------------------------------------


def test_it_puts_reads_patches_and_deletes_a_method(apigw):
    pets = build_pets_api(apigw)
    validator = apigw.create_request_validator(restApiId=pets.api_id, name="params", validateRequestParameters=True)

    put = apigw.put_method(
        **where(pets, "POST"),
        authorizationType="NONE",
        apiKeyRequired=False,
        requestParameters={"method.request.header.X-Trace": False},
        requestModels={"application/json": "Empty"},
    )
    assert status_of(put) == 201
    assert put["httpMethod"] == "POST"

    patched = apigw.update_method(
        **where(pets, "POST"),
        patchOperations=[
            {"op": "replace", "path": "/apiKeyRequired", "value": "true"},
            {"op": "replace", "path": "/operationName", "value": "AddPet"},
            {"op": "replace", "path": "/requestValidatorId", "value": validator["id"]},
            {"op": "add", "path": "/requestParameters/method.request.querystring.dry", "value": "true"},
            {"op": "remove", "path": "/requestParameters/method.request.header.X-Trace"},
        ],
    )
    assert status_of(patched) == 200

    fetched = apigw.get_method(**where(pets, "POST"))
    assert status_of(fetched) == 200
    assert fetched["apiKeyRequired"] is True
    assert fetched["operationName"] == "AddPet"
    assert fetched["requestValidatorId"] == validator["id"]
    assert fetched["requestParameters"] == {"method.request.querystring.dry": True}
    assert fetched["requestModels"] == {"application/json": "Empty"}

    assert status_of(apigw.delete_method(**where(pets, "POST"))) == 204
    with aws_error(404, "NotFoundException", "Invalid Method identifier specified"):
        apigw.get_method(**where(pets, "POST"))


def test_it_answers_409_when_the_method_exists(apigw):
    pets = build_pets_api(apigw)

    with aws_error(409, "ConflictException", "Method already exists for this resource"):
        apigw.put_method(**where(pets), authorizationType="NONE")


def test_it_rejects_an_unknown_method_patch_path_and_keeps_the_method(apigw):
    pets = build_pets_api(apigw)

    with aws_error(400, "BadRequestException", "Invalid patch path"):
        apigw.update_method(
            **where(pets),
            patchOperations=[
                {"op": "replace", "path": "/operationName", "value": "Renamed"},
                {"op": "replace", "path": "/colour", "value": "blue"},
            ],
        )
    assert "operationName" not in apigw.get_method(**where(pets))


def test_it_rejects_a_custom_authorization_without_an_authorizer(apigw):
    pets = build_pets_api(apigw)

    with aws_error(400, "BadRequestException", "Invalid authorizer ID specified"):
        apigw.put_method(**where(pets, "PUT"), authorizationType="CUSTOM")
    with aws_error(404, "NotFoundException"):
        apigw.get_method(**where(pets, "PUT"))


def test_it_puts_reads_patches_and_deletes_a_method_response(apigw):
    pets = build_pets_api(apigw)

    put = apigw.put_method_response(
        **where(pets),
        statusCode="404",
        responseParameters={"method.response.header.X-Reason": False},
        responseModels={"application/json": "Error"},
    )
    assert status_of(put) == 201
    assert put["responseModels"] == {"application/json": "Error"}

    patched = apigw.update_method_response(
        **where(pets),
        statusCode="404",
        patchOperations=[
            {"op": "add", "path": "/responseParameters/method.response.header.X-Retry", "value": "true"},
            {"op": "remove", "path": "/responseModels/application~1json"},
        ],
    )
    assert status_of(patched) == 201

    fetched = apigw.get_method_response(**where(pets), statusCode="404")
    assert status_of(fetched) == 200
    assert fetched["responseParameters"] == {
        "method.response.header.X-Reason": False,
        "method.response.header.X-Retry": True,
    }
    assert "responseModels" not in fetched

    assert status_of(apigw.delete_method_response(**where(pets), statusCode="404")) == 204
    with aws_error(404, "NotFoundException", "Invalid Response status code specified"):
        apigw.get_method_response(**where(pets), statusCode="404")


def test_it_rejects_a_method_response_with_an_unknown_model(apigw):
    pets = build_pets_api(apigw)

    with aws_error(400, "BadRequestException", "Invalid model identifier specified: Nope"):
        apigw.put_method_response(**where(pets), statusCode="500", responseModels={"application/json": "Nope"})


# --- Integrations and integration responses ------------------------------------------------------------


def test_it_puts_reads_patches_and_deletes_an_integration(apigw):
    pets = build_pets_api(apigw)
    apigw.put_method(**where(pets, "POST"), authorizationType="NONE")

    put = apigw.put_integration(
        **where(pets, "POST"),
        type="HTTP",
        integrationHttpMethod="POST",
        uri="https://backend.example.com/pets",
        requestParameters={"integration.request.header.X-Source": "'portico'"},
        timeoutInMillis=5000,
    )
    assert status_of(put) == 201
    assert (put["type"], put["httpMethod"], put["uri"]) == ("HTTP", "POST", "https://backend.example.com/pets")

    patched = apigw.update_integration(
        **where(pets, "POST"),
        patchOperations=[
            {"op": "replace", "path": "/uri", "value": "https://backend.example.com/v2/pets"},
            {"op": "replace", "path": "/timeoutInMillis", "value": "1500"},
            {"op": "add", "path": "/requestTemplates/application~1json", "value": '{"kind": "pet"}'},
            {"op": "remove", "path": "/requestParameters/integration.request.header.X-Source"},
        ],
    )
    assert status_of(patched) == 200

    fetched = apigw.get_integration(**where(pets, "POST"))
    assert status_of(fetched) == 200
    assert fetched["uri"] == "https://backend.example.com/v2/pets"
    assert fetched["timeoutInMillis"] == 1500
    assert fetched["requestTemplates"] == {"application/json": '{"kind": "pet"}'}
    assert "requestParameters" not in fetched

    assert status_of(apigw.delete_integration(**where(pets, "POST"))) == 204
    with aws_error(404, "NotFoundException"):
        apigw.get_integration(**where(pets, "POST"))


def test_it_rejects_an_integration_patch_that_breaks_the_integration(apigw):
    pets = build_pets_api(apigw)

    with aws_error(400, "BadRequestException", "Timeout should be between 50 ms and 29000 ms"):
        apigw.update_integration(
            **where(pets),
            patchOperations=[
                {"op": "add", "path": "/requestTemplates/text~1plain", "value": "x"},
                {"op": "replace", "path": "/timeoutInMillis", "value": "30000"},
            ],
        )

    fetched = apigw.get_integration(**where(pets))
    assert fetched["timeoutInMillis"] == 29000
    assert fetched["requestTemplates"] == MOCK_TEMPLATE


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "HTTP", "integrationHttpMethod": "GET", "uri": "ftp://x"}, "Invalid HTTP endpoint specified for URI"),
        ({"type": "HTTP", "uri": "https://x.example"}, "Enumeration value for HttpMethod must be non-empty"),
        ({"type": "TELEPATHY"}, "Invalid integration type specified: TELEPATHY"),
        ({"type": "MOCK", "timeoutInMillis": 10}, "Timeout should be between 50 ms and 29000 ms"),
    ],
)
def test_it_rejects_an_invalid_integration(apigw, kwargs, message):
    pets = build_pets_api(apigw)
    apigw.put_method(**where(pets, "DELETE"), authorizationType="NONE")

    with aws_error(400, "BadRequestException", message):
        apigw.put_integration(**where(pets, "DELETE"), **kwargs)


def test_it_puts_reads_patches_and_deletes_an_integration_response(apigw):
    pets = build_pets_api(apigw)
    apigw.put_method_response(**where(pets), statusCode="404")

    put = apigw.put_integration_response(
        **where(pets),
        statusCode="404",
        selectionPattern="4\\d{2}",
        responseParameters={"method.response.header.X-Why": "'missing'"},
    )
    assert status_of(put) == 201
    assert put["selectionPattern"] == "4\\d{2}"

    patched = apigw.update_integration_response(
        **where(pets),
        statusCode="404",
        patchOperations=[
            {"op": "replace", "path": "/selectionPattern", "value": "404"},
            {"op": "add", "path": "/responseTemplates/application~1json", "value": '{"gone": true}'},
        ],
    )
    assert status_of(patched) == 200

    fetched = apigw.get_integration_response(**where(pets), statusCode="404")
    assert status_of(fetched) == 200
    assert fetched["selectionPattern"] == "404"
    assert fetched["responseTemplates"] == {"application/json": '{"gone": true}'}
    assert fetched["responseParameters"] == {"method.response.header.X-Why": "'missing'"}
    integration = apigw.get_integration(**where(pets))
    assert sorted(integration["integrationResponses"]) == ["200", "404"]

    assert status_of(apigw.delete_integration_response(**where(pets), statusCode="404")) == 204
    with aws_error(404, "NotFoundException", "Invalid Response status code specified"):
        apigw.get_integration_response(**where(pets), statusCode="404")


def test_it_needs_a_method_response_before_an_integration_response(apigw):
    pets = build_pets_api(apigw)

    with aws_error(400, "BadRequestException", "Invalid Method Response status code specified"):
        apigw.put_integration_response(**where(pets), statusCode="500")


def test_it_rejects_an_invalid_selection_pattern(apigw):
    pets = build_pets_api(apigw)
    apigw.put_method_response(**where(pets), statusCode="500")

    with aws_error(400, "BadRequestException", "Invalid selection pattern specified"):
        apigw.put_integration_response(**where(pets), statusCode="500", selectionPattern="(unclosed")


def test_it_invokes_a_method_before_it_is_deployed(apigw):
    pets = build_pets_api(apigw)

    answer = apigw.test_invoke_method(**where(pets), pathWithQueryString="/pets")

    assert status_of(answer) == 200
    assert answer["status"] == 200
    assert json.loads(answer["body"]) == {"ok": True}
    with aws_error(404, "NotFoundException", "Invalid Method identifier specified"):
        apigw.test_invoke_method(**where(pets, "PATCH"), pathWithQueryString="/pets")


# --- Cloning -------------------------------------------------------------------------------------------


def test_it_clones_an_api_from_another(apigw):
    source = build_pets_api(apigw, name="original")
    pet = apigw.create_resource(restApiId=source.api_id, parentId=source.pets_id, pathPart="{petId}")
    add_mock_method(apigw, source.api_id, pet["id"], "DELETE")
    apigw.create_model(restApiId=source.api_id, name="Pet", contentType="application/json", schema='{"type": "object"}')
    apigw.create_request_validator(restApiId=source.api_id, name="all", validateRequestBody=True)
    apigw.put_gateway_response(restApiId=source.api_id, responseType="THROTTLED", statusCode="429")

    clone = apigw.create_rest_api(name="copy", cloneFrom=source.api_id)

    assert status_of(clone) == 201
    assert clone["id"] != source.api_id and clone["name"] == "copy"
    resources = {r["path"]: r for r in apigw.get_resources(restApiId=clone["id"], embed=["methods"])["items"]}
    assert sorted(resources) == ["/", "/pets", "/pets/{petId}"]
    assert resources["/pets"]["id"] != source.pets_id
    assert resources["/pets/{petId}"]["parentId"] == resources["/pets"]["id"]
    assert resources["/pets"]["resourceMethods"]["GET"]["methodIntegration"]["type"] == "MOCK"
    assert sorted(resources["/pets/{petId}"]["resourceMethods"]) == ["DELETE"]
    assert sorted(m["name"] for m in apigw.get_models(restApiId=clone["id"])["items"]) == ["Empty", "Error", "Pet"]
    assert [v["name"] for v in apigw.get_request_validators(restApiId=clone["id"])["items"]] == ["all"]
    assert apigw.get_gateway_response(restApiId=clone["id"], responseType="THROTTLED")["statusCode"] == "429"

    apigw.delete_resource(restApiId=clone["id"], resourceId=resources["/pets"]["id"])
    source_paths = sorted(r["path"] for r in apigw.get_resources(restApiId=source.api_id)["items"])
    assert source_paths == ["/", "/pets", "/pets/{petId}"]


def test_it_answers_404_when_cloning_an_unknown_api(apigw):
    with aws_error(404, "NotFoundException", "Invalid API identifier specified"):
        apigw.create_rest_api(name="copy", cloneFrom="nosuchapi0")
    assert apigw.get_rest_apis()["items"] == []


# --- Requests boto3 will not send ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"name": "x"', "Invalid JSON in request body"),
        (b'["name", "x"]', "Request body must be a JSON object"),
        (b"\xff\xfe{", "Invalid JSON in request body"),
        (b'{"name": 42}', "Invalid value for name"),
        (b'{"name": "x", "tags": ["a"]}', "Invalid value for tags"),
    ],
)
def test_it_answers_400_for_a_malformed_body(live_web, credentials, apigw, body, message):
    response = raw_call(live_web.url, "POST", "/restapis", credentials=credentials, body=body)

    assert response.status == 400
    assert response.error_type == "BadRequestException"
    assert message in response.json["message"]
    assert response.headers.get("x-amzn-requestid")
    assert apigw.get_rest_apis()["items"] == []


@pytest.mark.parametrize(
    "patch",
    [
        b'{"patchOperations": {"op": "replace"}}',
        b'{"patchOperations": ["replace"]}',
        b'{"patchOperations": [{"op": "rename", "path": "/name", "value": "x"}]}',
        b'{"patchOperations": [{"op": "replace", "path": "name", "value": "x"}]}',
    ],
)
def test_it_answers_400_for_malformed_patch_operations(live_web, credentials, apigw, patch):
    api = apigw.create_rest_api(name="keep")

    response = raw_call(live_web.url, "PATCH", f"/restapis/{api['id']}", credentials=credentials, body=patch)

    assert response.status == 400
    assert response.error_type == "BadRequestException"
    assert apigw.get_rest_api(restApiId=api["id"])["name"] == "keep"


@pytest.mark.parametrize("position", ["!!!", "bm90LWEtbnVtYmVy", "LTE="])
def test_it_answers_400_for_a_bad_position_token(apigw, position):
    with aws_error(400, "BadRequestException", "Invalid position token"):
        apigw.get_rest_apis(position=position)


def test_it_answers_400_for_a_limit_out_of_range(apigw):
    with aws_error(400, "BadRequestException", "Invalid limit"):
        apigw.get_rest_apis(limit=0)
    with aws_error(400, "BadRequestException", "Invalid limit"):
        apigw.get_rest_apis(limit=501)
