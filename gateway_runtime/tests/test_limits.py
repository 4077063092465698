"""Limits and failures: integration timeout, unreachable backend, request body size."""

from __future__ import annotations

import time

from gateway_runtime.config import GatewaySettings
from gateway_runtime.tests import snapshots
from gateway_runtime.tests.conftest import StartGateway
from gateway_runtime.tests.servers import Backend
from gateway_runtime.tests.snapshots import http, http_proxy

LIMIT = GatewaySettings().max_body_bytes


def test_it_answers_504_when_the_backend_outlives_the_integration_timeout(
    start_gateway: StartGateway, backend: Backend
) -> None:
    integration = http_proxy(f"{backend.url}/slow?seconds=3", timeoutInMillis=1000)
    gateway = start_gateway([snapshots.stage({("/slow", "GET"): integration})])

    started = time.monotonic()
    reply = gateway.request("GET", "/prod/slow")
    elapsed = time.monotonic() - started

    assert reply.status == 504
    assert reply.json() == {"message": "Endpoint request timed out"}
    assert 1.0 <= elapsed <= 1.3


def test_it_waits_for_a_backend_within_the_timeout(start_gateway: StartGateway, backend: Backend) -> None:
    integration = http(f"{backend.url}/slow?seconds=0.2", http_method="GET", timeoutInMillis=1000)
    gateway = start_gateway([snapshots.stage({("/slow", "GET"): integration})])

    reply = gateway.request("GET", "/prod/slow")

    assert reply.status == 200
    assert reply.json() == {"slow": True}


def test_it_answers_502_when_the_backend_is_unreachable(start_gateway: StartGateway, refused_port: int) -> None:
    port = refused_port
    gateway = start_gateway(
        [
            snapshots.stage(
                {
                    ("/proxy", "GET"): http_proxy(f"http://127.0.0.1:{port}/x"),
                    ("/http", "GET"): http(f"http://127.0.0.1:{port}/x", http_method="GET"),
                }
            )
        ]
    )

    for path in ("/prod/proxy", "/prod/http"):
        reply = gateway.request("GET", path)
        assert reply.status == 502
        assert reply.json() == {"message": "Internal server error"}
        assert reply.header("x-amzn-RequestId")


def test_it_refuses_a_declared_length_over_the_limit_before_calling_the_backend(
    start_gateway: StartGateway, backend: Backend
) -> None:
    gateway = start_gateway([snapshots.stage({("/up", "POST"): http_proxy(f"{backend.url}/slow?seconds=5")})])

    started = time.monotonic()
    reply = gateway.request("POST", "/prod/up", body=b"x" * (LIMIT + 1))

    assert reply.status == 413
    assert reply.json() == {"message": "Request Too Long"}
    # The slow backend was never called: it would have held the answer for 5 s.
    assert time.monotonic() - started < 4


def test_it_counts_a_chunked_body_and_refuses_it_past_the_limit(start_gateway: StartGateway, backend: Backend) -> None:
    gateway = start_gateway([snapshots.stage({("/up", "POST"): http_proxy(f"{backend.url}/slow?seconds=5")})])
    chunk = b"y" * (1024 * 1024)

    reply = gateway.request("POST", "/prod/up", body=iter([chunk] * 11))

    assert reply.status == 413
    assert reply.json() == {"message": "Request Too Long"}


def test_it_relays_a_chunked_body_at_the_limit(start_gateway: StartGateway, backend: Backend) -> None:
    gateway = start_gateway([snapshots.stage({("/up", "POST"): http_proxy(f"{backend.url}/binary")})])
    chunks = [bytes([index]) * (1024 * 1024) for index in range(10)]

    reply = gateway.request("POST", "/prod/up", body=iter(chunks))

    assert reply.status == 200
    assert reply.body == b"".join(chunks)
    assert len(reply.body) == LIMIT
