"""The retry layer Portico adds to the generated Python client, on httpx's mock transport (no network)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import ModuleType

import httpx
import pytest

from portal.sdks import TEMPLATES


@pytest.fixture(scope="module")
def portico() -> ModuleType:
    spec = importlib.util.spec_from_file_location("portico_sdk_template", TEMPLATES / "python" / "portico.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def answers(*responses: httpx.Response) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A mock transport that answers with the given responses in turn, recording what it was sent."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0)

    return httpx.MockTransport(handler), seen


def test_a_429_is_retried_after_its_retry_after_and_the_body_is_sent_again(portico: ModuleType) -> None:
    mock, seen = answers(
        httpx.Response(429, headers={"Retry-After": "1"}, json={"message": "Too Many Requests"}),
        httpx.Response(200, json={"ok": True}),
    )
    client = httpx.Client(transport=portico.RetryTransport(mock), base_url="http://gateway.test")
    started = time.monotonic()
    answer = client.post("/pets", json={"name": "Rex"})
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.95
    assert [request.content for request in seen] == [b'{"name":"Rex"}'] * 2


def test_a_503_without_retry_after_backs_off_and_gives_up_after_max_retries(portico: ModuleType) -> None:
    mock, seen = answers(*[httpx.Response(503) for _ in range(3)])
    policy = portico.RetryPolicy(max_retries=2, backoff=0.01)
    client = httpx.Client(transport=portico.RetryTransport(mock, policy), base_url="http://gateway.test")
    assert client.get("/").status_code == 503
    assert len(seen) == 3


def test_a_long_retry_after_is_returned_at_once_and_other_errors_are_not_retried(portico: ModuleType) -> None:
    mock, seen = answers(httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(500))
    client = httpx.Client(transport=portico.RetryTransport(mock), base_url="http://gateway.test")
    started = time.monotonic()
    assert client.get("/").status_code == 429  # a daily quota: do not hang for an hour
    assert client.get("/").status_code == 500
    assert time.monotonic() - started < 0.5
    assert len(seen) == 2


def test_retry_after_may_be_an_http_date(portico: ModuleType) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=30)
    assert 28 <= portico.parse_retry_after(format_datetime(soon, usegmt=True)) <= 30
    assert portico.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert portico.parse_retry_after("soon") is None
    assert portico.parse_retry_after(None) is None


def test_the_async_transport_retries_too(portico: ModuleType) -> None:
    seen: list[int] = []
    queue = [httpx.Response(503, headers={"Retry-After": "0"}), httpx.Response(200)]

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        return queue.pop(0)

    async def call() -> int:
        transport = portico.AsyncRetryTransport(httpx.MockTransport(handler))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            return (await client.get("/")).status_code

    # In a thread of its own: Playwright's sync API may have left an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, call()).result() == 200
    assert len(seen) == 2


def test_client_arguments_get_the_retrying_transport_unless_told_otherwise(portico: ModuleType) -> None:
    wired = portico.with_retries({"timeout": 5}, verify=False)
    assert isinstance(wired["transport"], portico.RetryTransport)
    assert wired["timeout"] == 5
    assert "transport" not in portico.with_retries({"retry": None})
    own = httpx.MockTransport(lambda request: httpx.Response(200))
    assert portico.with_retries({"transport": own})["transport"] is own
    custom = portico.with_async_retries({"retry": portico.RetryPolicy(max_retries=7)})
    assert custom["transport"].policy.max_retries == 7
