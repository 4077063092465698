"""HTTP_PROXY: relay the method request to the backend and its response back, as they are."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, unquote_plus

from gateway_runtime.integrations.upstream import join_query, send
from gateway_runtime.messages import NOT_FORWARDED_TO_BACKEND, EndpointRequest, IntegrationResult

if TYPE_CHECKING:
    from gateway_runtime.context import RequestContext


def _forwarded_headers(ctx: RequestContext) -> list[tuple[str, str]]:
    """Return the client's headers minus hop-by-hop ones, with X-Forwarded-* for this hop appended."""
    dropped = NOT_FORWARDED_TO_BACKEND
    for key, value in ctx.headers:
        if key == b"connection":
            # Headers listed in Connection are hop-by-hop for this message (RFC 9110 §7.6.1).
            dropped = dropped | {token.strip().lower() for token in value.decode("latin-1").split(",")}
    out: list[tuple[str, str]] = []
    forwarded_for = None
    for key, value in ctx.headers:
        name = key.decode("latin-1").lower()
        if name in dropped:
            continue
        if name == "x-forwarded-for":
            forwarded_for = value.decode("latin-1")
            continue
        out.append((name, value.decode("latin-1")))
    if ctx.client_ip:
        out.append(("x-forwarded-for", f"{forwarded_for}, {ctx.client_ip}" if forwarded_for else ctx.client_ip))
    elif forwarded_for:
        out.append(("x-forwarded-for", forwarded_for))
    out.append(("x-forwarded-proto", ctx.scheme))
    return out


def _merge_query(raw: str, mapped: list[tuple[str, str]]) -> str:
    """Return the client's raw query with the mapped parameters replacing any of the same name."""
    names = {name for name, _ in mapped}
    kept = [part for part in raw.split("&") if part and unquote_plus(part.split("=", 1)[0]) not in names]
    kept.extend(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in mapped)
    return "&".join(kept)


async def invoke(ctx: RequestContext) -> IntegrationResult:
    """Send the request on to the integration URI and return the backend's answer untouched."""
    route = ctx.route
    assert route is not None and route.integration is not None
    integration = route.integration
    mapped = ctx.mapped
    # Path parameters go into the URI under their own names unless a mapping says otherwise.
    path_values = {**ctx.raw_path_params, **mapped.path} if mapped.path else ctx.raw_path_params
    query = ctx.query_string.decode("latin-1")
    if mapped.query:
        query = _merge_query(query, mapped.query)
    headers = _forwarded_headers(ctx)
    if mapped.headers:
        overridden = {name.lower() for name, _ in mapped.headers}
        headers = [header for header in headers if header[0] not in overridden] + mapped.headers
    method = ctx.method if integration.http_method == "ANY" else integration.http_method
    request = EndpointRequest(
        method=method,
        url=join_query(integration.uri.render(path_values), query),
        headers=headers,
        body=ctx.endpoint_body,
    )
    return await send(ctx, request)
