"""TestInvokeMethod: one method of an undeployed definition through the same pipeline steps."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from gateway_runtime import testinvoke
from gateway_runtime.tests import snapshots
from gateway_runtime.tests.servers import Backend
from gateway_runtime.tests.snapshots import http, mock, resource_id


def _invoke(config: dict[str, Any], path: str, verb: str, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "path_with_query": path,
        "headers": {"Accept": "application/json"},
        "body": "",
        "stage_variables": {},
        "session": None,
        **overrides,
    }
    return asyncio.run(testinvoke.test_invoke(config, resource_id(arguments.pop("resource")), verb, **arguments))


def test_it_returns_the_fields_of_aws_test_invoke_method(backend: Backend) -> None:
    integration = http(
        "http://${stageVariables.host}/pets/{id}",
        http_method="GET",
        requestParameters={"integration.request.path.id": "method.request.path.petId"},
    )
    config = snapshots.stage({("/pets/{petId}", "GET"): integration})

    result = _invoke(
        config,
        "/pets/12?type=dog",
        "GET",
        resource="/pets/{petId}",
        stage_variables={"host": f"127.0.0.1:{backend.port}"},
    )

    assert set(result) == {"status", "body", "headers", "multiValueHeaders", "log", "latency"}
    assert result["status"] == 200
    assert json.loads(result["body"])["path"] == "/pets/12"
    assert result["headers"]["content-type"] == "application/json"
    assert result["multiValueHeaders"]["content-type"] == ["application/json"]
    assert isinstance(result["latency"], int)
    log = result["log"]
    assert log.startswith("Execution log for request ")
    for line in (
        "Method request path: {petId=12}",
        "Method request query string: {type=dog}",
        f"Endpoint request URI: http://127.0.0.1:{backend.port}/pets/12",
        "Endpoint response body before transformations: {",
        "Method completed with status: 200",
    ):
        assert line in log


def test_it_runs_request_templates_and_reports_gateway_errors() -> None:
    integration = mock(
        '{"statusCode": 404}',
        passthroughBehavior="NEVER",
        responses={"404": {"statusCode": "404", "responseTemplates": {"application/json": "gone"}}},
    )
    config = snapshots.stage({("/m", "POST"): integration})

    ok = _invoke(config, "/m", "POST", resource="/m", body='{"x": 1}', headers={"Content-Type": "application/json"})
    refused = _invoke(config, "/m", "POST", resource="/m", body="x", headers={"Content-Type": "text/plain"})

    assert (ok["status"], ok["body"]) == (404, "gone")
    assert refused["status"] == 415
    assert json.loads(refused["body"]) == {"message": "Unsupported Media Type"}
    assert "Method completed with status: 415" in refused["log"]


def test_it_refuses_a_method_the_resource_does_not_have() -> None:
    config = snapshots.stage({("/m", "GET"): mock()})

    with pytest.raises(testinvoke.MethodNotFound):
        _invoke(config, "/m", "DELETE", resource="/m")
