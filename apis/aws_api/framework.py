"""The wire layer of the management API: routing by operation, SigV4, JSON bodies, errors, paging, audit.

Each operation is a plain function taking a `Call` and returning the response body (a dict) or None. The
operation table in `operations.py` names them as AWS does; this module turns it into Django URL patterns
served by DRF views.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.urls import URLPattern, path
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from apis.aws_api.auth import Principal, authenticate, client_ip
from apis.errors import AccessDenied, ApiError, BadRequest
from apis.patching import PatchOp, parse_patch_operations
from apis.services.access import audit_record

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 25
MAX_LIMIT = 500


@dataclass
class Call:
    """One management API request, as operations see it."""

    params: dict[str, str]
    query: QueryDict
    raw_body: bytes
    principal: Principal
    headers: Mapping[str, str] = field(default_factory=dict)
    _body: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def user(self) -> Any:
        return self.principal.user

    @property
    def body(self) -> dict[str, Any]:
        """Return the JSON body as a dict; an empty body is {}; anything else that is not an object is a 400."""
        if self._body is None:
            if not self.raw_body.strip():
                self._body = {}
            else:
                try:
                    parsed = json.loads(self.raw_body)
                except (ValueError, UnicodeDecodeError):
                    raise BadRequest("Invalid JSON in request body") from None
                if not isinstance(parsed, dict):
                    raise BadRequest("Request body must be a JSON object")
                self._body = parsed
        return self._body

    def field(self, name: str, kind: type | tuple[type, ...], default: Any = None, *, required: bool = False) -> Any:
        """Return a body field checked against the type the service model declares."""
        value = self.body.get(name)
        if value is None:
            if required:
                raise BadRequest(f"{name} is required")
            return default
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BadRequest(f"Invalid value for {name}")
        return value

    def text(self, name: str, default: str = "", *, required: bool = False) -> str:
        return self.field(name, str, default, required=required)

    def flag(self, name: str, default: bool = False) -> bool:
        return self.field(name, bool, default)

    def mapping(self, name: str) -> dict | None:
        return self.field(name, dict)

    def patch_operations(self) -> list[PatchOp]:
        return parse_patch_operations(self.body.get("patchOperations"))

    def query_flag(self, name: str) -> bool:
        return (self.query.get(name) or "").lower() == "true"


def paginate(call: Call, items: Sequence[Any], render: Callable[[Any], dict]) -> dict:
    """Return one page of items under `item` with the `position` token of the next page, as AWS pages."""
    limit_text = call.query.get("limit")
    limit = DEFAULT_LIMIT
    if limit_text is not None:
        try:
            limit = int(limit_text)
        except ValueError:
            raise BadRequest("Invalid limit: must be an integer") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"Invalid limit: must be between 1 and {MAX_LIMIT}")
    offset = 0
    position = call.query.get("position")
    if position:
        try:
            offset = int(base64.urlsafe_b64decode(position.encode()).decode())
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise BadRequest("Invalid position token") from None
        if offset < 0:
            raise BadRequest("Invalid position token")
    page = list(items[offset : offset + limit + 1])
    body: dict[str, Any] = {"item": [render(x) for x in page[:limit]]}
    if len(page) > limit:
        body["position"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
    return body


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    uri: str
    handler: Callable[[Call], dict | HttpResponse | None]
    status: int = 200
    query_selector: tuple[str, str] | None = None  # e.g. ("mode", "import") distinguishes ImportApiKeys
    changes: bool | None = None  # None: every verb but GET changes something

    @property
    def param_names(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.uri)

    @property
    def writes(self) -> bool:
        return self.method != "GET" if self.changes is None else self.changes


def op(
    method: str,
    uri: str,
    name: str,
    handler: Callable[[Call], dict | HttpResponse | None],
    status: int = 200,
    when: tuple[str, str] | None = None,
    changes: bool | None = None,
) -> Operation:
    return Operation(
        name=name, method=method, uri=uri, handler=handler, status=status, query_selector=when, changes=changes
    )


def aws_error_response(status: int, error_type: str, message: str, request_id: str | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps({"message": message}), status=status, content_type="application/json")
    response["x-amzn-ErrorType"] = error_type
    response["x-amzn-RequestId"] = request_id or str(uuid.uuid4())
    return response


class SigV4Authentication(BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, Principal]:
        principal = authenticate(request._request)
        return principal.user, principal

    def authenticate_header(self, request: Any) -> str:
        return "AWS4-HMAC-SHA256"


class IsOwner(BasePermission):
    """Only owner accounts (staff) use the management API."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_active and user.is_staff):
            raise AccessDenied("User is not authorized to perform this operation")
        return True


