"""The values that flow through the pipeline: the endpoint request, the integration result, the response."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# RFC 9110 §7.6.1 hop-by-hop headers, plus the ones the gateway recomputes for each leg (Host, length,
# Expect: the ASGI server already answered 100-continue).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
NOT_FORWARDED_TO_BACKEND = HOP_BY_HOP | {"host", "content-length", "expect"}
HOP_BY_HOP_BYTES = frozenset(name.encode() for name in HOP_BY_HOP)

# Backend headers that would clash with the gateway's own; AWS renames them with this prefix.
REMAPPED_RESPONSE_HEADERS = frozenset({b"date", b"server", b"x-amzn-requestid", b"x-amz-apigw-id"})
REMAPPED_PREFIX = b"x-amzn-remapped-"

JSON_CONTENT_TYPE = b"application/json"

# What HTTP/1.1 forbids in a field value. The ASGI server refuses such a header only after it has
# committed to the response, so the gateway must never hand it one.
INVALID_HEADER_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
# Statuses whose responses carry no body and must not carry Content-Length (RFC 9110 §8.6).
NO_BODY_STATUSES = frozenset({204, 304})

Headers = list[tuple[bytes, bytes]]


class IntegrationConfigError(Exception):
    """The integration cannot be called as configured (AWS answers API_CONFIGURATION_ERROR)."""


@dataclass(slots=True)
class Response:
    """A complete response; the ASGI layer adds the length (unless present) and the request-id headers."""

    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    has_content_length: bool = False


@dataclass(slots=True)
class EndpointRequest:
    """The request the gateway sends to an HTTP backend."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(slots=True)
class IntegrationResult:
    """What an integration answered, before the integration response is applied."""

    status: int
    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        """Return the first value of header `name` (case-insensitive), or None."""
        wanted = name.lower().encode("latin-1")
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None

    def header_values(self, name: str) -> list[str]:
        """Return every value of header `name` (case-insensitive)."""
        wanted = name.lower().encode("latin-1")
        return [value.decode("latin-1") for key, value in self.headers if key.lower() == wanted]


def proxy_response_headers(raw: Headers) -> tuple[Headers, bool]:
    """Return backend headers fit to relay (hop-by-hop dropped, clashes remapped) and whether a length is set."""
    connection_tokens: frozenset[bytes] = frozenset()
    for key, value in raw:
        if key.lower() == b"connection":
            # Headers named in Connection are hop-by-hop for this message too (RFC 9110 §7.6.1).
            connection_tokens = frozenset(token.strip().lower() for token in value.split(b","))
    out: Headers = []
    has_length = False
    for key, value in raw:
        name = key.lower()
        if name in HOP_BY_HOP_BYTES or name in connection_tokens or INVALID_HEADER_VALUE.search(value):
            continue
        if name in REMAPPED_RESPONSE_HEADERS:
            out.append((REMAPPED_PREFIX + name, value))
            continue
        if name == b"content-length":
            has_length = True
        out.append((name, value))
    return out, has_length
