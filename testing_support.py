"""What tests need from the machine: a test skips when a service or tool is missing, and fails under CI=true.

On a developer's machine without Redis, Node or a JDK the tests that need them skip; CI must have them all,
so there the same test fails and names what was missing (DESIGN §10).
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

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
