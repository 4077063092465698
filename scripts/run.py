#!/usr/bin/env python
"""Run Portico in the foreground: bootstrap, then the web, gateway and worker processes.

Each process's output is prefixed with its name. Ctrl-C or SIGTERM stops them all (SIGTERM, then SIGKILL
after a grace period; a second Ctrl-C kills at once); if one of them dies on its own, the others are stopped
and this exits non-zero.

Environment: HOST (127.0.0.1), WEB_PORT (8000), GATEWAY_PORT (8080), GATEWAY_WORKERS (1), WORKER_CONCURRENCY
(2), PORTICO_VAR_DIR, plus everything config/settings.py reads. `.env` is loaded first, as settings do.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

BASE_DIR = Path(__file__).resolve().parent.parent
PROCESS_NAMES = ("web", "gateway", "worker")
# Celery's warm shutdown takes about 6 s on the polling filesystem broker; give it that and a little more.
DEFAULT_GRACE = 8.0
COLORS = ("36", "35", "33", "32", "34", "31")  # cyan, magenta, yellow, green, blue, red


@dataclass
class Child:
    name: str
    argv: list[str]
    cwd: Path | None = None
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    reader: threading.Thread | None = field(default=None, repr=False)


class Supervisor:
    """Start child processes, prefix their output, and stop them all together."""

    def __init__(self, children: list[Child], *, out: TextIO | None = None, grace: float = DEFAULT_GRACE) -> None:
        self.children = children
        self.out = out or sys.stdout
        self.grace = grace
        self.stopping = threading.Event()
        self.force = threading.Event()
        self.lock = threading.Lock()
        width = max(len(child.name) for child in children)
        color = self.out.isatty() and not os.environ.get("NO_COLOR")
        self.prefixes = {}
        for i, child in enumerate(children):
            prefix = f"{child.name:<{width}} |"
            self.prefixes[child.name] = f"\033[{COLORS[i % len(COLORS)]}m{prefix}\033[0m " if color else f"{prefix} "

    def write(self, name: str, line: str) -> None:
        self.announce(f"{self.prefixes[name]}{line}")

    def announce(self, text: str) -> None:
        """Print text of the supervisor's own, between whole lines of the children's output."""
        with self.lock:
            self.out.write(f"{text}\n")
            self.out.flush()

    def start(self) -> None:
        for child in self.children:
            # Each child leads its own process group, so the whole tree (uvicorn workers, Celery's pool
            # and beat) can be killed at the end, and a terminal's Ctrl-C reaches only this supervisor.
            child.process = subprocess.Popen(
                child.argv,
                cwd=child.cwd,
                env=child.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            child.reader = threading.Thread(target=self._pump, args=(child,), daemon=True)
            child.reader.start()

    def _pump(self, child: Child) -> None:
        assert child.process is not None and child.process.stdout is not None
        for raw in iter(child.process.stdout.readline, b""):
            self.write(child.name, raw.decode("utf-8", "replace").rstrip("\r\n"))

    def request_stop(self) -> None:
        """Ask for an orderly stop; asked a second time, kill at once."""
        if self.stopping.is_set():
            self.force.set()
        self.stopping.set()

    def wait(self) -> int:
        """Block until a stop is requested or a child exits; stop the rest; return the exit status."""
        status = 0
        while not self.stopping.is_set():
            exited = next((c for c in self.children if c.process and c.process.poll() is not None), None)
            if exited is not None:
                assert exited.process is not None
                if exited.reader is not None:
                    exited.reader.join(timeout=1)  # let its last words (a traceback) come out first
                code = exited.process.returncode
                self.write(exited.name, f"exited unexpectedly with status {code}; stopping the others")
                status = code if code > 0 else 1
                break
            self.stopping.wait(0.2)
        self.stop()
        return status

    def stop(self) -> None:
        """SIGTERM every child, then SIGKILL what is left of each process group after the grace period."""
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            _signal(process.pid, signal.SIGTERM, group=False)
        deadline = time.monotonic() + self.grace
        while any(p.poll() is None for p in running) and time.monotonic() < deadline:
            if self.force.wait(0.05):
                break
        for child in self.children:
            if child.process is None:
                continue
            if child.process.poll() is None:
                self.write(child.name, f"still running after {self.grace:g}s; killing it")
            _signal(child.process.pid, signal.SIGKILL, group=True)
            child.process.wait()
        for child in self.children:
            if child.reader is not None:
                child.reader.join(timeout=2)

    def run(self) -> int:
        self.start()
        return self.wait()


def _signal(pid: int, sig: signal.Signals, *, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def load_dotenv_file(path: Path) -> None:
    """Load `.env` the way config/settings.py does, so both see the same ports and folders."""
    if path.exists():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


def children_for(names: list[str], env: dict[str, str]) -> list[Child]:
    """Return the commands of the named processes, as configured by the environment."""
    python = sys.executable
    host = env.get("HOST") or "127.0.0.1"
    uvicorn = [python, "-m", "uvicorn", "--app-dir", str(BASE_DIR), "--host", host]
    commands = {
        # Django's ASGI handler speaks no lifespan protocol; saying so spares a startup message.
        "web": [*uvicorn, "config.asgi:application", "--port", env.get("WEB_PORT") or "8000", "--lifespan", "off"],
        "gateway": [
            *uvicorn,
            "gateway_runtime.asgi:application",
            "--port",
            env.get("GATEWAY_PORT") or "8080",
            "--workers",
            env.get("GATEWAY_WORKERS") or "1",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",  # the gateway writes its own access log line per request
            "--no-server-header",  # API Gateway names no server; a backend's Server goes as x-amzn-Remapped-Server
        ],
        "worker": [
            *[python, "-m", "celery", "-A", "config", "worker", "-B", "-l", "info"],
            *["--concurrency", env.get("WORKER_CONCURRENCY") or "2"],
        ],
    }
    # The children run inside the var folder: kombu's filesystem transport keeps its exchange tables in a
    # folder relative to the working directory, which must not be the checkout.
    var_dir = Path(env.get("PORTICO_VAR_DIR") or BASE_DIR / "var")
    var_dir.mkdir(parents=True, exist_ok=True)
    return [Child(name=name, argv=commands[name], cwd=var_dir, env=env) for name in names]


def child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BASE_DIR), env.get("PYTHONPATH", "")) if p)
    return env


def announce_when_ready(supervisor: Supervisor, env: dict[str, str], summary: str, timeout: float = 120) -> None:
    """Print the bootstrap summary again once web and gateway answer, since logs will have scrolled it away."""
    host = env.get("HOST") or "127.0.0.1"
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    host = f"[{host}]" if ":" in host else host
    names = {c.name for c in supervisor.children}
    probes = {
        "web": f"http://{host}:{env.get('WEB_PORT') or '8000'}/health",
        "gateway": f"http://{host}:{env.get('GATEWAY_PORT') or '8080'}/ping",
    }
    pending = {name: url for name, url in probes.items() if name in names}
    deadline = time.monotonic() + timeout
    while pending and not supervisor.stopping.is_set() and time.monotonic() < deadline:
        for name, url in list(pending.items()):
            if _answers(url):
                del pending[name]
        supervisor.stopping.wait(0.25)
    if supervisor.stopping.is_set():
        return
    if pending:
        supervisor.announce(f"Not answering after {timeout:g}s: {', '.join(pending)}")
        return
    supervisor.announce(f"{summary.rstrip()}\n\nPortico is up. Ctrl-C stops everything.\n")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - a loopback URL built above
            return 200 <= response.status < 300
    except OSError:
        return False


def bootstrap(env: dict[str, str]) -> tuple[int, str]:
    """Run `manage.py bootstrap`, echoing its output; return its status and output."""
    argv = [sys.executable, str(BASE_DIR / "manage.py"), "bootstrap", "--host", env.get("HOST") or "127.0.0.1"]
    lines = []
    with subprocess.Popen(argv, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            lines.append(line)
    return process.returncode, "".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(PROCESS_NAMES), help=f"comma-separated processes to run ({', '.join(PROCESS_NAMES)})"
    )
    parser.add_argument("--no-bootstrap", action="store_true", help="skip `manage.py bootstrap`")
    parser.add_argument(
        "--grace", type=float, default=DEFAULT_GRACE, help=f"seconds between SIGTERM and SIGKILL ({DEFAULT_GRACE:g})"
    )
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(PROCESS_NAMES))
    if unknown or not args.only:
        parser.error(f"--only takes some of {', '.join(PROCESS_NAMES)}, not {', '.join(unknown) or 'nothing'}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_dotenv_file(BASE_DIR / ".env")
    env = child_environment()

    stop_requested = threading.Event()
    handlers: list[Callable[[], None]] = [stop_requested.set]

    def on_signal(signum: int, _frame: object) -> None:
        for handler in handlers:
            handler()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    summary = ""
    if not args.no_bootstrap:
        status, summary = bootstrap(env)
        if status != 0:
            return status
    if stop_requested.is_set():
        return 0

    supervisor = Supervisor(children_for(args.only, env), grace=args.grace)
    handlers.append(supervisor.request_stop)
    supervisor.start()
    if stop_requested.is_set():
        supervisor.request_stop()
    if summary.strip():
        threading.Thread(target=announce_when_ready, args=(supervisor, env, summary), daemon=True).start()
    return supervisor.wait()


if __name__ == "__main__":
    sys.exit(main())
