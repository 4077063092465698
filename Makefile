# One toolchain behind make. Every target creates .venv and installs requirements.txt when needed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
PYTEST_ARGS ?= -n auto

.DEFAULT_GOAL := help
.PHONY: help install run worker lint format typecheck test bench check

help:
	@echo "make run        migrate, load the demo, print the admin login and keys, start web, gateway and worker"
	@echo "make test       run the whole test suite (PYTEST_ARGS='$(PYTEST_ARGS)')"
	@echo "make check      manage.py check, makemigrations --check, ruff check"
	@echo "make install | worker | lint | format | typecheck | bench"

# The stamp is newer than requirements.txt once they are installed.
$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Node tools of the TypeScript SDK builds, pinned by package.json + package-lock.json, when npm is there.
node_modules/.package-lock.json: package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund; \
	else echo "npm not found: TypeScript SDKs cannot be built (portal/sdks/typescript.py)"; fi

install: $(VENV)/.installed node_modules/.package-lock.json

# A local .env with a fresh SECRET_KEY, made once from .env.example (git-ignored).
.env:
	@sed "s/^SECRET_KEY=.*/SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')/" \
		.env.example > $@
	@echo "Created .env with a generated SECRET_KEY"

run: install .env
	$(PY) scripts/run.py

worker: install .env
	$(MANAGE) bootstrap --no-admin --no-demo
	$(PY) scripts/run.py --only worker --no-bootstrap

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Optional for now (not in CI): mypy with django-stubs, installed on first use.
typecheck: install
	@$(PY) -m mypy --version >/dev/null 2>&1 || $(PY) -m pip install --quiet "django-stubs[compatible-mypy]==5.2.9"
	$(PY) -m mypy gateway_runtime usage

# Browser suites run in processes of their own: Playwright's sync API keeps an event loop alive for the
# rest of its process, and the console and portal suites each start their own live server and browser.
test: install
	$(PY) -m pytest $(PYTEST_ARGS) -m "not browser"
	$(PY) -m pytest -n 1 -m browser apis/tests/browser
	$(PY) -m pytest -n 1 -m browser portal/tests/browser

# Side by side with nginx and Caddy (bench/compare.py installs Debian's nginx, caddy, wrk and redis-server
# when missing), then the upstream client and the configuration scale. Results land in bench/results/.
BENCH_ARGS ?=
bench: install
	$(PY) bench/compare.py $(BENCH_ARGS)
	$(PY) bench/upstream_client.py
	$(PY) bench/redis_client.py
	$(PY) bench/config_scale.py

check: install
	DEBUG=$${DEBUG:-1} $(MANAGE) check
	DEBUG=$${DEBUG:-1} $(MANAGE) makemigrations --check --dry-run
	$(PY) -m ruff check .
