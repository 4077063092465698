"""Gateway responses: the errors the gateway itself answers, shaped and customisable as in AWS.

Each error has an AWS response type with a default status, message and `x-amzn-ErrorType`. An API may put
its own gateway response for a type (status, `gatewayresponse.header.X` parameters, templates); a type
it has not customised falls back to its DEFAULT_4XX or DEFAULT_5XX customisation, and then to AWS's
default: `{"message": "..."}` as application/json.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway_runtime.mapping import HeaderMapping, compile_header_mapping
from gateway_runtime.messages import JSON_CONTENT_TYPE, Response
from gateway_runtime.templates import SubstitutionTemplate, compile_template

if TYPE_CHECKING:
    from gateway_runtime.context import RequestContext

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ErrorKind:
    """One AWS gateway response type with its defaults."""

    response_type: str
    status: int
    message: str
    error_type: str


ACCESS_DENIED = ErrorKind(
    "ACCESS_DENIED", 403, "User is not authorized to access this resource", "AccessDeniedException"
)
API_CONFIGURATION_ERROR = ErrorKind(
    "API_CONFIGURATION_ERROR", 500, "Internal server error", "InternalServerErrorException"
)
AUTHORIZER_CONFIGURATION_ERROR = ErrorKind(
    "AUTHORIZER_CONFIGURATION_ERROR", 500, "Internal server error", "InternalServerErrorException"
)
AUTHORIZER_FAILURE = ErrorKind("AUTHORIZER_FAILURE", 500, "Internal server error", "InternalServerErrorException")
BAD_REQUEST_BODY = ErrorKind("BAD_REQUEST_BODY", 400, "Invalid request body", "BadRequestException")
BAD_REQUEST_PARAMETERS = ErrorKind(
    "BAD_REQUEST_PARAMETERS", 400, "Missing required request parameters", "BadRequestException"
)
EXPIRED_TOKEN = ErrorKind("EXPIRED_TOKEN", 403, "Token expired", "ExpiredTokenException")
INTEGRATION_FAILURE = ErrorKind("INTEGRATION_FAILURE", 504, "Internal server error", "InternalServerErrorException")
INTEGRATION_TIMEOUT = ErrorKind(
    "INTEGRATION_TIMEOUT", 504, "Endpoint request timed out", "InternalServerErrorException"
)
INVALID_API_KEY = ErrorKind("INVALID_API_KEY", 403, "Forbidden", "ForbiddenException")
INVALID_SIGNATURE = ErrorKind("INVALID_SIGNATURE", 403, "Invalid signature", "InvalidSignatureException")
MISSING_AUTHENTICATION_TOKEN = ErrorKind(
    "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token", "MissingAuthenticationTokenException"
)
QUOTA_EXCEEDED = ErrorKind("QUOTA_EXCEEDED", 429, "Limit Exceeded", "LimitExceededException")
REQUEST_TOO_LARGE = ErrorKind("REQUEST_TOO_LARGE", 413, "Request Too Long", "RequestTooLargeException")
RESOURCE_NOT_FOUND = ErrorKind("RESOURCE_NOT_FOUND", 404, "Not Found", "ResourceNotFoundException")
THROTTLED = ErrorKind("THROTTLED", 429, "Too Many Requests", "TooManyRequestsException")
UNAUTHORIZED = ErrorKind("UNAUTHORIZED", 401, "Unauthorized", "UnauthorizedException")
UNSUPPORTED_MEDIA_TYPE = ErrorKind("UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported Media Type", "BadRequestException")
WAF_FILTERED = ErrorKind("WAF_FILTERED", 403, "Forbidden", "WafFilteredException")
# The counter store is down and the stage fails closed. AWS has no such type; the API's DEFAULT_5XX applies.
COUNTERS_UNAVAILABLE = ErrorKind("DEFAULT_5XX", 503, "Service Unavailable", "ServiceUnavailableException")
# Not a customisable type: unknown API/stage, or the execute-api endpoint disabled. AWS answers before
# it knows which API's gateway responses would apply.
FORBIDDEN = ErrorKind("FORBIDDEN", 403, "Forbidden", "ForbiddenException")

DEFAULT_MESSAGE_TEMPLATE = '{"message":$context.error.messageString}'


def json_message(message: str) -> bytes:
    """Return AWS's default error body for a message."""
    return json.dumps({"message": message}, separators=(",", ":")).encode()


