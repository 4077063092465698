"""Compile stage and domain configs (docs/runtime-config.md) into the structures the hot path reads.

Everything that does not depend on the request is worked out here, once per stage revision: the router,
stage variables substituted into integration URIs, regexes, templates, mappings, timeouts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway_runtime.config import DEFAULT_TIMEOUT_MS, stage_key
from gateway_runtime.integrations import INTEGRATIONS, PROXY_TYPES, SELF_TIMED_TYPES
from gateway_runtime.limits import NO_STAGE_LIMITS, Bucket, StageLimits, compile_stage_limits, stage_bucket
from gateway_runtime.mapping import (
    HeaderMapping,
    RequestMapping,
    compile_header_mapping,
    compile_request_mapping,
)
from gateway_runtime.messages import IntegrationConfigError, IntegrationResult
from gateway_runtime.responses import GatewayResponses, compile_gateway_responses
from gateway_runtime.router import Router
from gateway_runtime.templates import SubstitutionTemplate, compile_template

if TYPE_CHECKING:
    from gateway_runtime.context import RequestContext

logger = logging.getLogger(__name__)

Invoke = Callable[["RequestContext"], Awaitable[IntegrationResult]]

MIN_TIMEOUT_MS = 50
MAX_TIMEOUT_MS = 29_000
PASSTHROUGH_BEHAVIORS = frozenset({"WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"})

_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([^}]+)\}")
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\-]+)\}")


class UriTemplate:
    """An integration URI with stage variables already substituted and `{name}` placeholders left."""

    __slots__ = ("parts", "source", "static")

    def __init__(self, source: str):
        self.source = source
        parts: list[str | tuple[str]] = []
        position = 0
        for match in _PLACEHOLDER.finditer(source):
            parts.append(source[position : match.start()])
            parts.append((match.group(1),))
            position = match.end()
        parts.append(source[position:])
        self.parts = tuple(part for part in parts if part != "")
        self.static: str | None = None if any(isinstance(part, tuple) for part in self.parts) else source

    def render(self, values: Mapping[str, str]) -> str:
        """Return the URI with each placeholder replaced by its (already URL-encoded) value."""
        if self.static is not None:
            return self.static
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = values.get(part[0])
            if value is None:
                raise IntegrationConfigError(f"No value for {{{part[0]}}} in the integration URI")
            out.append(value)
        return "".join(out)


@dataclass(slots=True)
class CompiledIntegrationResponse:
    """One integration response, picked by its selection pattern."""

    status: int
    pattern: re.Pattern[str] | None
    headers: HeaderMapping | None
    templates: dict[str, SubstitutionTemplate]


@dataclass(slots=True)
class CompiledIntegration:
    """A method's integration, ready to run."""

    type: str
    invoke: Invoke | None
    is_proxy: bool
    http_method: str
    uri: UriTemplate
    timeout_s: float | None
    # True when invoke itself answers TimeoutError after timeout_s (integrations.SELF_TIMED_TYPES).
    self_timed: bool
    request_mapping: RequestMapping | None
    request_templates: dict[str, SubstitutionTemplate]
    passthrough: str
    content_handling: str | None
    patterned_responses: tuple[CompiledIntegrationResponse, ...]
    default_response: CompiledIntegrationResponse | None

    def select_response(self, status: int) -> CompiledIntegrationResponse | None:
        """Return the response whose pattern fully matches the status code, else the default one."""
        text = str(status)
        for response in self.patterned_responses:
            assert response.pattern is not None
            if response.pattern.fullmatch(text):
                return response
        return self.default_response


@dataclass(slots=True)
class CompiledMethod:
    """A method of a resource, as the router hands it to the pipeline."""

    resource_id: str
    resource_path: str
    http_method: str
    operation_name: str | None
    api_key_required: bool
    authorization_type: str
    integration: CompiledIntegration | None
    definition: dict[str, Any]
    # The stage-tier throttle bucket of this method (its method settings, else the stage default), if any.
    stage_bucket: Bucket | None = None


