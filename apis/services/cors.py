"""Enable CORS on a resource the way AWS's console does: an OPTIONS MOCK method answering the preflight."""

from __future__ import annotations

import json

from django.db import transaction

from apis import models as m
from apis.errors import BadRequest
from apis.patching import PatchOp
from apis.services import design

ALLOW_HEADERS = "Access-Control-Allow-Headers"
ALLOW_METHODS = "Access-Control-Allow-Methods"
ALLOW_ORIGIN = "Access-Control-Allow-Origin"
DEFAULT_ALLOW_HEADERS = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token"
JSON = "application/json"


def _header(name: str) -> str:
    return f"method.response.header.{name}"


def _literal(value: str) -> str:
    if "'" in value:
        raise BadRequest(f"Invalid CORS value: {value} (single quotes are not allowed)")
    return f"'{value}'"


@transaction.atomic
def resource_cors_enable(
    *,
    resource: m.Resource,
    allow_methods: list[str],
    allow_headers: str = DEFAULT_ALLOW_HEADERS,
    allow_origin: str = "*",
) -> m.Method:
    """Create (or recreate) the OPTIONS MOCK method and map the Allow-Origin header on the other methods."""
    verbs = sorted({verb.upper() for verb in allow_methods} | {"OPTIONS"})
    if not allow_origin.strip():
        raise BadRequest("Access-Control-Allow-Origin must not be empty")
    existing = m.Method.objects.filter(resource=resource, http_method="OPTIONS").first()
    if existing is not None:
        design.method_delete(method=existing)
    options = design.method_put(resource=resource, http_method="OPTIONS", authorization_type="NONE")
    design.method_response_put(
        method=options,
        status_code="200",
        response_parameters={
            _header(ALLOW_HEADERS): False,
            _header(ALLOW_METHODS): False,
            _header(ALLOW_ORIGIN): False,
        },
        response_models={JSON: "Empty"},
    )
    integration = design.integration_put(
        method=options,
        type="MOCK",
        request_templates={JSON: json.dumps({"statusCode": 200})},
        passthrough_behavior="WHEN_NO_MATCH",
    )
    design.integration_response_put(
        integration=integration,
        status_code="200",
        response_parameters={
            _header(ALLOW_HEADERS): _literal(allow_headers),
            _header(ALLOW_METHODS): _literal(",".join(verbs)),
            _header(ALLOW_ORIGIN): _literal(allow_origin),
        },
        response_templates={JSON: ""},
    )
    _map_origin_on_other_methods(resource, _literal(allow_origin))
    return options


def _map_origin_on_other_methods(resource: m.Resource, origin: str) -> None:
    """Add Allow-Origin to the 200 responses of the resource's non-proxy methods, as AWS's console does."""
    methods = m.Method.objects.filter(resource=resource).exclude(http_method="OPTIONS").select_related("integration")
    origin_header = _header(ALLOW_ORIGIN)
    for method in methods:
        integration = getattr(method, "integration", None)
        if integration is None or integration.type in {"HTTP_PROXY", "AWS_PROXY"}:
            continue
        response = method.method_responses.filter(status_code="200").first()
        if response is None:
            continue
        design.method_response_update(
            response=response,
            patch_operations=[PatchOp(op="add", path=f"/responseParameters/{origin_header}", value="false")],
        )
        mapped = integration.integration_responses.filter(status_code="200").first()
        if mapped is not None:
            design.integration_response_update(
                response=mapped,
                patch_operations=[PatchOp(op="add", path=f"/responseParameters/{origin_header}", value=origin)],
            )
