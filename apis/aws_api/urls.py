"""URLs of the AWS-compatible management API, mounted at /aws/."""

from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from apis.aws_api.framework import aws_error_response, url_patterns
from apis.aws_api.operations import OPERATIONS


@csrf_exempt
def unknown_operation(request: HttpRequest) -> HttpResponse:
    """Answer a path no operation serves the way AWS does, in JSON."""
    return aws_error_response(404, "UnknownOperationException", "Unknown operation")


urlpatterns = [*url_patterns(OPERATIONS), re_path(r"^.*$", unknown_operation)]
