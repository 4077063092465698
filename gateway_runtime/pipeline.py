"""The request pipeline: an explicit, ordered list of steps (DESIGN §4).

Each step takes the request context and returns a `Response` to stop, or None to go on. The list is the
whole story of a request; there is no plugin framework. Steps that are not built yet are named where they
will go, so the order is decided now.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable

from gateway_runtime.accesslog import execution_log
from gateway_runtime.addressing import resolve
from gateway_runtime.context import RequestContext, java_map
from gateway_runtime.counters import OVER_QUOTA, OVER_RATE, STORE_DOWN
from gateway_runtime.limits import request_check
from gateway_runtime.messages import IntegrationConfigError, Response, proxy_response_headers
from gateway_runtime.responses import (
    API_CONFIGURATION_ERROR,
    COUNTERS_UNAVAILABLE,
    FORBIDDEN,
    INTEGRATION_FAILURE,
    INTEGRATION_TIMEOUT,
    INVALID_API_KEY,
    MISSING_AUTHENTICATION_TOKEN,
    NO_CUSTOM_RESPONSES,
    QUOTA_EXCEEDED,
    REQUEST_TOO_LARGE,
    THROTTLED,
    UNSUPPORTED_MEDIA_TYPE,
    ErrorKind,
    default_error,
    select_template,
)

# What the counters' refusals look like to the client (each with Retry-After).
REFUSALS = {OVER_RATE: THROTTLED, OVER_QUOTA: QUOTA_EXCEEDED, STORE_DOWN: COUNTERS_UNAVAILABLE}

logger = logging.getLogger(__name__)

Step = Callable[[RequestContext], Awaitable[Response | None]]

# AWS answers a failed connection with "Internal server error"; the gateway says 502 rather than
# INTEGRATION_FAILURE's default 504, which clients would read as a timeout.
CONNECTION_FAILURE_STATUS = 502


class ClientDisconnected(Exception):
    """The client went away while the gateway was reading its request."""


def error(ctx: RequestContext, kind: ErrorKind, *, status: int | None = None, message: str | None = None) -> Response:
    """Return the gateway response for an error, customised by the API when it is known."""
    if ctx.log is not None:
        ctx.log_line(f"Gateway response type: {kind.response_type} with status code: {status or kind.status}")
    responses = ctx.stage.gateway_responses if ctx.stage is not None else NO_CUSTOM_RESPONSES
    return responses.render(ctx, kind, status=status, message=message)


async def resolve_stage(ctx: RequestContext) -> Response | None:
    """Find the stage from the Host header and path; unknown API or stage is 403 Forbidden."""
    runtime = ctx.runtime
    found = None if runtime is None else resolve(runtime, ctx.host, ctx.raw_path, ctx.settings.public_host)
    if found is None:
        return default_error(FORBIDDEN)
    ctx.stage, ctx.route_path = found
    return None


async def route(ctx: RequestContext) -> Response | None:
    """Match the stage-relative path and verb; no match is 403 Missing Authentication Token, as in AWS."""
    assert ctx.stage is not None
    match = ctx.stage.router.match(ctx.method, ctx.route_path)
    if match is None:
        return error(ctx, MISSING_AUTHENTICATION_TOKEN)
    ctx.route, ctx.raw_path_params = match
    return None


async def api_key(ctx: RequestContext) -> Response | None:
    """Admit a method that requires an API key only with an enabled key of a plan covering this stage: 403."""
    assert ctx.stage is not None and ctx.route is not None
    if not ctx.route.api_key_required:
        return None
    # apiKeySource AUTHORIZER takes the authorizer's usageIdentifierKey; until authorizers land, none is found.
    value = ctx.raw_header(b"x-api-key") if ctx.stage.api_key_source == "HEADER" else None
    runtime = ctx.runtime
    found = None if runtime is None else runtime.keyring.subscription(value, ctx.stage.key, ctx.settings.api_key_pepper)
    if found is None:
        # Missing, unknown, disabled or not in a plan for this stage: one answer for all, as AWS gives.
        return error(ctx, INVALID_API_KEY)
    ctx.subscription = found
    ctx.api_key_id, ctx.usage_plan_id = found.key_id, found.plan.id
    return None


async def throttle_and_quota(ctx: RequestContext) -> Response | None:
    """Take a token from each throttle tier and one request of the key's quota, all or none: 429 when out."""
    assert ctx.stage is not None and ctx.route is not None
    limiter = ctx.limiter
    if limiter is None:
        return None
    route, subscription, now = ctx.route, ctx.subscription, time.time()
    # The check of a route and key is the same until the config or the quota period changes: build it once.
    key = (id(route), id(subscription))
    cached = limiter.checks.get(key)
    if cached is not None and cached[0] is route and cached[1] is subscription and now < cached[3]:
        check = cached[2]
    else:
        check = request_check(
            stage_key=ctx.stage.key,
            resource_path=route.resource_path,
            http_method=route.http_method,
            stage_tier=route.stage_bucket,
            account_tier=limiter.account,
            subscription=subscription,
            now=now,
        )
        limiter.remember_check(key, (route, subscription, check, check.valid_until if check else math.inf))
    if check is None:
        return None
    verdict = await limiter.admit(check, ctx.stage.limits.fail_mode)
    kind = REFUSALS.get(verdict.outcome)
    if kind is None:
        return None
    response = error(ctx, kind)
    response.headers.append((b"retry-after", str(verdict.retry_after).encode()))
    return response


