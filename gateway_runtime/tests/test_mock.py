"""MOCK: the request template's statusCode selects the integration response."""

from __future__ import annotations

from gateway_runtime.tests import snapshots
from gateway_runtime.tests.conftest import StartGateway
from gateway_runtime.tests.snapshots import mock

RESPONSES = {
    "200": {
        "statusCode": "200",
        "selectionPattern": None,
        "responseParameters": {"method.response.header.X-Kind": "'ok'"},
        "responseTemplates": {"application/json": '{"ok": true}'},
    },
    "404": {
        "statusCode": "404",
        "selectionPattern": "404",
        "responseParameters": {"method.response.header.X-Kind": "'missing'"},
        "responseTemplates": {"application/json": '{"found": false}'},
    },
}


def test_it_selects_the_response_from_the_request_template_status_code(start_gateway: StartGateway) -> None:
    gateway = start_gateway(
        [
            snapshots.stage(
                {
                    ("/found", "GET"): mock('{"statusCode": 200}', responses=RESPONSES),
                    ("/missing", "GET"): mock('{"statusCode": 404}', responses=RESPONSES),
                }
            )
        ]
    )

    found = gateway.request("GET", "/prod/found")
    missing = gateway.request("GET", "/prod/missing")

    assert (found.status, found.json(), found.header("x-kind")) == (200, {"ok": True}, "ok")
    assert (missing.status, missing.json(), missing.header("x-kind")) == (404, {"found": False}, "missing")
    assert missing.header("content-type") == "application/json"


def test_it_defaults_to_status_200_when_the_template_has_no_status_code(start_gateway: StartGateway) -> None:
    gateway = start_gateway([snapshots.stage({("/m", "GET"): mock("{}", responses=RESPONSES)})])

    reply = gateway.request("GET", "/prod/m")

    assert reply.status == 200
    assert reply.json() == {"ok": True}
