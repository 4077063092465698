"""What tests need from the machine: a test skips when a service or tool is missing, and fails under CI=true.

On a developer's machine without Redis, Node or a JDK the tests that need them skip; CI must have them all,
so there the same test fails and names what was missing (DESIGN §10).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import pytest


def missing(reason: str) -> NoReturn:
    """Fail the test under CI=true, where nothing may be missing; skip it anywhere else."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def installed(program: str) -> str:
    """Return the path of a program on PATH; skip (fail under CI=true) when it is not installed."""
    path = shutil.which(program)
    if path is None:
        missing(f"{program} is not installed")
    return path


# -- browser tests ------------------------------------------------------------------------------------------

CHROMIUM = os.environ.get("PORTICO_CHROMIUM", "/usr/bin/chromium")


def chromium_launch_args(base: dict[str, Any]) -> dict[str, Any]:
    """Return pytest-playwright's launch arguments for Debian's Chromium (fail when it is not installed)."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return {
        **base,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-gpu",
        ],
    }


@contextmanager
def web_server() -> Iterator[Any]:
    """Serve the ASGI app as production does, plus /static/ from the finders (no collectstatic), in a thread."""
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from apis.tests.conftest import ServerThread, free_port
    from config.asgi import application

    with ServerThread(ASGIStaticFilesHandler(application), free_port()) as server:
        yield server
