"""Send an endpoint request over the gateway's shared, pooled aiohttp session."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from gateway_runtime.context import java_map
from gateway_runtime.messages import EndpointRequest, IntegrationConfigError, IntegrationResult

if TYPE_CHECKING:
    from gateway_runtime.context import RequestContext


# Client-side defaults aiohttp would invent; a gateway forwards only what it was given or mapped.
SKIPPED_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


def open_session(pool_size: int) -> aiohttp.ClientSession:
    """Return the shared upstream session: pooled keep-alive connections, no client-side behaviour."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=pool_size, ttl_dns_cache=60),
        # Timeouts are per integration (asyncio.timeout in the pipeline), so aiohttp keeps none.
        timeout=aiohttp.ClientTimeout(total=None),
        # Relay bytes as the backend sent them, compression included.
        auto_decompress=False,
        # A shared cookie jar would hand one client's backend cookies to the next client.
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=SKIPPED_AUTO_HEADERS,
    )


def join_query(url: str, query: str) -> str:
    """Append a raw query string to a URL that may already carry one."""
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{query}"


async def send(ctx: RequestContext, request: EndpointRequest) -> IntegrationResult:
    """Send the request and read the whole response; timeouts are the caller's (the integration step)."""
    try:
        # encoded=True: the path and query are already percent-encoded; re-quoting would change them.
        url = URL(request.url, encoded=True)
    except ValueError as exc:
        raise IntegrationConfigError(f"Invalid endpoint address {request.url!r}") from exc
    if not url.host or url.scheme not in ("http", "https"):
        raise IntegrationConfigError(f"Invalid endpoint address {request.url!r}")
    if ctx.log is not None:
        ctx.log_line(f"Endpoint request URI: {request.url}")
        ctx.log_line(f"Endpoint request headers: {java_map(dict(request.headers))}")
        ctx.log_line(f"Endpoint request body after transformations: {request.body.decode('utf-8', 'replace')}")
        ctx.log_line(f"Sending request to {request.url}")
    if ctx.session is None:
        raise IntegrationConfigError("No HTTP session to reach the endpoint with")
    started = time.perf_counter()
    async with ctx.session.request(
        request.method,
        url,
        headers=request.headers,
        data=request.body or None,
        allow_redirects=False,
    ) as response:
        body = await response.read()
        result = IntegrationResult(status=response.status, headers=list(response.raw_headers), body=body)
    ctx.integration_latency_ms = round((time.perf_counter() - started) * 1000)
    if ctx.log is not None:
        ctx.log_line(
            f"Received response. Status: {result.status}, Integration latency: {ctx.integration_latency_ms} ms"
        )
        ctx.log_line(
            "Endpoint response headers: "
            + java_map({key.decode("latin-1"): value.decode("latin-1") for key, value in result.headers})
        )
        ctx.log_line(f"Endpoint response body before transformations: {body.decode('utf-8', 'replace')}")
    return result
