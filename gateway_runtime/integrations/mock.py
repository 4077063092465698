"""MOCK: answer from the configuration alone; the request template's `statusCode` picks the response."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING

from gateway_runtime.messages import IntegrationResult

if TYPE_CHECKING:
    from gateway_runtime.context import RequestContext


# Request templates of MOCK methods are nearly always static text: parse each distinct body once.
@lru_cache(maxsize=1024)
def _status_code(body: bytes) -> int:
    """Read `statusCode` from the transformed request body; AWS answers 200 when there is none."""
    try:
        document = json.loads(body) if body.strip() else None
    except ValueError:
        return 200
    if not isinstance(document, dict):
        return 200
    try:
        status = int(document.get("statusCode", 200))
    except (TypeError, ValueError):
        return 200
    return status if 100 <= status <= 599 else 200


async def invoke(ctx: RequestContext) -> IntegrationResult:
    """Return an empty result whose status comes from the request template."""
    status = _status_code(ctx.endpoint_body)
    if ctx.log is not None:
        ctx.log_line(f"Received response. Status: {status}, Integration latency: 0 ms")
    return IntegrationResult(status=status, headers=[], body=b"")
