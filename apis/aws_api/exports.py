"""GetExport: a deployed stage as an OpenAPI 3.0 or Swagger 2.0 document, in JSON or YAML."""

from __future__ import annotations

from django.http import HttpResponse

from apis import openapi, selectors
from apis.aws_api.framework import Call
from apis.errors import BadRequest


def _media_type(accept: str) -> str:
    """Pick JSON or YAML from an Accept header; no header or `*/*` means JSON, as AWS answers."""
    ranges = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    if not ranges:
        return "application/json"
    for media_range in ranges:
        if media_range in openapi.MEDIA_TYPES:
            return media_range
        if media_range in {"*/*", "application/*"}:
            return "application/json"
    raise BadRequest(f"Unsupported export content type specified: {accept}. Use application/json or application/yaml")


def get_export(call: Call) -> HttpResponse:
    api = selectors.rest_api_get(api_id=call.params["restapi_id"])
    stage = selectors.stage_get(api=api, stage_name=call.params["stage_name"])
    export_type = call.params["export_type"]
    if export_type not in openapi.EXPORT_TYPES:
        raise BadRequest(f"Invalid export type specified: {export_type}. Use oas30 or swagger")
    media_type = _media_type(call.headers.get("Accept", ""))
    deployment = stage.deployment
    document = openapi.stage_export(
        snapshot=deployment.snapshot,
        stage_name=stage.stage_name,
        deployed_at=deployment.created_date,
        export_type=export_type,
        extensions=openapi.parse_extensions(call.query.get("extensions")),
    )
    response = HttpResponse(openapi.render(document, media_type), content_type=media_type)
    extension = "yaml" if media_type == "application/yaml" else "json"
    response["Content-Disposition"] = f'attachment; filename="{api.id}-{stage.stage_name}-{export_type}.{extension}"'
    return response