async def read_body(ctx: RequestContext) -> Response | None:
    """Read the request body, answering 413 as soon as it passes the limit, whatever its framing."""
    limit = ctx.settings.max_body_bytes
    if ctx.receive is None:
        return error(ctx, REQUEST_TOO_LARGE) if len(ctx.body) > limit else None
    declared: bytes | None = None
    chunked = False
    for name, value in ctx.headers:
        if name == b"content-length":
            declared = value
        elif name == b"transfer-encoding":
            chunked = True
    if declared is None and not chunked:
        return None
    if declared is not None and not chunked:
        length = int(declared) if declared.strip().isdigit() else 0
        if length > limit:
            return error(ctx, REQUEST_TOO_LARGE)
        if length == 0:
            return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await ctx.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                # Stop here: the rest is never buffered (the ASGI server discards it).
                return error(ctx, REQUEST_TOO_LARGE)
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    ctx.body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return None


def _log_method_request(ctx: RequestContext) -> None:
    ctx.log_line(f"Method request path: {java_map(ctx.path_params())}")
    ctx.log_line(f"Method request query string: {java_map({k: ','.join(v) for k, v in ctx.query_params().items()})}")
    ctx.log_line(
        "Method request headers: "
        + java_map({key.decode("latin-1"): value.decode("latin-1") for key, value in ctx.headers})
    )
    ctx.log_line(f"Method request body before transformations: {ctx.body_text()}")


async def integration_request(ctx: RequestContext) -> Response | None:
    """Map request parameters and choose the body the integration gets: template, passthrough or 415."""
    assert ctx.route is not None and ctx.stage is not None
    integration = ctx.route.integration
    if ctx.log is not None:
        _log_method_request(ctx)
    if integration is None:
        return error(ctx, API_CONFIGURATION_ERROR)
    if integration.request_mapping is not None:
        ctx.mapped = integration.request_mapping.evaluate(ctx)
    if integration.is_proxy:
        ctx.endpoint_body = ctx.body
        return None
    content_type = ctx.header("content-type")
    # AWS selects request templates as if an absent Content-Type were application/json.
    media_type = content_type.split(";", 1)[0].strip().lower() if content_type else "application/json"
    template = integration.request_templates.get(media_type)
    binary = integration.content_handling is None and ctx.stage.is_binary(content_type)
    if template is None or binary:
        behavior = integration.passthrough
        if not binary and (behavior == "NEVER" or (behavior == "WHEN_NO_TEMPLATES" and integration.request_templates)):
            return error(ctx, UNSUPPORTED_MEDIA_TYPE)
        ctx.endpoint_body, ctx.endpoint_content_type = ctx.body, content_type
        return None
    if template.is_empty:
        ctx.endpoint_body, ctx.endpoint_content_type = ctx.body, content_type
        return None
    ctx.endpoint_body = template.render_bytes(lambda: ctx.template_scope(ctx.body_text))
    ctx.endpoint_content_type = media_type
    return None


