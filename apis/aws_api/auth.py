"""SigV4 authentication of the management API, verified with botocore's own signer."""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from apis import models as m
from apis.errors import ApiError
from apis.secrets import decrypt

SERVICE = "apigateway"
AUTH_HEADER = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/\s,]+)/(?P<date>\d{8})/(?P<region>[^/\s,]+)/(?P<service>[^/\s,]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9\-;]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
AMZ_DATE = "%Y%m%dT%H%M%SZ"


class AuthError(ApiError):
    status = 403

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class TooManyFailures(ApiError):
    status = 429
    error_type = "TooManyRequestsException"


@dataclass(frozen=True)
class Principal:
    user: object
    access_key_id: str


def _failure_key(access_key_id: str, source_ip: str) -> str:
    return f"portico:sigv4-failures:{access_key_id}:{source_ip}"


def _count_failure(access_key_id: str, source_ip: str) -> None:
    key = _failure_key(access_key_id, source_ip)
    window = settings.SIGV4_FAILED_ATTEMPTS_WINDOW
    if cache.add(key, 1, timeout=window):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)


def _check_failure_budget(access_key_id: str, source_ip: str) -> None:
    failures = cache.get(_failure_key(access_key_id, source_ip)) or 0
    if failures >= settings.SIGV4_FAILED_ATTEMPTS_LIMIT:
        raise TooManyFailures("Too many failed authentication attempts; try again later")


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _raw_url(request: HttpRequest) -> str:
    scope = getattr(request, "scope", None)
    if scope and scope.get("raw_path"):
        path = scope["raw_path"].decode("latin-1")
    else:
        from urllib.parse import quote

        path = quote(request.path, safe="/~!$&'()*+,;=:@%")
    query = request.META.get("QUERY_STRING", "")
    host = request.headers.get("Host", "localhost")
    return f"http://{host}{path}" + (f"?{query}" if query else "")


def _parse_amz_date(request: HttpRequest) -> tuple[str, dt.datetime]:
    stamp = request.headers.get("X-Amz-Date", "")
    try:
        when = dt.datetime.strptime(stamp, AMZ_DATE).replace(tzinfo=dt.UTC)
    except ValueError:
        raise AuthError(
            "IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' header"
        ) from None
    return stamp, when


def authenticate(request: HttpRequest) -> Principal:
    """Verify the request's SigV4 signature and return who made it, or raise an AWS-style 403."""
    header = request.headers.get("Authorization", "")
    if not header:
        raise AuthError("MissingAuthenticationTokenException", "Missing Authentication Token")
    match = AUTH_HEADER.match(header.strip())
    if match is None:
        raise AuthError(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters "
            "with AWS4-HMAC-SHA256.",
        )
    access_key_id = match["key"]
    source_ip = client_ip(request)
    _check_failure_budget(access_key_id, source_ip)

    key = m.AccessKey.objects.select_related("user").filter(access_key_id=access_key_id).first()
    if key is None or not key.user.is_active:
        _count_failure(access_key_id, source_ip)
        raise AuthError("UnrecognizedClientException", "The security token included in the request is invalid.")

    stamp, when = _parse_amz_date(request)
    now = timezone.now()
    skew = settings.SIGV4_MAX_SKEW_SECONDS
    if abs((now - when).total_seconds()) > skew:
        _count_failure(access_key_id, source_ip)
        earliest = (now - dt.timedelta(seconds=skew)).strftime(AMZ_DATE)
        raise AuthError(
            "InvalidSignatureException",
            f"Signature expired: {stamp} is now earlier than {earliest} ({now.strftime(AMZ_DATE)} - 5 min.)"
            if when < now
            else f"Signature not yet current: {stamp} is still later than "
            f"{(now + dt.timedelta(seconds=skew)).strftime(AMZ_DATE)} ({now.strftime(AMZ_DATE)} + 5 min.)",
        )
    if match["date"] != stamp[:8] or match["service"] != SERVICE:
        _count_failure(access_key_id, source_ip)
        raise AuthError("InvalidSignatureException", "Credential should be scoped to a valid region and service.")

    expected = _expected_signature(request, key, match["region"], match["signed"].split(";"), stamp)
    if not hmac.compare_digest(expected, match["signature"]):
        _count_failure(access_key_id, source_ip)
        raise AuthError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details.",
        )
    m.AccessKey.objects.filter(pk=key.pk).update(last_used_date=now)
    return Principal(user=key.user, access_key_id=access_key_id)


def _expected_signature(
    request: HttpRequest, key: m.AccessKey, region: str, signed_headers: list[str], stamp: str
) -> str:
    try:
        secret = decrypt(key.secret_encrypted)
    except ValueError:
        raise AuthError(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        ) from None
    headers = {}
    for name in signed_headers:
        value = request.headers.get(name)
        if value is None:
            raise AuthError("InvalidSignatureException", f"Signed header '{name}' is missing from the request.")
        headers[name] = value
    aws_request = AWSRequest(method=request.method, url=_raw_url(request), headers=headers, data=request.body)
    aws_request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(key.access_key_id, secret), SERVICE, region)
    canonical = signer.canonical_request(aws_request)
    return signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