class OperationView(APIView):
    authentication_classes = [SigV4Authentication]
    permission_classes = [IsOwner]
    operations: Sequence[Operation] = ()
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        self.request_id = str(uuid.uuid4())
        super().initial(request, *args, **kwargs)

    def perform_content_negotiation(self, request: Any, force: bool = False) -> tuple[Any, str]:
        # Answers are always JSON; `?format=` is an operation parameter here (ImportApiKeys), not DRF's override.
        renderer = self.get_renderers()[0]
        return renderer, renderer.media_type

    def _pick(self, request: Any) -> Operation | None:
        candidates = [o for o in self.operations if o.method == request.method]
        for candidate in candidates:
            if candidate.query_selector:
                key, value = candidate.query_selector
                if request.query_params.get(key) == value:
                    return candidate
        for candidate in candidates:
            if not candidate.query_selector:
                return candidate
        return None

    def dispatch_operation(self, request: Any, **params: str) -> HttpResponse:
        operation = self._pick(request)
        if operation is None:
            return aws_error_response(404, "UnknownOperationException", "Unknown operation", self.request_id)
        values = [params[f"p{i}"] for i in range(len(params))]
        named = dict(zip(operation.param_names, values, strict=True))
        call = Call(
            params=named,
            query=request.query_params,
            raw_body=request.body,
            principal=request.auth,
            headers=request.headers,
        )
        try:
            if operation.writes:
                with transaction.atomic():
                    body = operation.handler(call)
            else:
                body = operation.handler(call)
        except ApiError as exc:
            self._audit(request, operation, exc.status, exc.error_type, exc.message)
            return aws_error_response(exc.status, exc.error_type, exc.message, self.request_id)
        self._audit(request, operation, operation.status, created=_created_id(operation, body))
        if isinstance(body, HttpResponse):
            response = body  # an operation whose answer is not a JSON object (GetExport)
        elif body is None:
            response = HttpResponse(status=operation.status)
        else:
            response = HttpResponse(json.dumps(body), status=operation.status, content_type="application/json")
        response["x-amzn-RequestId"] = self.request_id
        return response

    def _audit(
        self,
        request: Any,
        operation: Operation,
        status: int,
        error_type: str = "",
        message: str = "",
        created: str = "",
    ) -> None:
        if not operation.writes:
            return
        principal: Principal = request.auth
        target = request.path.removeprefix("/aws")
        audit_record(
            user=principal.user,
            access_key_id=principal.access_key_id,
            source_ip=client_ip(request._request),
            operation=operation.name,
            target=f"{target}/{created}" if created else target,
            status=status,
            error_type=error_type,
            message=message,
        )

    get = post = put = patch = delete = dispatch_operation

    def handle_exception(self, exc: Exception) -> HttpResponse:
        request_id = getattr(self, "request_id", None)
        if isinstance(exc, ApiError):
            return aws_error_response(exc.status, exc.error_type, exc.message, request_id)
        from rest_framework import exceptions

        if isinstance(exc, exceptions.MethodNotAllowed):
            return aws_error_response(404, "UnknownOperationException", "Unknown operation", request_id)
        if isinstance(exc, exceptions.APIException):
            return aws_error_response(exc.status_code, "BadRequestException", str(exc.detail), request_id)
        logger.exception("management API operation failed")
        return aws_error_response(500, "InternalFailure", "Internal server error", request_id)


def _created_id(operation: Operation, body: dict | HttpResponse | None) -> str:
    """Name what a POST create made (AWS's URI names it only in the answer), so the audit shows its id."""
    if operation.method != "POST" or operation.status != 201 or not isinstance(body, dict):
        return ""
    if isinstance(body.get("ids"), list):  # ImportApiKeys
        return ",".join(body["ids"])
    for name in ("id", "stageName", "domainName", "basePath"):
        if isinstance(body.get(name), str):
            return body[name]
    return ""


def _shape(uri: str) -> str:
    return re.sub(r"\{\w+\}", "{}", uri)


def _django_route(uri: str) -> str:
    counter = iter(range(100))

    def convert(match: re.Match[str]) -> str:
        # ARNs and multi-level base paths (`v2/orders`) reach the view with their slashes decoded.
        converter = "path" if match[1] in {"resource_arn", "base_path"} else "str"
        return f"<{converter}:p{next(counter)}>"

    return re.sub(r"\{(\w+)\}", convert, uri).lstrip("/")


def url_patterns(operations: Sequence[Operation]) -> list[URLPattern]:
    """Group operations by URI shape (AWS names one path's variable differently per verb) into URL patterns."""
    by_shape: dict[str, list[Operation]] = {}
    for operation in operations:
        by_shape.setdefault(_shape(operation.uri), []).append(operation)
    patterns = []
    for ops in by_shape.values():
        view = OperationView.as_view(operations=tuple(ops))
        patterns.append(path(_django_route(ops[0].uri), view, name=ops[0].name))
    return patterns