@dataclass(slots=True)
class CompiledStage:
    """Everything the gateway needs to serve one stage."""

    api_id: str
    stage_name: str
    revision: int
    deployment_id: str | None
    execute_api_disabled: bool
    router: Router[CompiledMethod]
    methods_by_id: dict[tuple[str, str], CompiledMethod]
    gateway_responses: GatewayResponses
    variables: dict[str, str]
    binary_media_types: tuple[str, ...]
    config: dict[str, Any] = field(repr=False)
    key: str = ""  # "{apiId}/{stageName}", as usage plans and the keyring name the stage
    api_key_source: str = "HEADER"
    limits: StageLimits = NO_STAGE_LIMITS

    def is_binary(self, content_type: str | None) -> bool:
        """Return True when a content type is one of the API's binary media types."""
        if not content_type or not self.binary_media_types:
            return False
        media_type = content_type.split(";", 1)[0].strip().lower()
        major = media_type.split("/", 1)[0]
        return any(
            candidate in (media_type, "*/*") or candidate == f"{major}/*" for candidate in self.binary_media_types
        )


def _timeout_seconds(value: Any, default_ms: int) -> float:
    try:
        milliseconds = int(value) if value is not None else default_ms
    except (TypeError, ValueError):
        milliseconds = default_ms
    return min(max(milliseconds, MIN_TIMEOUT_MS), MAX_TIMEOUT_MS) / 1000


