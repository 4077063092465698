"""Project-wide pytest setup (environment defaults come from pyproject's pytest `env`)."""

# Fixtures shared by the console's test modules (users per role, signed-in clients, a world built via services).
pytest_plugins = ["apis.tests.console_support"]


def pytest_configure(config) -> None:
    # The SQLite test database is a file under PORTICO_VAR_DIR (config/settings.py); the folder may be new.
    from pathlib import Path

    from django.conf import settings

    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
