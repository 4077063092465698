"""Gateway responses: AWS defaults, an API's customisations, and the DEFAULT_4XX/5XX fallbacks."""

from __future__ import annotations

import uuid

from gateway_runtime.tests import snapshots
from gateway_runtime.tests.conftest import StartGateway
from gateway_runtime.tests.servers import Backend
from gateway_runtime.tests.snapshots import http, http_proxy, mock


def test_it_applies_a_customised_gateway_response(start_gateway: StartGateway) -> None:
    custom = {
        "responseType": "MISSING_AUTHENTICATION_TOKEN",
        "statusCode": "404",
        "responseParameters": {"gatewayresponse.header.X-Why": "'no route'"},
        "responseTemplates": {
            "application/json": '{"error": $context.error.messageString, "plain": "$context.error.message", '
            '"id": "$context.requestId"}'
        },
    }
    gateway = start_gateway([snapshots.stage({("/a", "GET"): mock()}, gateway_responses=[custom])])

    reply = gateway.request("GET", "/prod/b")

    assert reply.status == 404
    assert reply.header("x-why") == "no route"
    assert reply.header("x-amzn-ErrorType") == "MissingAuthenticationTokenException"
    assert reply.json() == {
        "error": "Missing Authentication Token",
        "plain": "Missing Authentication Token",
        "id": reply.header("x-amzn-RequestId"),
    }


def test_it_falls_back_to_default_4xx_for_a_type_not_customised(start_gateway: StartGateway, backend: Backend) -> None:
    default_4xx = {
        "responseType": "DEFAULT_4XX",
        "responseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
        "responseTemplates": {"application/json": '{"problem": $context.error.messageString}'},
    }
    templated = http(f"{backend.url}/echo", passthroughBehavior="NEVER", requestTemplates={"application/json": "{}"})
    gateway = start_gateway(
        [snapshots.stage({("/a", "GET"): mock(), ("/t", "POST"): templated}, gateway_responses=[default_4xx])]
    )

    missing = gateway.request("GET", "/prod/nope")
    unsupported = gateway.request("POST", "/prod/t", body=b"x", headers={"Content-Type": "text/plain"})

    assert missing.status == 403
    assert missing.json() == {"problem": "Missing Authentication Token"}
    assert missing.header("access-control-allow-origin") == "*"
    assert unsupported.status == 415
    assert unsupported.json() == {"problem": "Unsupported Media Type"}


def test_default_4xx_does_not_shape_5xx_errors(start_gateway: StartGateway, refused_port: int) -> None:
    default_4xx = {"responseType": "DEFAULT_4XX", "responseTemplates": {"application/json": '{"problem": 1}'}}
    default_5xx = {
        "responseType": "DEFAULT_5XX",
        "statusCode": "503",
        "responseTemplates": {"application/json": '{"five": 1}'},
    }
    gateway = start_gateway(
        [
            snapshots.stage(
                {("/down", "GET"): http_proxy(f"http://127.0.0.1:{refused_port}/")},
                gateway_responses=[default_4xx, default_5xx],
            )
        ]
    )

    reply = gateway.request("GET", "/prod/down")

    assert reply.status == 503
    assert reply.json() == {"five": 1}


def test_every_response_carries_request_ids(start_gateway: StartGateway, backend: Backend) -> None:
    gateway = start_gateway(
        [snapshots.stage({("/p", "GET"): http_proxy(f"{backend.url}/echo"), ("/m", "GET"): mock()})]
    )

    replies = [
        gateway.request("GET", "/prod/p"),
        gateway.request("GET", "/prod/m"),
        gateway.request("GET", "/prod/none"),
        gateway.request("GET", "/other/none"),
        gateway.request("GET", "/ping"),
    ]

    request_ids = [reply.header("x-amzn-RequestId") for reply in replies]
    assert [uuid.UUID(value or "").version for value in request_ids] == [4] * len(replies)
    assert len(set(request_ids)) == len(replies)
    assert all(reply.header("x-amz-apigw-id") for reply in replies)
