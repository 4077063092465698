"""Project-wide pytest setup (environment defaults come from pyproject's pytest `env`)."""
