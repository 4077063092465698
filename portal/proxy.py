"""The try-it proxy: Swagger UI's calls, sent from the server to the gateway with the consumer's chosen key.

Because the call leaves from the server, the target API needs no CORS. It is SSRF-safe by construction:
the only host ever contacted is `settings.PORTAL_GATEWAY_URL`, and the path is always
`/_aws/execute-api/{apiId}/{stage}/...` of a published stage the consumer may see, with no `.`/`..`
segment that could climb out of it. Redirects are never followed.

Only what a call needs is forwarded: method, path, query string, body, Content-Type and Accept, plus the
chosen key as `x-api-key`. The consumer's cookies and headers stay behind, and of the answer only
content headers and `x-*` headers come back (never Set-Cookie, Location or WWW-Authenticate), served with a
sandboxing CSP so an API's HTML can never run as the portal.
"""

from __future__ import annotations

import http.client
import logging
import time
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse

from apis.secrets import decrypt
from portal import selectors

logger = logging.getLogger(__name__)

KEY_HEADER = "X-Portico-Key"  # the id of the consumer's key to call with, or "none"
NO_KEY = "none"
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept")
RETURNED_HEADERS = {"content-type", "content-language", "etag", "last-modified", "retry-after"}
WITHHELD_X_HEADERS = {"x-frame-options", "x-content-type-options", "x-xss-protection"}
PATH_SAFE = "/:@!$&'()*+,;=-._~"
ALLOWED_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def _message(status: int, message: str) -> JsonResponse:
    return JsonResponse({"message": message}, status=status)


def _within_rate(user_id: int) -> bool:
    """Count one try-it call against the consumer's per-minute allowance (atomic in Redis and locmem)."""
    window = int(time.time() // 60)
    counter = f"portal:try-it:{user_id}:{window}"
    cache.add(counter, 0, timeout=120)
    try:
        used = cache.incr(counter)
    except ValueError:  # evicted between add and incr
        cache.set(counter, 1, timeout=120)
        used = 1
    return used <= settings.PORTAL_TRY_IT_PER_MINUTE


def _target_path(api_id: str, stage_name: str, path: str, query: str) -> str | None:
    """Return the gateway path of a call, or None when the path tries to leave the stage."""
    if any(segment in {".", ".."} for segment in path.split("/")):
        return None
    target = f"/_aws/execute-api/{api_id}/{stage_name}/{quote(path, safe=PATH_SAFE)}"
    return f"{target}?{query}" if query else target


def _send(method: str, target: str, headers: dict[str, str], body: bytes) -> http.client.HTTPResponse:
    base = urlsplit(settings.PORTAL_GATEWAY_URL)
    connection_class = http.client.HTTPSConnection if base.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(base.hostname or "127.0.0.1", base.port, timeout=settings.PORTAL_TRY_IT_TIMEOUT)
    prefix = base.path.rstrip("/")
    connection.request(method, prefix + target, body=body or None, headers=headers)
    return connection.getresponse()


def api_proxy(request: HttpRequest, slug: str, path: str = "") -> HttpResponse:
    """Forward one try-it call of a signed-in consumer to the gateway and hand its answer back."""
    if not request.user.is_authenticated:
        return _message(401, "Sign in to try the API.")
    if request.method not in ALLOWED_METHODS:
        return _message(405, "Method not allowed.")
    key_ref = request.headers.get(KEY_HEADER)
    if not key_ref:
        # Only the try-it page sets it, so a link or a form elsewhere cannot make a consumer call an API.
        return _message(400, f"The {KEY_HEADER} header is required.")
    listing = selectors.listing_get(user=request.user, slug=slug)
    headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
    if key_ref != NO_KEY:
        key = selectors.consumer_key_get(consumer=request.user, key_id=key_ref)
        headers["x-api-key"] = decrypt(key.value_encrypted)
    target = _target_path(
        listing.stage.rest_api_id, listing.stage.stage_name, path, request.META.get("QUERY_STRING", "")
    )
    if target is None:
        return _message(400, "The path may not contain '.' or '..' segments.")
    if not _within_rate(request.user.pk):
        response = _message(429, "Too many try-it calls; wait a minute.")
        response["Retry-After"] = "60"
        return response
    try:
        upstream = _send(request.method or "GET", target, headers, request.body)
        body = upstream.read(MAX_RESPONSE_BYTES + 1)
    except (OSError, http.client.HTTPException) as exc:
        logger.warning("try-it call to the gateway failed: %s", exc)
        return _message(502, "The gateway could not be reached.")
    if len(body) > MAX_RESPONSE_BYTES:
        return _message(502, "The response is larger than the try-it console shows (10 MB).")
    response = HttpResponse(body, status=upstream.status)
    del response["Content-Type"]
    for name, value in upstream.getheaders():
        lowered = name.lower()
        if lowered in RETURNED_HEADERS or (lowered.startswith("x-") and lowered not in WITHHELD_X_HEADERS):
            response[name] = value
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
