"""Parameter mappings: `requestParameters` and `responseParameters` compiled into getters.

A mapping is `destination: source`. Sources are `'literal'`, `method.request.{path|querystring|
multivaluequerystring|header|multivalueheader}.NAME`, `method.request.body[.JSONPath]`,
`integration.response.{header|multivalueheader}.NAME`, `integration.response.body[.JSONPath]`,
`stageVariables.NAME` and `context.NAME`. Stage variables are known when a stage is compiled, so they
become literals then.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from gateway_runtime.messages import INVALID_HEADER_VALUE

if TYPE_CHECKING:
    from gateway_runtime.context import RequestContext

logger = logging.getLogger(__name__)

# RFC 9110 §5.6.2 token characters.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

Value = str | list[str] | None
Getter = Callable[["RequestContext"], Value]


def _json_path(text: str, path: str) -> Value:
    """Walk a JSON document along a dotted path (`a.b.0`), the subset of JSONPath mappings use."""
    try:
        node: object = json.loads(text)
    except ValueError:
        return None
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    if node is None:
        return None
    return node if isinstance(node, str) else json.dumps(node, separators=(",", ":"))


def _constant(value: str) -> Getter:
    return lambda ctx: value


def compile_source(expression: str, stage_variables: Mapping[str, str]) -> Getter | None:
    """Return a getter for a mapping source expression, or None when the expression is not understood."""
    expression = expression.strip()
    if len(expression) >= 2 and expression[0] == "'" and expression[-1] == "'":
        return _constant(expression[1:-1])
    if expression.startswith("stageVariables."):
        value = stage_variables.get(expression[len("stageVariables.") :])
        return None if value is None else _constant(str(value))
    if expression.startswith("context."):
        dotted = expression[len("context.") :]
        return lambda ctx: ctx.context_value(dotted)
    if expression.startswith("method.request."):
        return _method_request_source(expression[len("method.request.") :])
    if expression.startswith("integration.response."):
        return _integration_response_source(expression[len("integration.response.") :])
    return None


def _method_request_source(rest: str) -> Getter | None:
    kind, _, name = rest.partition(".")
    if kind == "body":
        if not name:
            return lambda ctx: ctx.body_text()
        return lambda ctx: _json_path(ctx.body_text(), name)
    if not name:
        return None
    if kind == "path":
        return lambda ctx: ctx.path_param(name)
    if kind == "querystring":
        return lambda ctx: ctx.query_first(name)
    if kind == "multivaluequerystring":
        return lambda ctx: ctx.query_all(name) or None
    if kind == "header":
        return lambda ctx: ctx.header(name)
    if kind == "multivalueheader":
        return lambda ctx: ctx.header_values(name) or None
    return None


def _integration_response_source(rest: str) -> Getter | None:
    kind, _, name = rest.partition(".")
    if kind == "body":
        if not name:
            return lambda ctx: ctx.result_body_text()
        return lambda ctx: _json_path(ctx.result_body_text(), name)
    if not name:
        return None
    if kind == "header":
        return lambda ctx: ctx.result.header(name) if ctx.result is not None else None
    if kind == "multivalueheader":
        return lambda ctx: (ctx.result.header_values(name) or None) if ctx.result is not None else None
    return None


def _values(value: Value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


@dataclass(slots=True)
class MappedRequest:
    """Integration request parameters produced by `requestParameters`, ready to apply."""

    path: dict[str, str] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)


EMPTY_MAPPED_REQUEST = MappedRequest()


@dataclass(slots=True)
class RequestMapping:
    """Compiled `integration.request.*` mappings of one integration."""

    path: list[tuple[str, Getter, str | None]] = field(default_factory=list)
    query: list[tuple[str, Getter]] = field(default_factory=list)
    headers: list[tuple[str, Getter]] = field(default_factory=list)

    def evaluate(self, ctx: RequestContext) -> MappedRequest:
        """Evaluate every mapping against the request; sources with no value are left out, as AWS does."""
        mapped = MappedRequest()
        for name, getter, raw_alias in self.path:
            if raw_alias is not None and raw_alias in ctx.raw_path_params:
                # Keep the client's own encoding (and a greedy value's slashes) when copying a path param.
                mapped.path[name] = ctx.raw_path_params[raw_alias]
                continue
            values = _values(getter(ctx))
            if values:
                mapped.path[name] = quote(values[0], safe="")
        for name, getter in self.query:
            mapped.query.extend((name, value) for value in _values(getter(ctx)))
        for name, getter in self.headers:
            mapped.headers.extend((name, value) for value in _values(getter(ctx)))
        return mapped


def compile_request_mapping(
    parameters: Mapping[str, str] | None, stage_variables: Mapping[str, str]
) -> RequestMapping | None:
    """Compile an integration's `requestParameters`; None when there are none."""
    if not parameters:
        return None
    mapping = RequestMapping()
    for destination, source in parameters.items():
        getter = compile_source(str(source), stage_variables)
        if getter is None:
            logger.warning("Ignoring unsupported mapping source %r for %r", source, destination)
            continue
        parts = destination.split(".", 3)
        if len(parts) != 4 or parts[:2] != ["integration", "request"]:
            logger.warning("Ignoring unsupported mapping destination %r", destination)
            continue
        kind, name = parts[2], parts[3]
        if kind == "path":
            alias = source[len("method.request.path.") :] if source.startswith("method.request.path.") else None
            mapping.path.append((name, getter, alias))
        elif kind in ("querystring", "multivaluequerystring"):
            mapping.query.append((name, getter))
        elif kind in ("header", "multivalueheader"):
            mapping.headers.append((name, getter))
        else:
            logger.warning("Ignoring unsupported mapping destination %r", destination)
    return mapping


@dataclass(slots=True)
class HeaderMapping:
    """Compiled response header mappings (`method.response.header.X` or `gatewayresponse.header.X`)."""

    headers: list[tuple[bytes, Getter]] = field(default_factory=list)

    def evaluate(self, ctx: RequestContext) -> list[tuple[bytes, bytes]]:
        """Return the mapped headers; a source with no value adds nothing."""
        out: list[tuple[bytes, bytes]] = []
        for name, getter in self.headers:
            for value in _values(getter(ctx)):
                encoded = value.encode("latin-1", "replace")
                # A value taken from a body may hold newlines; a header cannot.
                out.append((name, INVALID_HEADER_VALUE.sub(b" ", encoded)))
        return out


def compile_header_mapping(
    parameters: Mapping[str, str] | None, prefix: str, stage_variables: Mapping[str, str]
) -> HeaderMapping | None:
    """Compile `<prefix>NAME: source` header mappings; None when there are none."""
    if not parameters:
        return None
    mapping = HeaderMapping()
    for destination, source in parameters.items():
        if not destination.startswith(prefix):
            logger.warning("Ignoring unsupported response mapping destination %r", destination)
            continue
        getter = compile_source(str(source), stage_variables)
        if getter is None:
            logger.warning("Ignoring unsupported mapping source %r for %r", source, destination)
            continue
        name = destination[len(prefix) :]
        if not _HEADER_NAME.fullmatch(name):
            logger.warning("Ignoring mapping to invalid header name %r", name)
            continue
        mapping.headers.append((name.lower().encode("latin-1"), getter))
    return mapping if mapping.headers else None
