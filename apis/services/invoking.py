"""TestInvokeMethod on the current, undeployed definition: shared by the management API and the console."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from apis import models as m
from apis import selectors
from apis.errors import NotFound

TEST_INVOKE_STAGE = "test-invoke-stage"


def method_test_invoke(
    *,
    api: m.RestApi,
    resource: m.Resource,
    http_method: str,
    path_with_query: str = "",
    headers: Mapping[str, str] | None = None,
    body: str = "",
    stage_variables: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run one method through the gateway pipeline and return AWS's TestInvokeMethod fields."""
    from gateway_runtime.testinvoke import MethodNotFound, test_invoke

    stage_like = {
        "apiId": api.id,
        "stageName": TEST_INVOKE_STAGE,
        "revision": 0,
        "deploymentId": "test-invoke-deployment",
        "snapshot": selectors.api_snapshot(api=api),
        "methodSettings": {},
        "accessLogSettings": None,
        "canarySettings": None,
        "tracingEnabled": False,
    }
    try:
        return asyncio.run(
            test_invoke(
                stage_like,
                resource.id,
                http_method,
                path_with_query=path_with_query or resource.path,
                headers=dict(headers or {}),
                body=body or "",
                stage_variables=dict(stage_variables or {}),
                session=None,
            )
        )
    except MethodNotFound:
        raise NotFound("Invalid Method identifier specified") from None
