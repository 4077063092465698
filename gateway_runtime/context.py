"""The per-request state every pipeline step reads and fills in."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from gateway_runtime.mapping import EMPTY_MAPPED_REQUEST, MappedRequest
from gateway_runtime.templates import TemplateScope

if TYPE_CHECKING:
    from gateway_runtime.compiler import CompiledMethod, CompiledStage
    from gateway_runtime.config import GatewaySettings
    from gateway_runtime.httpclient import HTTPClient
    from gateway_runtime.keyring import Subscription
    from gateway_runtime.limiter import Limiter
    from gateway_runtime.messages import Headers, IntegrationResult
    from gateway_runtime.responses import ErrorKind
    from gateway_runtime.runtime import RuntimeConfig

Receive = Callable[[], Awaitable[dict[str, Any]]]


_ID_BYTES = 27
_ID_BATCH = 256
_random_pool = b""
_random_at = 0


def _forget_random_pool() -> None:
    # A forked child must not hand out the ids its parent has in the pool too.
    global _random_pool, _random_at
    _random_pool, _random_at = b"", 0


os.register_at_fork(after_in_child=_forget_random_pool)


def new_request_ids() -> tuple[bytes, bytes]:
    """Return a request id (a UUID4) and an AWS-style extended request id, from 27 bytes of randomness.

    The bytes come from os.urandom read 256 requests' worth at a time: one system call instead of one per
    request. Request ids are unique, not secret (they are the metering events' ids too).
    """
    global _random_pool, _random_at
    if _random_at >= len(_random_pool):
        _random_pool, _random_at = os.urandom(_ID_BYTES * _ID_BATCH), 0
    raw = _random_pool[_random_at : _random_at + _ID_BYTES]
    _random_at += _ID_BYTES
    digits = raw[:16].hex()
    # RFC 9562 version 4: the version nibble is 4 and the variant bits are 10 (8, 9, a or b). Formatting
    # by hand costs a fraction of building a uuid.UUID on every request.
    request_id = (
        f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{'89ab'[int(digits[16], 16) & 3]}{digits[17:20]}-{digits[20:]}"
    )
    return request_id.encode(), base64.b64encode(raw[16:])


def log_timestamp() -> str:
    """Return the time the way AWS execution logs print it."""
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime())


class RequestContext:
    """One request on its way through the pipeline."""

    __slots__ = (
        "_body_text",
        "_context",
        "_query",
        "_result_text",
        "api_key_id",
        "apigw_id",
        "body",
        "client_ip",
        "endpoint_body",
        "endpoint_content_type",
        "error",
        "headers",
        "host",
        "integration_latency_ms",
        "limiter",
        "log",
        "mapped",
        "method",
        "query_string",
        "raw_path",
        "raw_path_params",
        "receive",
        "request_id",
        "result",
        "route",
        "route_path",
        "runtime",
        "scheme",
        "session",
        "settings",
        "stage",
        "started",
        "subscription",
        "usage_plan_id",
    )

    def __init__(
        self,
        *,
        request_id: str,
        apigw_id: str,
        method: str,
        raw_path: str,
        query_string: bytes,
        headers: Headers,
        settings: GatewaySettings,
        session: HTTPClient | None,
        runtime: RuntimeConfig | None = None,
        receive: Receive | None = None,
        host: str = "",
        scheme: str = "http",
        client_ip: str = "",
        body: bytes = b"",
        log: list[str] | None = None,
        limiter: Limiter | None = None,
    ):
        self.request_id = request_id
        self.apigw_id = apigw_id
        self.method = method
        self.raw_path = raw_path
        self.query_string = query_string
        self.headers = headers
        self.settings = settings
        self.session = session
        self.runtime = runtime
        self.receive = receive
        self.host = host
        self.scheme = scheme
        self.client_ip = client_ip
        self.body = body
        # Only TestInvokeMethod keeps an execution log; steps check for None before formatting anything.
        self.log = log
        # None where nothing is throttled (TestInvokeMethod).
        self.limiter = limiter
        self.started = time.perf_counter()
        self.stage: CompiledStage | None = None
        self.route_path = raw_path
        self.route: CompiledMethod | None = None
        self.raw_path_params: dict[str, str] = {}
        self.endpoint_body = b""
        self.endpoint_content_type: str | None = None
        self.mapped: MappedRequest = EMPTY_MAPPED_REQUEST
        self.result: IntegrationResult | None = None
        self.integration_latency_ms = 0
        self.error: tuple[ErrorKind, str] | None = None
        # Set by the API key step when the method requires a key and the request presented a valid one.
        self.subscription: Subscription | None = None
        self.api_key_id: str | None = None
        self.usage_plan_id: str | None = None
        self._query: dict[str, list[str]] | None = None
        self._context: dict[str, Any] | None = None
        self._body_text: str | None = None
        self._result_text: str | None = None

    # -- method request -------------------------------------------------------------------------------

    def header(self, name: str) -> str | None:
        """Return the first value of a request header (case-insensitive), or None."""
        # ASGI servers give lower-case names; a scan of a dozen pairs beats building a dict per request.
        wanted = name.lower().encode("latin-1")
        for key, value in self.headers:
            if key == wanted:
                return value.decode("latin-1")
        return None

    def raw_header(self, name: bytes) -> bytes | None:
        """Return the first value of a request header by its lower-case name, as the bytes received."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        """Return every value of a request header."""
        wanted = name.lower().encode("latin-1")
        return [value.decode("latin-1") for key, value in self.headers if key == wanted]

    def query_params(self) -> dict[str, list[str]]:
        """Return the decoded query string, every value of every name kept in order."""
        if self._query is None:
            grouped: dict[str, list[str]] = {}
            for key, value in parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True):
                grouped.setdefault(key, []).append(value)
            self._query = grouped
        return self._query

    def query_first(self, name: str) -> str | None:
        """Return the first value of a query parameter, or None."""
        values = self.query_params().get(name)
        return values[0] if values else None

    def query_all(self, name: str) -> list[str]:
        """Return every value of a query parameter."""
        return self.query_params().get(name, [])

    def path_param(self, name: str) -> str | None:
        """Return a decoded path parameter, or None."""
        raw = self.raw_path_params.get(name)
        return None if raw is None else unquote(raw)

    def path_params(self) -> dict[str, str]:
        """Return every decoded path parameter."""
        return {name: unquote(value) for name, value in self.raw_path_params.items()}

    def body_text(self) -> str:
        """Return the method request body as text."""
        if self._body_text is None:
            self._body_text = self.body.decode("utf-8", "replace")
        return self._body_text

    def result_body_text(self) -> str:
        """Return the integration response body as text."""
        if self._result_text is None:
            self._result_text = "" if self.result is None else self.result.body.decode("utf-8", "replace")
        return self._result_text

    # -- $context -------------------------------------------------------------------------------------

    def context_vars(self) -> dict[str, Any]:
        """Return AWS's `$context` variables for this request."""
        if self._context is None:
            stage, route = self.stage, self.route
            self._context = {
                "requestId": self.request_id,
                "extendedRequestId": self.apigw_id,
                "apiId": stage.api_id if stage else None,
                "stage": stage.stage_name if stage else None,
                "deploymentId": stage.deployment_id if stage else None,
                "resourceId": route.resource_id if route else None,
                "resourcePath": route.resource_path if route else None,
                "httpMethod": self.method,
                "path": self.raw_path,
                "protocol": "HTTP/1.1",
                "domainName": self.host,
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {
                    "sourceIp": self.client_ip,
                    "userAgent": self.header("user-agent"),
                    "apiKeyId": self.api_key_id,
                },
            }
        if self.error is not None:
            kind, message = self.error
            self._context["error"] = {
                "message": message,
                "messageString": json.dumps(message),
                "responseType": kind.response_type,
            }
        return self._context

    def context_value(self, dotted: str) -> str | None:
        """Return one `$context` variable by dotted name, or None."""
        node: Any = self.context_vars()
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return None if node is None or isinstance(node, Mapping) else str(node)

    def template_scope(self, body: Callable[[], str]) -> TemplateScope:
        """Return what a mapping template may read, with `$input.body` taken from `body`."""
        return TemplateScope(
            body=body,
            context=self.context_vars,
            stage_variables=self.stage.variables if self.stage is not None else {},
        )

    # -- execution log (TestInvokeMethod) -------------------------------------------------------------

    def log_line(self, text: str) -> None:
        """Append a timestamped line to the execution log, when one is kept."""
        if self.log is not None:
            self.log.append(f"{log_timestamp()} : {text}")


def java_map(items: Mapping[str, Any]) -> str:
    """Format a mapping the way AWS execution logs do: `{a=1, b=2}`."""
    return "{" + ", ".join(f"{key}={value}" for key, value in items.items()) + "}"
