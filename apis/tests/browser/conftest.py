"""Run the web app under uvicorn (static files served) and drive Debian's Chromium with Playwright."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apis.tests.conftest import ServerThread
from testing_support import chromium_launch_args, web_server

SCREENSHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last: Playwright's sync API leaves an event loop running in the main thread until
    the session ends, and Django refuses ORM calls from a thread with a running loop."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session", autouse=True)
def orm_beside_playwright() -> Iterator[None]:
    """Let the ORM run next to Playwright's event loop: the database set-up, the tests and their teardown.

    Session-scoped so it comes before the session's database and Playwright fixtures; the browser tests run
    last, so no other test runs with Django's async-safety check turned off.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return chromium_launch_args(browser_type_launch_args)


@pytest.fixture
def console_server(transactional_db: None) -> Iterator[ServerThread]:
    """The ASGI app as production serves it, plus /static/ from the finders (no collectstatic needed)."""
    with web_server() as server:
        yield server


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def metered_gateway(console_server: ServerThread, settings: Any, tmp_path: Path) -> Iterator[Any]:
    """A real gateway over the control-plane tables, in a thread, metering into a local event store of its own.

    The embedded mode (no Redis): events go to `settings.USAGE["LOCAL_STORE"]`, which the test drains with
    `usage.services.usage_events_drain()`, and quota counters live in the gateway process.
    """
    from gateway_runtime.asgi import build_application, load_settings
    from gateway_runtime.metering import Recorder
    from gateway_runtime.sources import DatabaseConfigSource
    from gateway_runtime.tests.servers import ServerThread as GatewayThread
    from usage import services

    settings.REDIS_URL = ""
    settings.USAGE = {**settings.USAGE, "LOCAL_STORE": tmp_path / "events.sqlite3"}
    services.caches_reset()
    gateway_settings = dataclasses.replace(load_settings(), config_poll_seconds=0.1)
    server = GatewayThread(build_application(DatabaseConfigSource(), gateway_settings, Recorder.from_django()))
    yield server
    server.stop()
    services.caches_reset()
