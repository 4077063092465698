"""Portico additions to this client: retries of 429 and 503 answers, and the API key in `x-api-key`.

Every `Client` and `AuthenticatedClient` of this package sends its requests through `RetryTransport`
(`AsyncRetryTransport` for the async client) unless you pass a transport of your own in `httpx_args`.
A 429 (throttled, quota exceeded) or 503 answer is retried up to `max_retries` times: after the number of
seconds in its `Retry-After` header when there is one, else after an exponential backoff with jitter.
An answer whose `Retry-After` is longer than `max_retry_after` (a daily quota that resets tonight) is
returned at once, as is the last answer once the retries are used up. The gateway refuses throttled
requests before they reach the API, so retrying them is safe for every method.

    from __PACKAGE__ import api_client, RetryPolicy

    client = api_client(api_key="...")  # the stage's URL, retries on
    client = api_client(api_key="...", retry=RetryPolicy(max_retries=5))
    client = api_client(api_key="...", retry=None)  # no retries
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

DEFAULT_BASE_URL = "__BASE_URL__"
API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before sending a refused request again."""

    max_retries: int = 3
    backoff: float = 0.5  # seconds before the first retry without Retry-After; doubles each time
    max_backoff: float = 20.0
    max_retry_after: float = 60.0  # a longer Retry-After is not waited for
    statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 503}))

    def delay(self, response: httpx.Response, retries_done: int) -> float | None:
        """Return the seconds to wait before the next try, or None when the answer should be returned."""
        if response.status_code not in self.statuses or retries_done >= self.max_retries:
            return None
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        ceiling = min(self.max_backoff, self.backoff * 2**retries_done)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def parse_retry_after(value: str | None) -> float | None:
    """Read a Retry-After header: delay-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


class RetryTransport(httpx.BaseTransport):
    """An httpx transport that sends a request again after a 429 or 503, as its RetryPolicy says."""

    def __init__(self, transport: httpx.BaseTransport | None = None, policy: RetryPolicy | None = None) -> None:
        self.transport = transport or httpx.HTTPTransport()
        self.policy = policy or RetryPolicy()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # a streamed body is kept, so it can be sent again
        retries = 0
        while True:
            response = self.transport.handle_request(request)
            delay = self.policy.delay(response, retries)
            if delay is None:
                return response
            response.close()
            time.sleep(delay)
            retries += 1

    def close(self) -> None:
        self.transport.close()


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """The asyncio twin of RetryTransport."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None, policy: RetryPolicy | None = None) -> None:
        self.transport = transport or httpx.AsyncHTTPTransport()
        self.policy = policy or RetryPolicy()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        retries = 0
        while True:
            response = await self.transport.handle_async_request(request)
            delay = self.policy.delay(response, retries)
            if delay is None:
                return response
            await response.aclose()
            await asyncio.sleep(delay)
            retries += 1

    async def aclose(self) -> None:
        await self.transport.aclose()


def _policy(httpx_args: dict[str, Any]) -> tuple[dict[str, Any], RetryPolicy | None]:
    args = dict(httpx_args)
    policy = args.pop("retry", RetryPolicy())
    return args, policy


def with_retries(httpx_args: dict[str, Any], *, verify: Any = True) -> dict[str, Any]:
    """Return httpx.Client arguments with the retrying transport, unless a transport is given or `retry` is None."""
    args, policy = _policy(httpx_args)
    if policy is None or "transport" in args:
        return args
    return {**args, "transport": RetryTransport(httpx.HTTPTransport(verify=verify), policy)}


def with_async_retries(httpx_args: dict[str, Any], *, verify: Any = True) -> dict[str, Any]:
    """Return httpx.AsyncClient arguments with the retrying transport, as `with_retries` does."""
    args, policy = _policy(httpx_args)
    if policy is None or "transport" in args:
        return args
    return {**args, "transport": AsyncRetryTransport(httpx.AsyncHTTPTransport(verify=verify), policy)}


def api_client(
    *,
    api_key: str,
    base_url: str = DEFAULT_BASE_URL,
    retry: RetryPolicy | None = RetryPolicy(),
    **kwargs: Any,
) -> Any:
    """Return an AuthenticatedClient that sends `api_key` in the `x-api-key` header, with retries."""
    from .client import AuthenticatedClient

    httpx_args = {**kwargs.pop("httpx_args", {}), "retry": retry}
    return AuthenticatedClient(
        base_url=base_url, token=api_key, prefix="", auth_header_name=API_KEY_HEADER, httpx_args=httpx_args, **kwargs
    )
