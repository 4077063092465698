"""Project-wide pytest setup."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("PORTICO_VAR_DIR", os.path.join(os.path.dirname(__file__), "var", "test"))
