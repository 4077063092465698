"""Run the web app (static files served) and a gateway in threads, and drive Debian's Chromium with Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apis.tests.conftest import ServerThread, free_port

CHROMIUM = os.environ.get("PORTICO_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots" / "portal"

# Playwright's sync API keeps an event loop in the test's thread; the ORM calls the tests make there are
# ordinary blocking calls all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-gpu",
        ],
    }


@pytest.fixture
def portal_server(transactional_db: None) -> Iterator[ServerThread]:
    """The ASGI app as production serves it, plus /static/ from the finders (no collectstatic needed)."""
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from config.asgi import application

    with ServerThread(ASGIStaticFilesHandler(application), free_port()) as server:
        yield server


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
