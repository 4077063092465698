"""HTTP (non-proxy): send only what the mappings and templates make of the method request."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from gateway_runtime.integrations.upstream import join_query, send
from gateway_runtime.messages import EndpointRequest, IntegrationResult

if TYPE_CHECKING:
    from gateway_runtime.context import RequestContext


async def invoke(ctx: RequestContext) -> IntegrationResult:
    """Build the endpoint request from mapped parameters and the transformed body, then send it."""
    route, stage = ctx.route, ctx.stage
    assert route is not None and route.integration is not None and stage is not None
    integration = route.integration
    mapped = ctx.mapped
    path_values = {**ctx.raw_path_params, **mapped.path} if mapped.path else ctx.raw_path_params
    # Unlike HTTP_PROXY, no client header reaches the backend unless a mapping sends it.
    headers = list(mapped.headers)
    names = {name.lower() for name, _ in headers}
    if ctx.endpoint_content_type and "content-type" not in names:
        headers.append(("content-type", ctx.endpoint_content_type))
    if "user-agent" not in names:
        headers.append(("user-agent", f"AmazonAPIGateway_{stage.api_id}"))
    method = ctx.method if integration.http_method == "ANY" else integration.http_method
    request = EndpointRequest(
        method=method,
        url=join_query(integration.uri.render(path_values), urlencode(mapped.query)),
        headers=headers,
        body=ctx.endpoint_body,
    )
    return await send(ctx, request)
