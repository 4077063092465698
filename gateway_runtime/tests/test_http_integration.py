"""HTTP (non-proxy): parameter mappings, passthrough behaviours, selection patterns and response mapping."""

from __future__ import annotations

from typing import Any

from gateway_runtime.tests import snapshots
from gateway_runtime.tests.conftest import Gateway, StartGateway
from gateway_runtime.tests.servers import Backend
from gateway_runtime.tests.snapshots import http

TEMPLATES = {"application/json": '{"wrapped": $input.body, "stage": "$stageVariables.color"}'}


def _gateway(
    start_gateway: StartGateway, integration: dict[str, Any], path: str = "/thing", verb: str = "POST"
) -> Gateway:
    return start_gateway([snapshots.stage({(path, verb): integration}, variables={"color": "green"})])


def test_it_sends_only_mapped_parameters_to_the_backend(start_gateway: StartGateway, backend: Backend) -> None:
    integration = http(
        f"{backend.url}/users/{{user}}",
        http_method="GET",
        requestParameters={
            "integration.request.path.user": "method.request.path.id",
            "integration.request.querystring.kind": "method.request.querystring.type",
            "integration.request.querystring.color": "stageVariables.color",
            "integration.request.header.X-Token": "method.request.header.Authorization",
            "integration.request.header.X-Fixed": "'literal value'",
        },
    )
    gateway = _gateway(start_gateway, integration, path="/u/{id}", verb="GET")

    reply = gateway.request("GET", "/prod/u/7?type=admin&unmapped=1", headers={"Authorization": "t0k", "X-Other": "no"})

    echoed = reply.json()
    headers = reply.echoed_headers()
    assert reply.status == 200
    assert echoed["path"] == "/users/7"
    assert sorted(echoed["query"]) == [["color", "green"], ["kind", "admin"]]
    assert headers["x-token"] == ["t0k"]
    assert headers["x-fixed"] == ["literal value"]
    assert "x-other" not in headers
    assert "authorization" not in headers


def test_when_no_match_it_passes_an_unmatched_body_and_renders_a_matched_one(
    start_gateway: StartGateway, backend: Backend
) -> None:
    gateway = _gateway(start_gateway, http(f"{backend.url}/echo", requestTemplates=TEMPLATES))

    passed = gateway.request("POST", "/prod/thing", body=b"plain words", headers={"Content-Type": "text/plain"})
    rendered = gateway.request("POST", "/prod/thing", body=b'{"a": 1}', headers={"Content-Type": "application/json"})

    assert passed.json()["body"] == "plain words"
    assert passed.echoed_headers()["content-type"] == ["text/plain"]
    assert rendered.json()["body"] == '{"wrapped": {"a": 1}, "stage": "green"}'


def test_it_treats_a_request_without_content_type_as_json(start_gateway: StartGateway, backend: Backend) -> None:
    gateway = _gateway(
        start_gateway, http(f"{backend.url}/echo", requestTemplates=TEMPLATES, passthroughBehavior="NEVER")
    )

    reply = gateway.request("POST", "/prod/thing", body=b"[1]")

    assert reply.status == 200
    assert reply.json()["body"] == '{"wrapped": [1], "stage": "green"}'


def test_when_no_templates_it_passes_bodies_only_while_no_template_exists(
    start_gateway: StartGateway, backend: Backend
) -> None:
    without_templates = http(f"{backend.url}/echo", passthroughBehavior="WHEN_NO_TEMPLATES")
    with_templates = http(f"{backend.url}/echo", passthroughBehavior="WHEN_NO_TEMPLATES", requestTemplates=TEMPLATES)
    gateway = start_gateway(
        [snapshots.stage({("/bare", "POST"): without_templates, ("/templated", "POST"): with_templates})]
    )

    passed = gateway.request("POST", "/prod/bare", body=b"<x/>", headers={"Content-Type": "application/xml"})
    refused = gateway.request("POST", "/prod/templated", body=b"<x/>", headers={"Content-Type": "application/xml"})

    assert passed.status == 200
    assert passed.json()["body"] == "<x/>"
    assert refused.status == 415
    assert refused.json() == {"message": "Unsupported Media Type"}


