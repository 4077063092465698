"""Throughput and latency of the gateway against calling its backend directly, measured in one run.

    .venv/bin/python bench/gateway_vs_direct.py [--connections 32] [--duration 10] [--rounds 2]

Starts, on 127.0.0.1 only, a backend (uvicorn, uvloop, httptools, a bare ASGI app returning a small JSON
body) and the gateway (same server stack) serving one HTTP_PROXY route to it from an InMemoryConfigSource,
each in its own process. Then runs `wrk` against the backend directly and through the gateway, interleaved
round by round so drift hits both alike, prints rps / p50 / p99 and the gateway/direct ratio, and writes
the figures as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
API_ID = "benchapi01"
STAGE = "prod"
BACKEND_BODY = b'{"id":1,"name":"widget","tags":["a","b"],"price":9.5}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the two servers, each run in a child process of this script ---------------------------------------


async def backend_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A minimal ASGI backend: the cheapest honest baseline for "direct"."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BACKEND_BODY)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": BACKEND_BODY})


def serve(app: Any, port: int) -> None:
    import uvicorn

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


def serve_gateway(port: int, backend_port: int) -> None:
    sys.path.insert(0, str(ROOT))
    from gateway_runtime.asgi import build_application
    from gateway_runtime.config import GatewaySettings, InMemoryConfigSource

    integration = {"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": f"http://127.0.0.1:{backend_port}/items/{{id}}"}
    stage = {
        "apiId": API_ID,
        "stageName": STAGE,
        "revision": 1,
        "snapshot": {
            "restApi": {"id": API_ID, "name": "bench"},
            "resources": [
                {"id": "root000000", "path": "/", "resourceMethods": {}},
                {"id": "items00000", "path": "/items", "resourceMethods": {}},
                {
                    "id": "item000000",
                    "path": "/items/{id}",
                    "resourceMethods": {"GET": {"httpMethod": "GET", "methodIntegration": integration}},
                },
            ],
            "gatewayResponses": [],
        },
        "variables": {},
    }
    serve(build_application(InMemoryConfigSource([stage]), GatewaySettings()), port)


# -- the driver ------------------------------------------------------------------------------------------


def wait_until_up(url: str, headers: dict[str, str], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up")
        time.sleep(0.1)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS_MS[unit]


def cpu_seconds(pid: int) -> float | None:
    """Return user+system CPU seconds a process has used (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, *, host: str | None, connections: int, threads: int, duration: int) -> dict[str, Any]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "2s"]
    if host:
        command += ["-H", f"Host: {host}"]
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


def summarise(runs: list[dict[str, Any]]) -> dict[str, float]:
    summary = {
        "rps": round(statistics.median(run["rps"] for run in runs), 1),
        "p50_ms": round(statistics.median(run["p50_ms"] for run in runs), 3),
        "p99_ms": round(statistics.median(run["p99_ms"] for run in runs), 3),
    }
    for key in ("gateway_cpu_us_per_request", "backend_cpu_us_per_request"):
        values = [run[key] for run in runs if key in run]
        if values:
            summary[key] = round(statistics.median(values), 1)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="direct+gateway pairs, interleaved")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--serve-backend", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-gateway", type=int, nargs=2, metavar=("PORT", "BACKEND_PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_backend:
        serve(backend_app, args.serve_backend)
        return 0
    if args.serve_gateway:
        serve_gateway(*args.serve_gateway)
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2

    backend_port, gateway_port = free_port(), free_port()
    direct_url = f"http://127.0.0.1:{backend_port}/items/1"
    gateway_url = f"http://127.0.0.1:{gateway_port}/{STAGE}/items/1"
    gateway_host = f"{API_ID}.execute-api.localhost:{gateway_port}"
    children = [
        subprocess.Popen([sys.executable, __file__, "--serve-backend", str(backend_port)]),
        subprocess.Popen([sys.executable, __file__, "--serve-gateway", str(gateway_port), str(backend_port)]),
    ]
    try:
        wait_until_up(direct_url, {})
        wait_until_up(gateway_url, {"Host": gateway_host})
        load = {"connections": args.connections, "threads": args.threads}
        for url, host in ((direct_url, None), (gateway_url, gateway_host)):
            run_wrk(url, host=host, duration=2, **load)  # warm-up: connection pools, caches, JIT-free but still
        runs: dict[str, list[dict[str, Any]]] = {"direct": [], "gateway": []}
        processes = {"backend": children[0].pid, "gateway": children[1].pid}
        for round_number in range(1, args.rounds + 1):
            for name, url, host in (("direct", direct_url, None), ("gateway", gateway_url, gateway_host)):
                before = {process: cpu_seconds(pid) for process, pid in processes.items()}
                result = run_wrk(url, host=host, duration=args.duration, **load)
                # CPU per request holds steadier than rps on a shared machine: it ignores who else runs.
                for process, pid in processes.items():
                    start, end = before[process], cpu_seconds(pid)
                    if start is not None and end is not None and result["requests"]:
                        result[f"{process}_cpu_us_per_request"] = round((end - start) / result["requests"] * 1e6, 1)
                runs[name].append(result)
                print(
                    f"round {round_number} {name:8s} {result['rps']:10.1f} rps  p50 {result['p50_ms']:7.3f} ms  "
                    f"p99 {result['p99_ms']:7.3f} ms  gateway CPU/request "
                    f"{result.get('gateway_cpu_us_per_request', '?')} us  non-2xx {result['non_2xx']}"
                )
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()

    direct, gateway = summarise(runs["direct"]), summarise(runs["gateway"])
    summary = {
        "direct": direct,
        "gateway": gateway,
        "gateway_over_direct_rps": round(gateway["rps"] / direct["rps"], 3),
        "added_p50_ms": round(gateway["p50_ms"] - direct["p50_ms"], 3),
        "added_p99_ms": round(gateway["p99_ms"] - direct["p99_ms"], 3),
    }
    print(json.dumps(summary, indent=2))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "benchmark": "gateway_vs_direct",
        "time": stamp,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load": {"tool": "wrk", "duration_s": args.duration, "rounds": args.rounds, **load},
        "runs": runs,
        "summary": summary,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"gateway_vs_direct-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    failed = any(run["non_2xx"] for name in runs for run in runs[name])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
