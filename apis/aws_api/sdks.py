"""GetSdk, GetSdkTypes and GetSdkType: the developer portal's generated client SDKs, AWS-shaped.

GetSdk answers the zip of a ready build (application/octet-stream, as an attachment). The first call for
a stage's deployment queues the build (`portal.tasks.build_sdk`) and, like every call while it runs,
answers 429 `TooManyRequestsException` with `Retry-After`, which boto3 and the AWS CLI retry on their
own; a failed build answers 400 with the generator's message. `parameters` (AWS's per-type settings such
as `javaPackageName`) are accepted and ignored: package names come from the API's name.
"""

from __future__ import annotations

from django.http import HttpResponse

from apis import selectors
from apis.aws_api.framework import Call, aws_error_response, paginate
from apis.errors import BadRequest, NotFound
from portal import sdks
from portal import selectors as portal_selectors
from portal import services as portal_services
from portal.models import SdkBuildStatus

RETRY_AFTER_SECONDS = 5


def _sdk_type(sdk_type: sdks.SdkType) -> dict:
    return {
        "id": sdk_type.id,
        "friendlyName": sdk_type.friendly_name,
        "description": sdk_type.description,
        "configurationProperties": [],
    }


def get_sdk_types(call: Call) -> dict:
    return paginate(call, list(sdks.SDK_TYPES.values()), _sdk_type)


def get_sdk_type(call: Call) -> dict:
    found = sdks.SDK_TYPES.get(call.params["sdktype_id"])
    if found is None:
        raise NotFound("Invalid SDK type specified")
    return _sdk_type(found)


def get_sdk(call: Call) -> HttpResponse:
    api = selectors.rest_api_get(api_id=call.params["restapi_id"])
    stage = selectors.stage_get(api=api, stage_name=call.params["stage_name"])
    sdk_type = call.params["sdk_type"]
    if sdk_type not in sdks.SDK_TYPES:
        raise BadRequest(f"Invalid SDK type specified: {sdk_type}. Use one of {', '.join(sdks.SDK_TYPES)}")
    build = portal_services.sdk_build_request(stage=stage, sdk_type=sdk_type)
    build.refresh_from_db()  # with CELERY_TASK_ALWAYS_EAGER the build has just run
    if build.status == SdkBuildStatus.READY:
        path = portal_selectors.sdk_build_path(build=build)
        # Read whole: the operation layer passes on HttpResponse answers, and archives are small.
        response = HttpResponse(path.read_bytes(), content_type="application/octet-stream")
        name = portal_selectors.sdk_download_name(build=build, api_name=api.name)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    if build.status == SdkBuildStatus.FAILED:
        raise BadRequest(f"The {sdk_type} SDK could not be generated: {build.error}")
    response = aws_error_response(
        429,
        "TooManyRequestsException",
        f"The {sdk_type} SDK of stage {stage.stage_name} is being generated; call again in a few seconds",
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