def test_never_refuses_a_content_type_without_a_template(start_gateway: StartGateway, backend: Backend) -> None:
    gateway = _gateway(
        start_gateway, http(f"{backend.url}/echo", passthroughBehavior="NEVER", requestTemplates=TEMPLATES)
    )

    refused = gateway.request(
        "POST", "/prod/thing", body=b"a=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    accepted = gateway.request(
        "POST", "/prod/thing", body=b"2", headers={"Content-Type": "application/json; charset=utf-8"}
    )

    assert refused.status == 415
    assert refused.json() == {"message": "Unsupported Media Type"}
    assert refused.header("content-type") == "application/json"
    assert accepted.status == 200
    assert accepted.json()["body"] == '{"wrapped": 2, "stage": "green"}'


SELECTION = {
    "200": {"statusCode": "200", "selectionPattern": None},
    "400": {"statusCode": "400", "selectionPattern": r"4\d{2}"},
    "502": {"statusCode": "502", "selectionPattern": r"5\d{2}"},
}


def test_it_selects_the_integration_response_by_a_full_match_on_the_status(
    start_gateway: StartGateway, backend: Backend
) -> None:
    routes = {
        (f"/s{code}", "GET"): http(f"{backend.url}/status/{code}", http_method="GET", responses=SELECTION)
        for code in (201, 404, 503)
    }
    gateway = start_gateway([snapshots.stage(routes)])

    assert gateway.request("GET", "/prod/s201").status == 200
    assert gateway.request("GET", "/prod/s404").status == 400
    assert gateway.request("GET", "/prod/s503").status == 502


def test_it_answers_internal_server_error_when_no_response_matches_and_none_is_default(
    start_gateway: StartGateway, backend: Backend
) -> None:
    responses = {"200": {"statusCode": "200", "selectionPattern": "2\\d{2}"}}
    gateway = _gateway(start_gateway, http(f"{backend.url}/status/404", http_method="GET", responses=responses))

    reply = gateway.request("POST", "/prod/thing")

    assert reply.status == 500
    assert reply.json() == {"message": "Internal server error"}


def test_it_maps_response_headers_from_backend_headers_body_and_literals(
    start_gateway: StartGateway, backend: Backend
) -> None:
    responses = {
        "200": {
            "statusCode": "201",
            "responseParameters": {
                "method.response.header.X-Id": "integration.response.header.X-Upstream-Id",
                "method.response.header.X-Code": "integration.response.body.code",
                "method.response.header.X-Static": "'fixed'",
            },
        }
    }
    gateway = _gateway(start_gateway, http(f"{backend.url}/status/200", http_method="GET", responses=responses))

    reply = gateway.request("POST", "/prod/thing")

    assert reply.status == 201
    assert reply.header("x-id") == "id-200"
    assert reply.header("x-code") == "200"
    assert reply.header("x-static") == "fixed"
    # Non-proxy integrations return only mapped headers, never the backend's own.
    assert reply.header("x-upstream-id") is None


def test_it_picks_the_response_template_by_accept_and_passes_the_body_through_an_empty_one(
    start_gateway: StartGateway, backend: Backend
) -> None:
    responses = {
        "200": {
            "statusCode": "200",
            "responseTemplates": {
                "application/json": '{"backend": $input.body, "id": "$context.requestId"}',
                "application/xml": "<ok/>",
                "text/plain": "",
            },
        }
    }
    gateway = _gateway(start_gateway, http(f"{backend.url}/status/200", http_method="GET", responses=responses))

    as_json = gateway.request("POST", "/prod/thing")
    as_xml = gateway.request("POST", "/prod/thing", headers={"Accept": "application/xml"})
    as_text = gateway.request("POST", "/prod/thing", headers={"Accept": "text/plain"})

    assert as_json.json() == {"backend": {"code": 200}, "id": as_json.header("x-amzn-RequestId")}
    assert as_xml.body == b"<ok/>"
    assert as_xml.header("content-type") == "application/xml"
    assert as_text.body == b'{"code": 200}'
