"""Run the web app (static files served) and a gateway in threads, and drive Debian's Chromium with Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apis.tests.conftest import ServerThread
from testing_support import chromium_launch_args, web_server

SCREENSHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots" / "portal"

# Playwright's sync API keeps an event loop in the test's thread; the ORM calls the tests make there are
# ordinary blocking calls all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return chromium_launch_args(browser_type_launch_args)


@pytest.fixture
def portal_server(transactional_db: None) -> Iterator[ServerThread]:
    """The ASGI app as production serves it, plus /static/ from the finders (no collectstatic needed)."""
    with web_server() as server:
        yield server


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
