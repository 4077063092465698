"""Console: the API designer (resources, CORS, methods, integrations, responses, models, validators, test)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from apis import models as m
from apis.services import design, scaffolding
from apis.tests.console_support import form_errors_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(editor) -> m.RestApi:
    return design.rest_api_create(owner=editor, name="Shop")


@pytest.fixture
def root(api: m.RestApi) -> m.Resource:
    return m.Resource.objects.get(rest_api=api, parent=None)


@pytest.fixture
def item(api: m.RestApi, root: m.Resource) -> m.Resource:
    items = design.resource_create(api=api, parent_id=root.id, path_part="items")
    resource = design.resource_create(api=api, parent_id=items.id, path_part="{id}")
    scaffolding.method_create_with_integration(resource=resource, http_method="GET", integration_type="MOCK")
    return resource


def base(api: m.RestApi) -> str:
    return f"/console/apis/{api.id}"


def method_url(api: m.RestApi, resource: m.Resource, verb: str = "GET") -> str:
    return f"{base(api)}/resources/{resource.id}/methods/{verb}"


def test_the_tree_lists_resources_depth_first(editor_console: Client, api: m.RestApi, item: m.Resource) -> None:
    design.resource_create(api=api, parent_id=item.parent_id, path_part="search")
    page = editor_console.get(f"{base(api)}/resources/").content.decode()
    assert page.index("/items</span>") < page.index("/search</span>") < page.index("/{id}</span>")
    assert "--depth: 2" in page


def test_adding_param_and_greedy_resources(editor_console: Client, api: m.RestApi, root: m.Resource) -> None:
    response = editor_console.post(f"{base(api)}/resources/{root.id}/children/", {"path_part": "items"})
    items = m.Resource.objects.get(rest_api=api, path="/items")
    assert response["Location"] == f"{base(api)}/resources/{items.id}/"
    editor_console.post(f"{base(api)}/resources/{items.id}/children/", {"path_part": "{id}"})
    editor_console.post(f"{base(api)}/resources/{root.id}/children/", {"path_part": "{proxy+}"})
    assert set(api.resources.values_list("path", flat=True)) == {"/", "/items", "/items/{id}", "/{proxy+}"}


def test_a_conflicting_resource_is_shown_on_the_field_and_audited(
    editor_console: Client, api: m.RestApi, root: m.Resource, item: m.Resource
) -> None:
    response = editor_console.post(f"{base(api)}/resources/{root.id}/children/", {"path_part": "items"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Another resource with the same parent already has this name: items" in page
    assert 'aria-invalid="true"' in page
    failure = m.AuditEvent.objects.get(operation="CreateResource")
    assert (failure.status, failure.error_type) == (409, "ConflictException")


def test_bad_path_parts_are_rejected_in_place(editor_console: Client, api: m.RestApi, root: m.Resource) -> None:
    response = editor_console.post(f"{base(api)}/resources/{root.id}/children/", {"path_part": "a b"})
    assert "path part only allow" in response.content.decode()


def test_deleting_a_resource_removes_its_subtree(editor_console: Client, api: m.RestApi, item: m.Resource) -> None:
    parent = item.parent
    response = editor_console.post(f"{base(api)}/resources/{parent.id}/delete/")
    assert response["Location"] == f"{base(api)}/resources/{parent.parent_id}/"
    assert set(api.resources.values_list("path", flat=True)) == {"/"}


def test_the_root_cannot_be_deleted(editor_console: Client, api: m.RestApi, root: m.Resource) -> None:
    response = editor_console.post(f"{base(api)}/resources/{root.id}/delete/", follow=True)
    assert "Cannot delete the root resource" in response.content.decode()


def test_enabling_cors_creates_the_options_mock_as_aws_does(
    editor_console: Client, api: m.RestApi, item: m.Resource
) -> None:
    url = f"{base(api)}/resources/{item.id}/cors/"
    assert editor_console.get(url).status_code == 200
    editor_console.post(
        url, {"allow_methods": ["GET"], "allow_headers": "Content-Type,X-Api-Key", "allow_origin": "https://a.example"}
    )
    options = m.Method.objects.get(resource=item, http_method="OPTIONS")
    assert options.authorization_type == "NONE"
    response = options.method_responses.get(status_code="200")
    assert response.response_parameters == {
        "method.response.header.Access-Control-Allow-Headers": False,
        "method.response.header.Access-Control-Allow-Methods": False,
        "method.response.header.Access-Control-Allow-Origin": False,
    }
    assert options.integration.type == "MOCK"
    assert json.loads(options.integration.request_templates["application/json"]) == {"statusCode": 200}
    mapped = options.integration.integration_responses.get(status_code="200").response_parameters
    assert mapped == {
        "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Api-Key'",
        "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
        "method.response.header.Access-Control-Allow-Origin": "'https://a.example'",
    }
    get = m.Method.objects.get(resource=item, http_method="GET")
    origin = "method.response.header.Access-Control-Allow-Origin"
    assert get.integration.integration_responses.get(status_code="200").response_parameters[origin] == (
        "'https://a.example'"
    )


def test_creating_a_method_with_its_integration(editor_console: Client, api: m.RestApi, item: m.Resource) -> None:
    response = editor_console.post(
        f"{base(api)}/resources/{item.id}/methods/",
        {
            "http_method": "PUT",
            "integration_type": "HTTP",
            "integration_http_method": "POST",
            "uri": "http://backend.example/items/{id}",
        },
    )
    assert response["Location"] == method_url(api, item, "PUT") + "/"
    method = m.Method.objects.get(resource=item, http_method="PUT")
    assert method.request_parameters == {"method.request.path.id": True}
    assert method.integration.http_method == "POST"
    assert method.integration.request_parameters == {"integration.request.path.id": "method.request.path.id"}
    assert method.integration.integration_responses.filter(status_code="200").exists()


def test_a_method_with_a_bad_uri_shows_the_service_message(
    editor_console: Client, api: m.RestApi, item: m.Resource
) -> None:
    response = editor_console.post(
        f"{base(api)}/resources/{item.id}/methods/",
        {"http_method": "POST", "integration_type": "HTTP", "integration_http_method": "POST", "uri": "nope"},
    )
    assert response.status_code == 200
    assert "Invalid HTTP endpoint specified for URI" in response.content.decode()
    assert not m.Method.objects.filter(resource=item, http_method="POST").exists()


def test_the_method_request_editor(editor_console: Client, api: m.RestApi, item: m.Resource) -> None:
    validator = m.RequestValidator.objects.create(rest_api=api, name="all", validate_request_parameters=True)
    url = method_url(api, item) + "/"
    assert "method.request.path.id = true" in editor_console.get(url).content.decode()
    editor_console.post(
        url,
        {
            "authorization_type": "AWS_IAM",
            "authorizer_id": "",
            "api_key_required": "on",
            "operation_name": "GetItem",
            "request_validator_id": validator.id,
            "request_parameters": "method.request.path.id = true\nmethod.request.querystring.expand = false",
            "request_models": "application/json = Empty",
        },
    )
    method = m.Method.objects.get(resource=item, http_method="GET")
    assert method.authorization_type == "AWS_IAM"
    assert method.api_key_required is True
    assert method.operation_name == "GetItem"
    assert method.request_validator == validator
    assert method.request_parameters == {"method.request.path.id": True, "method.request.querystring.expand": False}
    assert method.request_models == {"application/json": "Empty"}


def test_method_request_errors_stay_in_place(editor_console: Client, api: m.RestApi, item: m.Resource) -> None:
    data = {"authorization_type": "NONE", "request_parameters": "method.request.path.id = maybe"}
    response = editor_console.post(method_url(api, item) + "/", data)
    assert "expected true or false" in response.content.decode()
    data = {"authorization_type": "NONE", "request_models": "application/json = Nope"}
    response = editor_console.post(method_url(api, item) + "/", data)
    assert "Invalid model identifier specified: Nope" in response.content.decode()


def test_the_integration_editor(editor_console: Client, api: m.RestApi, item: m.Resource) -> None:
    url = method_url(api, item) + "/integration/"
    assert editor_console.get(url).status_code == 200
    editor_console.post(
        url,
        {
            "type": "HTTP",
            "http_method": "GET",
            "uri": "http://${stageVariables.host}/items/{id}",
            "timeout_in_millis": "5000",
            "passthrough_behavior": "NEVER",
            "content_handling": "CONVERT_TO_TEXT",
            "request_parameters": "integration.request.path.id = method.request.path.id\n"
            "integration.request.header.x-source = 'console'",
            "request_templates": '=== application/json ===\n{"id": "$input.params(\'id\')"}\n'
            "=== application/xml ===\n<id/>",
        },
    )
    integration = m.Integration.objects.get(method__resource=item, method__http_method="GET")
    assert integration.type == "HTTP"
    assert integration.uri == "http://${stageVariables.host}/items/{id}"
    assert integration.timeout_in_millis == 5000
    assert integration.passthrough_behavior == "NEVER"
    assert integration.content_handling == "CONVERT_TO_TEXT"
    assert integration.request_parameters["integration.request.header.x-source"] == "'console'"
    assert integration.request_templates == {
        "application/json": '{"id": "$input.params(\'id\')"}',
        "application/xml": "<id/>",
    }


def test_an_integration_timeout_out_of_range_is_a_field_error(
    editor_console: Client, api: m.RestApi, item: m.Resource
) -> None:
    response = editor_console.post(
        method_url(api, item) + "/integration/",
        {"type": "MOCK", "timeout_in_millis": "10", "passthrough_behavior": "WHEN_NO_MATCH"},
    )
    assert form_errors_in(response.content.decode())


def test_method_and_integration_responses(editor_console: Client, api: m.RestApi, item: m.Resource) -> None:
    url = method_url(api, item)
    editor_console.post(
        url + "/responses/",
        {"status_code": "404", "response_parameters": "X-Reason = true", "response_models": "application/json = Error"},
    )
    response = m.MethodResponse.objects.get(method__resource=item, status_code="404")
    assert response.response_parameters == {"method.response.header.X-Reason": True}
    editor_console.post(
        url + "/integration/responses/",
        {
            "status_code": "404",
            "selection_pattern": ".*not found.*",
            "response_parameters": "X-Reason = 'missing'",
            "response_templates": '{"message": "no such item"}',
        },
    )
    mapped = m.IntegrationResponse.objects.get(integration__method__resource=item, status_code="404")
    assert mapped.selection_pattern == ".*not found.*"
    assert mapped.response_parameters == {"method.response.header.X-Reason": "'missing'"}
    assert mapped.response_templates == {"application/json": '{"message": "no such item"}'}

    assert editor_console.get(url + "/integration/responses/404/").status_code == 200
    editor_console.post(
        url + "/integration/responses/404/",
        {"selection_pattern": "", "response_parameters": "", "response_templates": ""},
    )
    mapped.refresh_from_db()
    assert (mapped.selection_pattern, mapped.response_parameters, mapped.response_templates) == (None, {}, {})
    editor_console.post(url + "/responses/404/", {"response_parameters": "", "response_models": ""})
    response.refresh_from_db()
    assert (response.response_parameters, response.response_models) == ({}, {})

    editor_console.post(url + "/integration/responses/404/delete/")
    editor_console.post(url + "/responses/404/delete/")
    assert not m.MethodResponse.objects.filter(method__resource=item, status_code="404").exists()


def test_an_integration_response_needs_a_bad_regex_reported(
    editor_console: Client, api: m.RestApi, item: m.Resource
) -> None:
    response = editor_console.post(
        method_url(api, item) + "/integration/responses/", {"status_code": "200", "selection_pattern": "(["}
    )
    assert "Invalid selection pattern specified" in response.content.decode()


def test_deleting_a_method(editor_console: Client, api: m.RestApi, item: m.Resource) -> None:
    editor_console.post(method_url(api, item) + "/delete/")
    assert not m.Method.objects.filter(resource=item).exists()


def test_models_with_schema_errors_in_place(editor_console: Client, api: m.RestApi) -> None:
    assert editor_console.get(f"{base(api)}/models/").status_code == 200
    assert editor_console.get(f"{base(api)}/new-model/").status_code == 200
    bad = editor_console.post(
        f"{base(api)}/new-model/",
        {"name": "Item", "content_type": "application/json", "schema": '{"type": "objekt"}'},
    )
    page = bad.content.decode()
    assert "Invalid JSON Schema at type" in page
    assert 'id="id_schema_errors"' in page
    broken = editor_console.post(
        f"{base(api)}/new-model/", {"name": "Item", "content_type": "application/json", "schema": "{"}
    )
    assert "Not valid JSON" in broken.content.decode()
    schema = json.dumps({"type": "object", "properties": {"id": {"type": "string"}}})
    editor_console.post(
        f"{base(api)}/new-model/", {"name": "Item", "content_type": "application/json", "schema": schema}
    )
    model = m.Model.objects.get(rest_api=api, name="Item")
    assert json.loads(model.schema)["properties"]["id"]["type"] == "string"
    editor_console.post(f"{base(api)}/models/Item/", {"description": "An item", "schema": '{"type": "array"}'})
    model.refresh_from_db()
    assert (model.description, model.schema) == ("An item", '{"type": "array"}')
    duplicate = editor_console.post(
        f"{base(api)}/new-model/", {"name": "Item", "content_type": "application/json", "schema": schema}
    )
    assert "Model name already exists" in duplicate.content.decode()
    editor_console.post(f"{base(api)}/models/Item/delete/")
    assert not m.Model.objects.filter(rest_api=api, name="Item").exists()


def test_a_model_in_use_cannot_be_deleted(editor_console: Client, api: m.RestApi, item: m.Resource) -> None:
    response = editor_console.post(f"{base(api)}/models/Empty/delete/", follow=True)
    assert "Cannot delete model &#x27;Empty&#x27;" in response.content.decode()


def test_request_validators(editor_console: Client, api: m.RestApi) -> None:
    editor_console.post(f"{base(api)}/validators/", {"name": "body", "validate_request_body": "on"})
    validator = m.RequestValidator.objects.get(rest_api=api)
    assert (validator.validate_request_body, validator.validate_request_parameters) == (True, False)
    duplicate = editor_console.post(f"{base(api)}/validators/", {"name": "body"})
    assert "Validator with this name already exists" in duplicate.content.decode()
    editor_console.post(f"{base(api)}/validators/{validator.id}/delete/")
    assert not m.RequestValidator.objects.filter(rest_api=api).exists()


def test_testing_a_mock_method_shows_status_headers_body_and_log(
    editor_console: Client, api: m.RestApi, item: m.Resource
) -> None:
    mapped = m.IntegrationResponse.objects.get(integration__method__resource=item, status_code="200")
    mapped.response_templates = {"application/json": '{"id": "fixed"}'}
    mapped.save()
    url = method_url(api, item) + "/test/"
    page = editor_console.get(url).content.decode()
    assert 'name="path_id"' in page
    response = editor_console.post(
        url, {"path_id": "42", "query_string": "a=1", "headers": "Accept: application/json", "body": ""}
    )
    page = response.content.decode()
    assert 'data-testid="test-status">200<' in page
    assert "{&quot;id&quot;: &quot;fixed&quot;}" in page
    assert "x-amzn-requestid" in page
    assert "Method completed with status: 200" in page
    assert "<html" in page


def test_htmx_test_requests_get_only_the_panel(editor_console: Client, api: m.RestApi, item: m.Resource) -> None:
    url = method_url(api, item) + "/test/"
    response = editor_console.post(url, {"path_id": "1"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="test-panel"')
    assert "Method completed with status: 200" in page
    missing = editor_console.post(url, {}, HTTP_HX_REQUEST="true").content.decode()
    assert "This field is required." in missing
