"""Redis for tests: the shared server (keys under a unique prefix per test) and private servers to stop.

The shared Redis is REDIS_URL, else 127.0.0.1:6379. A test that needs it skips when it is missing, but
fails under CI=true (DESIGN §10). Tests that stop Redis start their own `redis-server` on a free port and
never touch the shared one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid

import redis

from testing_support import installed, missing

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def shared_redis_url() -> str:
    """Return the shared Redis URL, or skip (fail under CI) when it does not answer."""
    url = os.environ.get("REDIS_URL") or DEFAULT_URL
    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        missing(f"Redis at {url} is not answering: {exc}")
    return url


def delete_prefix(url: str, prefix: str) -> None:
    """Delete every key under a prefix."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def unique_prefix() -> str:
    """Return a Redis key prefix no other test uses."""
    return f"portico-test:{uuid.uuid4().hex[:12]}:"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private redis-server on a free loopback port, without persistence, that a test may stop."""

    def __init__(self) -> None:
        self.binary = installed("redis-server")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart) the server on its port and wait until it answers."""
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        """Stop the server (its data goes with it)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def pause(self) -> None:
        """Freeze the server: connections stay open and nothing answers (a stalled Redis)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
        self.stop()
