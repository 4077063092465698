"""Project-wide pytest setup (environment defaults come from pyproject's pytest `env`)."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Fixtures shared by the console's test modules (users per role, signed-in clients, a world built via services).
pytest_plugins = ["apis.tests.console_support"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Keep an SQLite test database in a file of this test process's own rather than in memory.

    Some tests start gateway processes that read the control plane's test database; a per-process name
    keeps concurrent test runs (and xdist workers) apart.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = Path(tempfile.gettempdir()) / f"portico-test-{os.getpid()}.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(name)


@pytest.fixture(scope="session", autouse=True)
def _cache_of_this_test_process() -> Iterator[None]:
    """Give each test process a Redis database of its own for Django's cache.

    Tests call `cache.clear()`, which on Redis empties the whole database: on the shared one it would wipe
    other xdist workers' rate-limit counts, and the counters and streams live gateways keep there.
    """
    from django.conf import settings
    from django.test.utils import override_settings

    cache = settings.CACHES["default"]
    if not cache["BACKEND"].endswith("RedisCache"):
        yield
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = 8 + int(worker.removeprefix("gw") or 0) % 8  # databases 8-15; the services use the low ones
    location = urlsplit(cache["LOCATION"])._replace(path=f"/{number}").geturl()
    with override_settings(CACHES={"default": {**cache, "LOCATION": location}}):
        yield
