"""Fixtures for metering tests: event builders, the shared Redis, and private redis-servers for fault tests."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway_runtime.metering import encode_event
from testing_support import installed, missing
from usage import services

# The machine's shared Redis; every test uses streams of its own, so parallel workers never meet.
SHARED_REDIS_URL = os.environ.get("USAGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    # Tests roll their database back; the drain's caches of committed ids and series must not outlive it.
    services.caches_reset()
    yield
    services.caches_reset()


def make_event(
    *,
    time_ms: int | None = None,
    api_id: str = "a1b2c3d4e5",
    stage: str = "prod",
    resource_path: str = "/pets",
    http_method: str = "GET",
    key_id: str = "",
    plan_id: str = "",
    status: int = 200,
    latency_us: int = 2_000,
    integration_latency_us: int | None = 1_500,
    bytes_in: int = 10,
    bytes_out: int = 100,
    flags: str = "",
    event_id: str | None = None,
) -> str:
    """Return one event line as a gateway would write it."""
    return encode_event(
        event_id=event_id or str(uuid.uuid4()),
        time_ms=int(time.time() * 1000) if time_ms is None else time_ms,
        api_id=api_id,
        stage=stage,
        resource_path=resource_path,
        http_method=http_method,
        key_id=key_id,
        plan_id=plan_id,
        status=status,
        latency_us=latency_us,
        integration_latency_us=integration_latency_us,
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        flags=flags,
    )


def mixed_events(count: int, *, seed: int = 7, time_ms: int | None = None, spread_ms: int = 0) -> list[str]:
    """Return `count` events over 3 keys, 2 methods and a few statuses, deterministic for a seed."""
    rng = random.Random(seed)
    base = int(time.time() * 1000) if time_ms is None else time_ms
    return [
        make_event(
            event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            time_ms=base + (rng.randrange(spread_ms) if spread_ms else 0),
            key_id=f"key{i % 3}",
            plan_id="plan1",
            http_method=("GET", "POST")[i % 2],
            status=rng.choice((200, 200, 201, 404, 500)),
            latency_us=rng.randrange(100, 200_000),
        )
        for i in range(count)
    ]


@pytest.fixture
def shared_redis():
    """A client of the machine's Redis (fails under CI when it is not there)."""
    import redis

    client = services.redis_client(SHARED_REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        missing(f"Redis at {SHARED_REDIS_URL} is not answering")
    yield client
    client.close()


@pytest.fixture
def stream_name(request: pytest.FixtureRequest, shared_redis) -> Iterator[str]:
    """A stream key no other test uses, deleted afterwards."""
    name = f"test:usage:{request.node.name[:40]}:{uuid.uuid4().hex[:8]}"
    yield name
    shared_redis.delete(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    """A redis-server of a test's own, which the test may stop and start (never the shared one)."""

    port: int
    directory: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = installed("redis-server")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.directory),
                "--dbfilename",
                "dump.rdb",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self, *, save: bool = True) -> None:
        """Shut the server down (saving its data to disk first, as a persistent Redis would)."""
        if self.process is None:
            return
        import redis

        with contextlib.suppress(redis.RedisError):
            redis.Redis(port=self.port).shutdown(save=save)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server on a free port, for tests that stop Redis or need a broker of their own."""
    server = RedisServer(port=free_port(), directory=tmp_path)
    server.start()
    yield server
    server.stop(save=False)