async def invoke_integration(ctx: RequestContext) -> Response | None:
    """Call the integration within its timeout, turning failures into AWS's gateway responses."""
    assert ctx.route is not None and ctx.route.integration is not None
    integration = ctx.route.integration
    if integration.invoke is None:
        ctx.log_line(f"Execution failed due to configuration error: {integration.type} is not supported")
        return error(ctx, API_CONFIGURATION_ERROR)
    try:
        if integration.timeout_s is None or integration.self_timed:
            ctx.result = await integration.invoke(ctx)
        else:
            async with asyncio.timeout(integration.timeout_s):
                ctx.result = await integration.invoke(ctx)
    except TimeoutError:
        ctx.log_line("Execution failed due to a timeout error")
        return error(ctx, INTEGRATION_TIMEOUT)
    except IntegrationConfigError as exc:
        ctx.log_line(f"Execution failed due to configuration error: {exc}")
        return error(ctx, API_CONFIGURATION_ERROR)
    except OSError as exc:  # the upstream client's errors are all OSError
        logger.info("Integration of %s %s failed: %r", ctx.method, ctx.route.resource_path, exc)
        ctx.log_line(f"Execution failed due to an integration failure: {exc!r}")
        return error(ctx, INTEGRATION_FAILURE, status=CONNECTION_FAILURE_STATUS)
    return None


def _log_method_response(ctx: RequestContext, response: Response) -> None:
    ctx.log_line(f"Method response body after transformations: {response.body.decode('utf-8', 'replace')}")
    ctx.log_line(
        "Method response headers: "
        + java_map({key.decode("latin-1"): value.decode("latin-1") for key, value in response.headers})
    )


async def integration_response(ctx: RequestContext) -> Response | None:
    """Make the method response: relayed as-is for proxies, else selected, mapped and transformed."""
    assert ctx.route is not None and ctx.route.integration is not None and ctx.stage is not None
    integration, result = ctx.route.integration, ctx.result
    assert result is not None
    if integration.is_proxy:
        headers, has_length = proxy_response_headers(result.headers)
        response = Response(result.status, headers, result.body, has_content_length=has_length)
    else:
        selected = integration.select_response(result.status)
        if selected is None:
            ctx.log_line(
                "Execution failed due to configuration error: No match for output mapping and no default "
                f"output mapping configured. Endpoint Response Status Code: {result.status}"
            )
            return error(ctx, API_CONFIGURATION_ERROR)
        headers = selected.headers.evaluate(ctx) if selected.headers is not None else []
        body = result.body
        key = select_template(selected.templates, ctx.header("accept"))
        if key is not None:
            template = selected.templates[key]
            binary = integration.content_handling is None and ctx.stage.is_binary(result.header("content-type"))
            if not template.is_empty and not binary:
                body = template.render_bytes(lambda: ctx.template_scope(ctx.result_body_text))
        if not any(name == b"content-type" for name, _ in headers):
            headers.append((b"content-type", (key or "application/json").encode("latin-1")))
        response = Response(selected.status, headers, body)
    if ctx.log is not None:
        _log_method_response(ctx, response)
    return response


# The order of DESIGN §4. Steps not built yet are named in comments where they will plug in.
FRONT_STEPS: list[Step] = [
    resolve_stage,
    # canary pick
    route,
    execution_log,  # keeps the execution log when the method's loggingLevel asks (gateway_runtime.accesslog)
]

# The cheap refusals, before a body up to 10 MB is read. TestInvokeMethod skips them, as AWS's does.
ADMISSION_STEPS: list[Step] = [
    # resource policy (IP/CIDR), CORS preflight, authorizer
    api_key,
    throttle_and_quota,
]

METHOD_STEPS: list[Step] = [
    read_body,
    # request validation, cache lookup
    integration_request,
    invoke_integration,
    integration_response,
    # cache store
]

# After the response is built (asgi.py): metering event, access log line.
STEPS: list[Step] = [*FRONT_STEPS, *ADMISSION_STEPS, *METHOD_STEPS]


async def run(ctx: RequestContext, steps: list[Step] = STEPS) -> Response:
    """Run the steps in order until one answers."""
    for step in steps:
        response = await step(ctx)
        if response is not None:
            return response
    # Only reachable if the last step forgot to answer: a bug, reported as AWS reports its own.
    logger.error("Pipeline ended without a response for %s %s", ctx.method, ctx.raw_path)
    return error(ctx, API_CONFIGURATION_ERROR)