def default_error(kind: ErrorKind, *, status: int | None = None, message: str | None = None) -> Response:
    """Return AWS's uncustomised response for an error."""
    return Response(
        status=status or kind.status,
        headers=[(b"content-type", JSON_CONTENT_TYPE), (b"x-amzn-errortype", kind.error_type.encode())],
        body=json_message(message or kind.message),
    )


def unexpected_failure() -> Response:
    """Answer a failure of the gateway itself like AWS's "Internal server error", as a 502.

    Never 500: that status is left to what an API owner's configuration asks for (API_CONFIGURATION_ERROR).
    """
    return default_error(INTEGRATION_FAILURE, status=502)


@dataclass(slots=True)
class CustomGatewayResponse:
    """An owner's gateway response for one type, compiled."""

    status: int | None
    headers: HeaderMapping | None
    templates: dict[str, SubstitutionTemplate]


def select_template(templates: Mapping[str, SubstitutionTemplate], accept: str | None) -> str | None:
    """Pick a template key by the Accept header, then application/json, then the first one."""
    if not templates:
        return None
    if accept:
        for item in accept.split(","):
            media_type = item.split(";", 1)[0].strip().lower()
            if media_type in templates:
                return media_type
    if "application/json" in templates:
        return "application/json"
    return next(iter(templates))


class GatewayResponses:
    """One API's gateway responses: its customisations over AWS's defaults."""

    __slots__ = ("custom",)

    def __init__(self, custom: dict[str, CustomGatewayResponse]):
        self.custom = custom

    def render(
        self, ctx: RequestContext | None, kind: ErrorKind, *, status: int | None = None, message: str | None = None
    ) -> Response:
        """Return the response for an error, applying this API's customisation when there is one."""
        base_status = status or kind.status
        custom = self.custom.get(kind.response_type)
        if custom is None:
            family = "DEFAULT_4XX" if base_status < 500 else "DEFAULT_5XX"
            custom = self.custom.get(family)
        text = message or kind.message
        if ctx is not None:
            # $context.error, and what metering reads to flag throttled and quota-refused requests.
            ctx.error = (kind, text)
        if custom is None or ctx is None:
            return default_error(kind, status=base_status, message=message)
        headers = [(b"x-amzn-errortype", kind.error_type.encode())]
        key = select_template(custom.templates, ctx.header("accept"))
        if key is None:
            body = json_message(text)
            headers.append((b"content-type", JSON_CONTENT_TYPE))
        else:
            body = custom.templates[key].render_bytes(lambda: ctx.template_scope(lambda: ""))
            headers.append((b"content-type", key.encode("latin-1")))
        if custom.headers is not None:
            mapped = custom.headers.evaluate(ctx)
            names = {name for name, _ in mapped}
            headers = [header for header in headers if header[0] not in names] + mapped
        return Response(status=custom.status or base_status, headers=headers, body=body)


NO_CUSTOM_RESPONSES = GatewayResponses({})


def compile_gateway_responses(items: list[dict] | None, stage_variables: Mapping[str, str]) -> GatewayResponses:
    """Compile a snapshot's `gatewayResponses` list."""
    custom: dict[str, CustomGatewayResponse] = {}
    for item in items or ():
        response_type = item.get("responseType")
        if not response_type:
            continue
        status_text = item.get("statusCode")
        try:
            status = int(status_text) if status_text not in (None, "") else None
        except (TypeError, ValueError):
            logger.warning("Ignoring gateway response %s status %r", response_type, status_text)
            status = None
        templates = {
            content_type.lower(): compile_template(text)
            for content_type, text in (item.get("responseTemplates") or {}).items()
        }
        # A customisation that sets no template keeps AWS's default body for its content type.
        templates = templates or {"application/json": compile_template(DEFAULT_MESSAGE_TEMPLATE)}
        custom[response_type] = CustomGatewayResponse(
            status=status,
            headers=compile_header_mapping(item.get("responseParameters"), "gatewayresponse.header.", stage_variables),
            templates=templates,
        )
    return GatewayResponses(custom) if custom else NO_CUSTOM_RESPONSES
