"""Send an endpoint request over the gateway's shared pool of keep-alive upstream connections."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from gateway_runtime.context import java_map
from gateway_runtime.httpclient import HTTPClient, InvalidRequest
from gateway_runtime.messages import EndpointRequest, IntegrationConfigError, IntegrationResult

if TYPE_CHECKING:
    from gateway_runtime.context import RequestContext


def open_session(pool_size: int) -> HTTPClient:
    """Return the shared upstream client: keep-alive connections pooled per origin, no client-side behaviour.

    Timeouts are per integration (asyncio.timeout in the pipeline); bytes are relayed as the backend sent
    them (no decompression), and no cookies are kept, so one client's backend cookies never reach the next.
    """
    return HTTPClient(max_connections=pool_size)


def join_query(url: str, query: str) -> str:
    """Append a raw query string to a URL that may already carry one."""
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{query}"


async def send(ctx: RequestContext, request: EndpointRequest) -> IntegrationResult:
    """Send the request and read the whole response within the integration's timeout (else TimeoutError)."""
    if ctx.log is not None:
        ctx.log_line(f"Endpoint request URI: {request.url}")
        ctx.log_line(f"Endpoint request headers: {java_map(dict(request.headers))}")
        ctx.log_line(f"Endpoint request body after transformations: {request.body.decode('utf-8', 'replace')}")
        ctx.log_line(f"Sending request to {request.url}")
    if ctx.session is None:
        raise IntegrationConfigError("No HTTP session to reach the endpoint with")
    integration = ctx.route.integration if ctx.route is not None else None
    timeout = integration.timeout_s if integration is not None else None
    started = time.perf_counter()
    try:
        response = await ctx.session.request(
            request.method, request.url, headers=request.headers, body=request.body, timeout=timeout
        )
    except InvalidRequest as exc:
        raise IntegrationConfigError(f"Invalid endpoint request to {request.url!r}: {exc}") from exc
    result = IntegrationResult(status=response.status, headers=response.headers, body=response.body)
    ctx.integration_latency_ms = round((time.perf_counter() - started) * 1000)
    if ctx.log is not None:
        ctx.log_line(
            f"Received response. Status: {result.status}, Integration latency: {ctx.integration_latency_ms} ms"
        )
        ctx.log_line(
            "Endpoint response headers: "
            + java_map({key.decode("latin-1"): value.decode("latin-1") for key, value in result.headers})
        )
        ctx.log_line(f"Endpoint response body before transformations: {response.body.decode('utf-8', 'replace')}")
    return result
