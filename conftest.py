"""Project-wide pytest setup (environment defaults come from pyproject's pytest `env`)."""

import os
import tempfile
from pathlib import Path

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