def _compile_pattern(pattern: str, where: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        logger.warning("Selection pattern %r of %s is not a valid regex; it never matches", pattern, where)
        return None


def _compile_templates(templates: Mapping[str, str] | None) -> dict[str, SubstitutionTemplate]:
    return {key.lower(): compile_template(text) for key, text in (templates or {}).items()}


def compile_integration(
    integration: dict[str, Any], variables: Mapping[str, str], *, default_timeout_ms: int, where: str
) -> CompiledIntegration:
    """Compile a `methodIntegration` for a stage whose variables are known."""
    kind = str(integration.get("type") or "").upper()
    uri = _STAGE_VARIABLE.sub(lambda match: str(variables.get(match.group(1), "")), integration.get("uri") or "")
    patterned: list[CompiledIntegrationResponse] = []
    default: CompiledIntegrationResponse | None = None
    for key, item in (integration.get("integrationResponses") or {}).items():
        try:
            status = int(item.get("statusCode") or key)
        except (TypeError, ValueError):
            logger.warning("Ignoring integration response %r of %s: bad status code", key, where)
            continue
        selection = item.get("selectionPattern")
        response = CompiledIntegrationResponse(
            status=status,
            pattern=None,
            headers=compile_header_mapping(item.get("responseParameters"), "method.response.header.", variables),
            templates=_compile_templates(item.get("responseTemplates")),
        )
        if selection in (None, ""):
            default = response
            continue
        response.pattern = _compile_pattern(str(selection), where)
        if response.pattern is not None:
            patterned.append(response)
    passthrough = str(integration.get("passthroughBehavior") or "WHEN_NO_MATCH").upper()
    if passthrough not in PASSTHROUGH_BEHAVIORS:
        passthrough = "WHEN_NO_MATCH"
    invoke = INTEGRATIONS.get(kind)
    if invoke is None:
        logger.warning("Integration type %r of %s is not supported yet", kind, where)
    return CompiledIntegration(
        type=kind,
        invoke=invoke,
        is_proxy=kind in PROXY_TYPES,
        http_method=str(integration.get("httpMethod") or "ANY").upper(),
        uri=UriTemplate(uri),
        timeout_s=None if kind == "MOCK" else _timeout_seconds(integration.get("timeoutInMillis"), default_timeout_ms),
        self_timed=kind in SELF_TIMED_TYPES,
        request_mapping=compile_request_mapping(integration.get("requestParameters"), variables),
        request_templates=_compile_templates(integration.get("requestTemplates")),
        passthrough=passthrough,
        content_handling=integration.get("contentHandling"),
        patterned_responses=tuple(patterned),
        default_response=default,
    )


def compile_stage(config: dict[str, Any], *, default_timeout_ms: int = DEFAULT_TIMEOUT_MS) -> CompiledStage:
    """Compile one stage config (snapshot + stage settings) into a router and its methods."""
    snapshot = config.get("snapshot") or {}
    rest_api = snapshot.get("restApi") or {}
    api_id = str(config.get("apiId") or rest_api.get("id") or "")
    variables = {str(key): str(value) for key, value in (config.get("variables") or {}).items()}
    stage_name = str(config.get("stageName") or "")
    key = stage_key(api_id, stage_name)
    limits = compile_stage_limits(config)
    router: Router[CompiledMethod] = Router()
    methods_by_id: dict[tuple[str, str], CompiledMethod] = {}
    for resource in snapshot.get("resources") or ():
        path = resource.get("path") or "/"
        for verb, definition in (resource.get("resourceMethods") or {}).items():
            verb = verb.upper()
            where = f"{api_id} {verb} {path}"
            integration = definition.get("methodIntegration")
            method = CompiledMethod(
                resource_id=str(resource.get("id") or ""),
                resource_path=path,
                http_method=verb,
                operation_name=definition.get("operationName"),
                api_key_required=bool(definition.get("apiKeyRequired")),
                authorization_type=str(definition.get("authorizationType") or "NONE"),
                integration=(
                    compile_integration(integration, variables, default_timeout_ms=default_timeout_ms, where=where)
                    if integration
                    else None
                ),
                definition=definition,
                stage_bucket=stage_bucket(limits, key, path, verb),
            )
            router.add(path, verb, method)
            methods_by_id[(method.resource_id, verb)] = method
    return CompiledStage(
        api_id=api_id,
        stage_name=stage_name,
        revision=int(config.get("revision") or 0),
        deployment_id=config.get("deploymentId"),
        execute_api_disabled=bool(rest_api.get("disableExecuteApiEndpoint")),
        router=router,
        methods_by_id=methods_by_id,
        gateway_responses=compile_gateway_responses(snapshot.get("gatewayResponses"), variables),
        variables=variables,
        binary_media_types=tuple(str(item).lower() for item in rest_api.get("binaryMediaTypes") or ()),
        config=config,
        key=key,
        api_key_source=str(rest_api.get("apiKeySource") or "HEADER").upper(),
        limits=limits,
    )


@dataclass(frozen=True, slots=True)
class BasePathMapping:
    """Where a base path of a custom domain leads; `stage` None means "the next path segment"."""

    api_id: str
    stage: str | None


@dataclass(frozen=True, slots=True)
class CompiledDomain:
    """A custom domain name's base path mappings, keyed by base path ("" for `(none)`)."""

    name: str
    mappings: dict[str, BasePathMapping]
    max_depth: int


def compile_domains(domains: list[dict[str, Any]]) -> dict[str, CompiledDomain]:
    """Compile every domain config, keyed by lower-case host name."""
    compiled: dict[str, CompiledDomain] = {}
    for domain in domains:
        name = str(domain.get("domainName") or "").lower().rstrip(".")
        if not name:
            continue
        mappings: dict[str, BasePathMapping] = {}
        for item in domain.get("mappings") or ():
            base_path = str(item.get("basePath") or "").strip("/")
            if base_path == "(none)":
                base_path = ""
            mappings[base_path] = BasePathMapping(
                api_id=str(item.get("restApiId") or ""), stage=item.get("stage") or None
            )
        max_depth = max((len(path.split("/")) for path in mappings if path), default=0)
        compiled[name] = CompiledDomain(name=name, mappings=mappings, max_depth=max_depth)
    return compiled
