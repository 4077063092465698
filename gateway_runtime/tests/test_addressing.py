"""Which stage a request reaches: execute-api host, path forms, custom domains, and the 403s around them."""

from __future__ import annotations

from gateway_runtime.tests import snapshots
from gateway_runtime.tests.conftest import StartGateway
from gateway_runtime.tests.snapshots import API_ID, mock

OTHER_API = "f6g7h8i9j0"


def _stage(body: str, **kwargs: object) -> dict:
    template = mock(responses={"200": {"statusCode": "200", "responseTemplates": {"application/json": body}}})
    return snapshots.stage({("/hello", "GET"): template, ("/", "GET"): template}, **kwargs)


def test_it_serves_the_execute_api_host_with_the_stage_as_first_path_segment(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_stage("prod-hello")])

    reply = gateway.request("GET", "/prod/hello", host=f"{API_ID}.execute-api.localhost:{gateway.port}")

    assert reply.status == 200
    assert reply.body == b"prod-hello"


def test_it_serves_the_aws_path_form_on_any_host(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_stage("aws-form")])

    reply = gateway.request("GET", f"/_aws/execute-api/{API_ID}/prod/hello", host="localhost")

    assert reply.status == 200
    assert reply.body == b"aws-form"


def test_it_serves_the_restapis_user_request_path_form(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_stage("restapis-form")])

    reply = gateway.request("GET", f"/restapis/{API_ID}/prod/_user_request_/hello", host="127.0.0.1")

    assert reply.status == 200
    assert reply.body == b"restapis-form"


def test_it_routes_the_stage_root_to_the_root_resource(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_stage("root")])

    assert gateway.request("GET", "/prod").body == b"root"
    assert gateway.request("GET", "/prod/").body == b"root"


def test_it_forbids_an_unknown_api(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_stage("x")])

    reply = gateway.request("GET", "/prod/hello", host=f"{OTHER_API}.execute-api.localhost")

    assert reply.status == 403
    assert reply.json() == {"message": "Forbidden"}
    assert reply.header("x-amzn-ErrorType") == "ForbiddenException"


def test_it_forbids_an_unknown_stage(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_stage("x")])

    assert gateway.request("GET", "/staging/hello").status == 403
    assert gateway.request("GET", f"/_aws/execute-api/{API_ID}/staging/hello", host="localhost").status == 403


def test_it_forbids_a_host_that_names_no_api(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_stage("x")])

    reply = gateway.request("GET", "/prod/hello", host="localhost")

    assert reply.status == 403
    assert reply.json() == {"message": "Forbidden"}


def test_it_forbids_execute_api_forms_when_the_endpoint_is_disabled(start_gateway: StartGateway) -> None:
    gateway = start_gateway(
        [_stage("hidden", disable_execute_api=True)],
        domains=[
            {
                "domainName": "api.example.com",
                "mappings": [{"basePath": "(none)", "restApiId": API_ID, "stage": "prod"}],
            }
        ],
    )

    assert gateway.request("GET", "/prod/hello").status == 403
    assert gateway.request("GET", f"/_aws/execute-api/{API_ID}/prod/hello", host="localhost").status == 403
    assert gateway.request("GET", f"/restapis/{API_ID}/prod/_user_request_/hello", host="localhost").status == 403
    custom = gateway.request("GET", "/hello", host="api.example.com")
    assert custom.status == 200
    assert custom.body == b"hidden"


def test_it_maps_the_none_base_path_to_the_whole_path(start_gateway: StartGateway) -> None:
    gateway = start_gateway(
        [_stage("none-mapping")],
        domains=[
            {
                "domainName": "api.example.com",
                "mappings": [{"basePath": "(none)", "restApiId": API_ID, "stage": "prod"}],
            }
        ],
    )

    reply = gateway.request("GET", "/hello", host="api.example.com:8443")

    assert reply.status == 200
    assert reply.body == b"none-mapping"


def test_it_prefers_the_longest_multi_level_base_path(start_gateway: StartGateway) -> None:
    gateway = start_gateway(
        [_stage("v1", stage_name="prod"), _stage("orders-v2", api_id=OTHER_API, stage_name="live")],
        domains=[
            {
                "domainName": "api.example.com",
                "mappings": [
                    {"basePath": "v2", "restApiId": API_ID, "stage": "prod"},
                    {"basePath": "v2/orders", "restApiId": OTHER_API, "stage": "live"},
                ],
            }
        ],
    )

    assert gateway.request("GET", "/v2/orders/hello", host="api.example.com").body == b"orders-v2"
    assert gateway.request("GET", "/v2/hello", host="api.example.com").body == b"v1"
    # "v2/ordersx" is not under the "v2/orders" base path.
    assert gateway.request("GET", "/v2/ordersx/hello", host="api.example.com").status == 403


def test_it_forbids_a_custom_domain_path_no_base_path_maps(start_gateway: StartGateway) -> None:
    gateway = start_gateway(
        [_stage("x")],
        domains=[
            {"domainName": "api.example.com", "mappings": [{"basePath": "v1", "restApiId": API_ID, "stage": "prod"}]}
        ],
    )

    reply = gateway.request("GET", "/v9/hello", host="api.example.com")

    assert reply.status == 403
    assert reply.json() == {"message": "Forbidden"}


def test_it_answers_ping_with_health_json(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_stage("x")])

    reply = gateway.request("GET", "/ping", host="localhost")

    assert reply.status == 200
    body = reply.json()
    assert {key: body[key] for key in ("status", "configVersion", "stages")} == {
        "status": "ok",
        "configVersion": 1,
        "stages": 1,
    }
    assert body["counters"]["store"] == "memory"
    assert body["counters"]["healthy"] is True
    assert reply.header("x-amzn-RequestId")
