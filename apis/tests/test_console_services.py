"""The services the console added: CORS, scaffolding (example API, method with integration), test invoke."""

from __future__ import annotations

import pytest

from apis import models as m
from apis.errors import BadRequest, NotFound
from apis.services import cors, design, invoking, scaffolding

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> m.RestApi:
    return design.rest_api_create(owner=None, name="Shop")


def _root(api: m.RestApi) -> m.Resource:
    return m.Resource.objects.get(rest_api=api, parent=None)


def test_the_example_api_answers_its_test_invokes() -> None:
    api = scaffolding.rest_api_create_example(owner=None, name="Pets")
    pet = m.Resource.objects.get(rest_api=api, path="/pets/{petId}")
    result = invoking.method_test_invoke(api=api, resource=pet, http_method="GET", path_with_query="/pets/1")
    assert result["status"] == 200
    assert '"type": "dog"' in result["body"]
    created = invoking.method_test_invoke(
        api=api, resource=pet.parent, http_method="POST", body='{"type": "cat", "price": 1}'
    )
    assert created["status"] == 201


def test_a_method_with_a_mock_integration_answers_200(api: m.RestApi) -> None:
    item = design.resource_create(api=api, parent_id=_root(api).id, path_part="{id}")
    method = scaffolding.method_create_with_integration(resource=item, http_method="GET", integration_type="MOCK")
    assert method.request_parameters == {"method.request.path.id": True}
    result = invoking.method_test_invoke(api=api, resource=item, http_method="GET", path_with_query="/7")
    assert result["status"] == 200
    assert "Method completed with status: 200" in result["log"]


def test_a_proxy_method_gets_no_integration_response(api: m.RestApi) -> None:
    proxy = design.resource_create(api=api, parent_id=_root(api).id, path_part="{proxy+}")
    method = scaffolding.method_create_with_integration(
        resource=proxy, http_method="ANY", integration_type="HTTP_PROXY", uri="http://backend.example/{proxy}"
    )
    assert method.integration.http_method == "ANY"
    assert method.integration.request_parameters == {"integration.request.path.proxy": "method.request.path.proxy"}
    assert not method.integration.integration_responses.exists()


def test_test_invoke_of_a_missing_method_is_not_found(api: m.RestApi) -> None:
    with pytest.raises(NotFound):
        invoking.method_test_invoke(api=api, resource=_root(api), http_method="DELETE")


def test_cors_preflight_answers_with_the_headers(api: m.RestApi) -> None:
    items = design.resource_create(api=api, parent_id=_root(api).id, path_part="items")
    scaffolding.method_create_with_integration(resource=items, http_method="POST", integration_type="MOCK")
    cors.resource_cors_enable(resource=items, allow_methods=["POST"])
    result = invoking.method_test_invoke(api=api, resource=items, http_method="OPTIONS")
    assert result["status"] == 200
    headers = {k.lower(): v for k, v in result["headers"].items()}
    assert headers["access-control-allow-methods"] == "OPTIONS,POST"
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-headers"] == cors.DEFAULT_ALLOW_HEADERS
    post = invoking.method_test_invoke(api=api, resource=items, http_method="POST")
    assert {k.lower(): v for k, v in post["headers"].items()}["access-control-allow-origin"] == "*"


def test_enabling_cors_twice_replaces_the_options_method(api: m.RestApi) -> None:
    root = _root(api)
    cors.resource_cors_enable(resource=root, allow_methods=["GET"])
    cors.resource_cors_enable(resource=root, allow_methods=["PUT"], allow_origin="https://x.example")
    options = m.Method.objects.get(resource=root, http_method="OPTIONS")
    mapped = options.integration.integration_responses.get().response_parameters
    assert mapped["method.response.header.Access-Control-Allow-Methods"] == "'OPTIONS,PUT'"


def test_cors_values_may_not_hold_quotes(api: m.RestApi) -> None:
    with pytest.raises(BadRequest):
        cors.resource_cors_enable(resource=_root(api), allow_methods=[], allow_origin="it's")
