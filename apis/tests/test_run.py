"""`make run`: settings that refuse to start, `.env.example`, and the process supervisor (scripts/run.py)."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

BASE_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("portico_run", BASE_DIR / "scripts" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


runner = load_runner()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def descendants(pid: int) -> set[int]:
    """Every live process below pid, found through /proc (children sit in their own sessions)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {p for p in found if alive(p)}


def wait_for(condition: Callable[[], object], timeout: float, message: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message())
        time.sleep(0.1)


# --- settings ------------------------------------------------------------------------------------------


def django_setup(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # Set SECRET_KEY even when empty: a developer's .env must not fill it in (load_dotenv never overrides).
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", "PORTICO_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [PYTHON, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_settings_refuse_to_start_with_debug_off_and_no_secret_key(tmp_path):
    result = django_setup(tmp_path, DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_settings_start_with_debug_off_and_a_secret_key_or_with_debug_on(tmp_path):
    assert django_setup(tmp_path, DEBUG="0", SECRET_KEY="x" * 50).returncode == 0
    assert django_setup(tmp_path, DEBUG="1", SECRET_KEY="").returncode == 0


def test_env_example_lists_every_variable_that_settings_and_the_runner_read():
    read = set()
    for source in ("config/settings.py", "scripts/run.py"):
        text = (BASE_DIR / source).read_text()
        read |= set(re.findall(r'(?:environ\.get|getenv|env\.get|env_\w+)\(\s*"([A-Z][A-Z0-9_]+)"', text))
        read |= set(re.findall(r'environ\[\s*"([A-Z][A-Z0-9_]+)"\s*\]', text))
    example = (BASE_DIR / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))

    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "GATEWAY_WORKERS"} <= read
    assert read - documented - {"NO_COLOR", "PYTHONPATH"} == set()
    # `make run` writes the generated key into this line of the copy it makes.
    assert re.search(r"^SECRET_KEY=$", example, re.MULTILINE)


# --- supervisor ----------------------------------------------------------------------------------------


def python_child(name: str, code: str) -> object:
    return runner.Child(name=name, argv=[PYTHON, "-c", code])


def test_supervisor_prefixes_every_line_with_the_process_name():
    out = io.StringIO()
    supervisor = runner.Supervisor(
        [
            python_child("web", "print('one'); print('two', flush=True); import time; time.sleep(60)"),
            python_child("gateway", "print('three', flush=True); import time; time.sleep(60)"),
        ],
        out=out,
        grace=2,
    )
    supervisor.start()
    try:
        wait_for(lambda: "three" in out.getvalue() and "two" in out.getvalue(), 10, out.getvalue)
    finally:
        supervisor.request_stop()
        status = supervisor.wait()

    lines = out.getvalue().splitlines()
    assert "web     | one" in lines
    assert "web     | two" in lines
    assert "gateway | three" in lines
    assert status == 0


def test_supervisor_stops_the_others_and_fails_when_one_process_dies():
    out = io.StringIO()
    sleeper = python_child("web", "import time; time.sleep(60)")
    supervisor = runner.Supervisor(
        [sleeper, python_child("worker", "import sys, time; time.sleep(0.3); print('boom'); sys.exit(3)")],
        out=out,
        grace=2,
    )

    started = time.monotonic()
    status = supervisor.run()

    assert status == 3
    assert time.monotonic() - started < 10
    assert sleeper.process.returncode == -signal.SIGTERM
    assert "worker | boom" in out.getvalue()
    assert "exited unexpectedly with status 3" in out.getvalue()


def test_supervisor_kills_what_ignores_sigterm_with_its_children_after_the_grace_period():
    out = io.StringIO()
    stubborn = python_child(
        "worker",
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"grandchild = subprocess.Popen([{PYTHON!r}, '-c', 'import time; time.sleep(60)'])\n"
        "print('grandchild', grandchild.pid, flush=True)\n"
        "time.sleep(60)\n",
    )
    supervisor = runner.Supervisor([stubborn], out=out, grace=0.5)
    supervisor.start()
    wait_for(lambda: "grandchild" in out.getvalue(), 10, out.getvalue)
    grandchild = int(re.search(r"grandchild (\d+)", out.getvalue()).group(1))
    assert alive(grandchild)

    started = time.monotonic()
    supervisor.request_stop()
    supervisor.wait()

    assert time.monotonic() - started < 5
    assert stubborn.process.returncode == -signal.SIGKILL
    wait_for(lambda: not alive(grandchild), 5, lambda: f"grandchild {grandchild} survived")
    assert "still running after 0.5s; killing it" in out.getvalue()


# --- make run, end to end ------------------------------------------------------------------------------


def get(url: str, host: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={**({"Host": host} if host else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def test_run_serves_the_demo_and_stops_every_process_on_sigterm(tmp_path):
    web_port, gateway_port = free_port(), free_port()
    drop = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEMO_BACKEND_URL", "HOST", "GATEWAY_WORKERS"}
    env = {key: value for key, value in os.environ.items() if key not in drop}
    env.update(
        DEBUG="1",
        PORTICO_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'portico.sqlite3'}",
        REDIS_URL="",  # set but empty, so a developer's .env cannot switch the embedded mode off
        CELERY_BROKER_URL="",
        WEB_PORT=str(web_port),
        GATEWAY_PORT=str(gateway_port),
    )
    process = subprocess.Popen(
        [PYTHON, str(BASE_DIR / "scripts" / "run.py")],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()

    def output() -> str:
        return "".join(lines)

    children: set[int] = set()
    try:
        wait_for(lambda: "Portico is up" in output() or process.poll() is not None, 120, output)
        assert process.poll() is None, output()
        assert get(f"http://127.0.0.1:{web_port}/health")[0] == 200
        assert get(f"http://127.0.0.1:{gateway_port}/ping")[0] == 200
        wait_for(lambda: re.search(r"^worker +\| .*ready", output(), re.MULTILINE), 60, output)

        api_id = re.search(r'Demo API "PetStore" \(id (\w+)\)', output()).group(1)
        assert f"http://{api_id}.execute-api.localhost:{gateway_port}/prod/pets" in output()
        host = f"{api_id}.execute-api.localhost"
        status, body = get(f"http://127.0.0.1:{gateway_port}/prod/pets", host=host)
        assert (status, len(json.loads(body))) == (200, 3)
        status, body = get(f"http://127.0.0.1:{gateway_port}/prod/pets/2", host=host)
        assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
        key = re.search(r"API key +(\S+)", output()).group(1)
        status, body = get(f"http://127.0.0.1:{gateway_port}/prod/pets/2", host=host, headers={"x-api-key": key})
        assert (status, json.loads(body)["id"]) == (200, 2)
        proxied = re.compile(r"^web +\| .*GET /demo-backend/pets/2", re.MULTILINE)
        wait_for(lambda: proxied.search(output()), 10, output)

        children = descendants(process.pid)
        assert len(children) >= 3, children

        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        assert process.returncode == 0, output()
        wait_for(lambda: not any(alive(pid) for pid in children), 1, lambda: f"left running: {children}")
    finally:
        for pid in children | descendants(process.pid):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
            process.wait()
