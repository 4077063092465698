"""URLs of the AWS-compatible management API, mounted at /aws/."""

from apis.aws_api.framework import url_patterns
from apis.aws_api.operations import OPERATIONS

urlpatterns = url_patterns(OPERATIONS)
