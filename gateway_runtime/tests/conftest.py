"""Fixtures for runtime tests: a live backend, and gateways started over in-memory configs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from gateway_runtime.asgi import GatewayApplication, build_application
from gateway_runtime.config import GatewaySettings, InMemoryConfigSource
from gateway_runtime.tests.redis_support import RedisServer, delete_prefix, shared_redis_url, unique_prefix
from gateway_runtime.tests.servers import Backend, LoopThread, Reply, ServerThread, bound_socket, call

FAST_POLL = GatewaySettings(config_poll_seconds=0.1)


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def backend(loop_thread: LoopThread) -> Iterator[Backend]:
    server = Backend(loop_thread)
    yield server
    server.close()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """Return a loopback port that refuses connections: bound (so no one else gets it) but not listening."""
    with bound_socket() as sock:
        yield sock.getsockname()[1]


@dataclass
class Gateway:
    """A running gateway and the config source behind it."""

    app: GatewayApplication
    source: InMemoryConfigSource
    server: ServerThread

    @property
    def port(self) -> int:
        return self.server.port

    def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        """Send a request to the gateway (Host defaults to the execute-api host of the test API)."""
        kwargs.setdefault("host", "a1b2c3d4e5.execute-api.localhost")
        return call(self.port, method, path, **kwargs)


StartGateway = Callable[..., Gateway]


@pytest.fixture
def start_gateway() -> Iterator[StartGateway]:
    """Return a function that starts a gateway over the given stage and domain configs."""
    started: list[Gateway] = []

    def start(
        stages: Iterable[dict[str, Any]],
        domains: Iterable[dict[str, Any]] = (),
        settings: GatewaySettings = FAST_POLL,
        keyring: dict[str, Any] | None = None,
    ) -> Gateway:
        source = InMemoryConfigSource(stages, domains, keyring=keyring)
        app = build_application(source, settings)
        gateway = Gateway(app=app, source=source, server=ServerThread(app))
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.server.stop()


@pytest.fixture
def shared_redis() -> Iterator[tuple[str, str]]:
    """Return the shared Redis URL and a key prefix of this test's own, deleted afterwards."""
    url, prefix = shared_redis_url(), unique_prefix()
    yield url, prefix
    delete_prefix(url, prefix)


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """Return a private Redis server the test may stop, pause and restart."""
    server = RedisServer()
    yield server
    server.close()
