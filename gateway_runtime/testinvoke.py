"""TestInvokeMethod: run one method of a (possibly undeployed) API through the real pipeline.

The request is routed by resource id and verb instead of by path; every step after routing is the one
live traffic runs. The answer has the fields of AWS's TestInvokeMethod response.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from gateway_runtime import pipeline
from gateway_runtime.compiler import compile_stage
from gateway_runtime.config import GatewaySettings
from gateway_runtime.context import RequestContext, new_request_ids
from gateway_runtime.httpclient import HTTPClient
from gateway_runtime.integrations.upstream import open_session
from gateway_runtime.responses import unexpected_failure
from gateway_runtime.router import template_params

logger = logging.getLogger(__name__)


class MethodNotFound(LookupError):
    """The resource has no such method (AWS: NotFoundException "Invalid Method identifier specified")."""


async def test_invoke(
    stage_like_config: dict[str, Any],
    resource_id: str,
    http_method: str,
    *,
    path_with_query: str,
    headers: Mapping[str, str],
    body: bytes | str,
    stage_variables: Mapping[str, str],
    session: HTTPClient | None,
    settings: GatewaySettings | None = None,
) -> dict[str, Any]:
    """Invoke one method as TestInvokeMethod does and return status, body, headers, log and latency.

    `stage_like_config` has the shape of a stage config (docs/runtime-config.md); its `variables` are
    replaced by `stage_variables`. Pass the caller's upstream client, or None for a one-off session.
    Raises MethodNotFound when the resource has neither `http_method` nor ANY.
    """
    settings = settings or GatewaySettings()
    stage = compile_stage(
        {**stage_like_config, "variables": dict(stage_variables or {})},
        default_timeout_ms=settings.default_timeout_ms,
    )
    verb = http_method.upper()
    method = stage.methods_by_id.get((resource_id, verb)) or stage.methods_by_id.get((resource_id, "ANY"))
    if method is None:
        raise MethodNotFound(f"Invalid Method identifier specified: {resource_id} {verb}")
    path, _, query = (path_with_query or method.resource_path).partition("?")
    path = path or "/"
    request_id, apigw_id = new_request_ids()
    log = [f"Execution log for request {request_id.decode()}"]
    own_session = open_session(settings.upstream_pool_size) if session is None else None
    ctx = RequestContext(
        request_id=request_id.decode(),
        apigw_id=apigw_id.decode(),
        method=verb,
        raw_path=path,
        query_string=query.encode("latin-1", "replace"),
        headers=[
            (str(name).lower().encode("latin-1", "replace"), str(value).encode("latin-1", "replace"))
            for name, value in (headers or {}).items()
        ],
        settings=settings,
        session=session or own_session,
        body=body.encode() if isinstance(body, str) else bytes(body or b""),
        log=log,
    )
    ctx.stage, ctx.route, ctx.route_path = stage, method, path
    ctx.raw_path_params = template_params(method.resource_path, path)
    ctx.log_line(f"Starting execution for request: {ctx.request_id}")
    ctx.log_line(f"HTTP Method: {verb}, Resource Path: {path}")
    started = time.perf_counter()
    try:
        response = await pipeline.run(ctx, pipeline.METHOD_STEPS)
    except Exception as exc:
        logger.exception("TestInvokeMethod failed unexpectedly")
        ctx.log_line(f"Execution failed: {exc!r}")
        response = unexpected_failure()
    finally:
        if own_session is not None:
            await own_session.close()
    latency = round((time.perf_counter() - started) * 1000)
    if ctx.result is not None:
        ctx.log_line("Successfully completed execution")
    ctx.log_line(f"Method completed with status: {response.status}")
    response.headers.append((b"x-amzn-requestid", request_id))
    multi: dict[str, list[str]] = {}
    for name, value in response.headers:
        multi.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
    return {
        "status": response.status,
        "body": response.body.decode("utf-8", "replace"),
        "headers": {name: values[-1] for name, values in multi.items()},
        "multiValueHeaders": multi,
        "log": "\n".join(log) + "\n",
        "latency": latency,
    }


# The name starts with "test_" because the AWS operation is TestInvokeMethod; this keeps pytest from
# collecting it wherever it is imported.
test_invoke.__test__ = False  # type: ignore[attr-defined]
