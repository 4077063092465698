"""What the benchmarks share: tools on PATH, child processes and their CPU time, nginx as backend, wrk.

Not a benchmark itself (the Makefile's `bench` target names the scripts it runs).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BACKEND_BODY = b'{"id":1,"name":"widget","tags":["a","b"],"price":9.5}'
# Debian package for each tool the benchmarks run.
PACKAGES = {"nginx": "nginx", "caddy": "caddy", "wrk": "wrk", "redis-server": "redis-server"}
_SBIN = ("/usr/sbin", "/sbin")


def which(tool: str) -> str | None:
    """Return a tool's path, looking in sbin too (nginx lives there and a non-root PATH may lack it)."""
    return shutil.which(tool) or shutil.which(tool, path=os.pathsep.join(_SBIN))


def ensure_tools(tools: Iterable[str]) -> None:
    """Install missing tools from Debian's packages (apt-get, as root); exit with a hint if that cannot be done."""
    missing = [tool for tool in tools if which(tool) is None]
    if not missing:
        return
    packages = sorted({PACKAGES[tool] for tool in missing})
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        sys.exit(f"Missing {', '.join(missing)}: install them with `apt-get install -y {' '.join(packages)}`")
    print(f"Installing {' '.join(packages)} with apt-get", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment, timeout=300)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        check=True,
        env=environment,
        timeout=600,
    )
    # Debian starts nginx as a service on install where it can; the benchmarks run their own.
    still = [tool for tool in missing if which(tool) is None]
    if still:
        sys.exit(f"apt-get did not provide {', '.join(still)}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_average() -> list[float]:
    """Return the 1, 5 and 15 minute load averages."""
    return [round(value, 2) for value in os.getloadavg()]


# -- processes ---------------------------------------------------------------------------------------------


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def process_tree(pid: int) -> list[int]:
    """Return a process and all its descendants (uvicorn's and nginx's workers, granian's too)."""
    children = _children_by_parent()
    tree, queue = [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue.extend(children.get(current, ()))
    return tree


def cpu_seconds(pids: Iterable[int]) -> float:
    """Return the user+system CPU seconds the given processes have used (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_bytes(pids: Iterable[int]) -> int:
    """Return the summed resident set size of processes."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


@dataclass
class Service:
    """A server the benchmark started, in its own process group so it stops with all its workers."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    log: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    pids: list[int] = field(default_factory=list)

    def start(self) -> Service:
        output = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115 (closed by the child)
        self.process = subprocess.Popen(
            list(self.argv),
            env=dict(self.env) if self.env is not None else None,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.log:
            output.close()  # type: ignore[union-attr]
        return self

    def refresh_pids(self) -> list[int]:
        """Record the process tree now (call once the workers are up)."""
        assert self.process is not None
        self.pids = process_tree(self.process.pid)
        return self.pids

    def cpu(self) -> float:
        return cpu_seconds(self.pids)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM this service's process group, SIGKILL it after 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def http_get(url: str, headers: Mapping[str, str] | None = None, timeout: float = 2) -> tuple[int, bytes]:
    """Return the status and body of a GET (errors are statuses too)."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_until_up(url: str, headers: Mapping[str, str] | None = None, *, seconds: float = 30, service=None) -> None:
    """Wait until a URL answers at all (any status), or fail."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            http_get(url, headers, timeout=1)
            return
        except OSError:
            pass
        if service is not None and not service.alive():
            raise RuntimeError(f"{service.name} exited early (see {service.log})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up within {seconds:g} s")
        time.sleep(0.1)


# -- nginx -------------------------------------------------------------------------------------------------

NGINX_DIR = ROOT / "bench" / "nginx"


def nginx_config(template: str, run_dir: Path, **values: Any) -> Path:
    """Write an nginx config from bench/nginx/<template> with its {placeholders} filled; return its path."""
    text = (NGINX_DIR / template).read_text()
    for key, value in {"run_dir": run_dir, **values}.items():
        text = text.replace("{" + key + "}", str(value))
    path = run_dir / template
    path.write_text(text)
    return path


def nginx_service(name: str, config: Path, run_dir: Path) -> Service:
    binary = which("nginx")
    assert binary is not None
    return Service(name, [binary, "-p", str(run_dir), "-c", str(config)], log=run_dir / f"{name}.log")


def make_run_dir(prefix: str) -> Path:
    """Return a fresh directory for configs, pid files and logs, readable by nginx's workers."""
    path = Path(tempfile.mkdtemp(prefix=f"portico-{prefix}-"))
    path.chmod(0o755)
    return path


# -- wrk ---------------------------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS_MS[unit]


def run_wrk(url: str, *, headers: Mapping[str, str], connections: int, threads: int, duration: int) -> dict[str, Any]:
    """Run wrk once with a fixed connection count and duration; return rps, latency percentiles and errors."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "2s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=duration + 30).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(re.search(r"\s50%\s+(\S+)", output).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"\s99%\s+(\S+)", output).group(1)),  # type: ignore[union-attr]
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else "",
    }


def spread(values: Sequence[float], digits: int = 1) -> dict[str, float]:
    """Return the median, min and max of some measurements."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def client_report(
    benchmark: str,
    runs: dict[str, list[dict[str, float]]],
    *,
    settings: dict[str, Any],
    load_before: list[float],
    ratio: tuple[str, str, str],
) -> Path:
    """Summarise an in-process A/B client benchmark (medians with min-max of every figure per client), print it,
    and write it as JSON under bench/results/. `ratio` is (figure, numerator client, denominator client)."""
    summary: dict[str, Any] = {
        name: {figure: spread([run[figure] for run in results]) for figure in results[0]}
        for name, results in runs.items()
    }
    figure, top, bottom = ratio
    summary[f"{top}_over_{bottom}_{figure}"] = round(
        summary[top][figure]["median"] / summary[bottom][figure]["median"], 3
    )
    load = {"before": load_before, "after": load_average()}
    print(json.dumps({"summary": summary, "load_average": load}, indent=2))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "benchmark": benchmark,
        "time": stamp,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load_average": load,
        "settings": settings,
        "runs": runs,
        "summary": summary,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{benchmark}-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return path
