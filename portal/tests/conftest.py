"""Fixtures of the portal tests: an owner, two consumers, a published API, and a cache of each test's own."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from gateway_runtime.tests.servers import Backend, LoopThread, ServerThread
from portal.tests.factories import OwnerFactory, Published, UserFactory, publish


@pytest.fixture(autouse=True)
def isolated_settings(settings: Any) -> None:
    """Give each test fresh rate-limit counters in the configured cache (Redis on CI) without flushing it."""
    default = dict(settings.CACHES["default"])
    default["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {**settings.CACHES, "default": default}
    # Password hashing at production strength would dominate these tests' run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_owner(db: None) -> Any:
    return OwnerFactory()


@pytest.fixture
def consumer(db: None) -> Any:
    return UserFactory(username="alice")


@pytest.fixture
def other_consumer(db: None) -> Any:
    return UserFactory(username="bob")


@pytest.fixture
def published(api_owner: Any) -> Published:
    return publish(api_owner, summary="Forecasts and observations, hourly.")


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice(consumer: Any) -> Client:
    return signed_in(consumer)


@pytest.fixture
def bob(other_consumer: Any) -> Client:
    return signed_in(other_consumer)


@pytest.fixture
def echo_backend() -> Iterator[Backend]:
    """An HTTP backend that echoes each request back as JSON (the one the gateway's own tests use)."""
    loop = LoopThread()
    backend = Backend(loop)
    yield backend
    backend.close()
    loop.close()


@pytest.fixture
def live_gateway(transactional_db: None, settings: Any) -> Iterator[ServerThread]:
    """A real gateway over the control-plane tables, in a thread; the try-it proxy is pointed at it."""
    from gateway_runtime.asgi import build_application, load_settings
    from gateway_runtime.sources import DatabaseConfigSource

    # The gateway's settings as production loads them (the key pepper among them), polling faster.
    gateway_settings = dataclasses.replace(load_settings(), config_poll_seconds=0.1)
    server = ServerThread(build_application(DatabaseConfigSource(), gateway_settings))
    settings.PORTAL_GATEWAY_URL = f"http://127.0.0.1:{server.port}"
    yield server
    server.stop()


def eventually(call: Callable[[], Any], ready: Callable[[Any], bool], timeout: float = 5.0) -> Any:
    """Repeat a call until its result is ready (gateways pick config changes up within seconds); return it."""
    deadline = time.monotonic() + timeout
    result = call()
    while not ready(result) and time.monotonic() < deadline:
        time.sleep(0.1)
        result = call()
    return result
