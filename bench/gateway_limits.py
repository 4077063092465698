"""What API keys, throttling and quotas cost: the gateway with them on, the same gateway with them off, and
the backend called directly, measured in one run.

    .venv/bin/python bench/gateway_limits.py [--connections 32] [--duration 10] [--rounds 2]

Starts, on 127.0.0.1 only: a backend (the bare ASGI app of gateway_vs_direct.py), a private redis-server
(no persistence) and two gateway processes serving the same HTTP_PROXY route to the backend:

- `off`: the method needs no key, the stage has no method settings, the account limit is off: no counter
  is touched;
- `on`: the method requires an API key; its usage plan has a throttle and a DAY quota, the stage a `*/*`
  throttle and the account limit is on, all far above the offered load, so every request runs the whole
  check (key digest, three buckets and the quota in one Lua script on Redis) and passes.

Then `wrk` runs against direct, off and on, interleaved round by round, and the script prints and saves
(bench/results/) requests/s, p50/p99 and CPU per request of the gateway and of Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_vs_direct import (
    API_ID,
    ROOT,
    STAGE,
    _ms,
    backend_app,
    cpu_seconds,
    free_port,
    serve,
    summarise,
    wait_until_up,
)

RESULTS = ROOT / "bench" / "results"
KEY = "bench-api-key-0123456789abcdefghij"
PEPPER = b"bench-pepper"
HIGH = 1_000_000  # limits no benchmark load reaches


def stage_config(backend_port: int, *, limits_on: bool) -> dict[str, Any]:
    integration = {"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": f"http://127.0.0.1:{backend_port}/items/{{id}}"}
    method = {"httpMethod": "GET", "apiKeyRequired": limits_on, "methodIntegration": integration}
    throttle = {"throttlingRateLimit": HIGH, "throttlingBurstLimit": HIGH}
    return {
        "apiId": API_ID,
        "stageName": STAGE,
        "revision": 1,
        "snapshot": {
            "restApi": {"id": API_ID, "name": "bench", "apiKeySource": "HEADER"},
            "resources": [
                {"id": "root000000", "path": "/", "resourceMethods": {}},
                {"id": "items00000", "path": "/items", "resourceMethods": {}},
                {"id": "item000000", "path": "/items/{id}", "resourceMethods": {"GET": method}},
            ],
            "gatewayResponses": [],
        },
        "variables": {},
        "methodSettings": {"*/*": throttle} if limits_on else {},
    }


def keyring() -> dict[str, Any]:
    import hashlib
    import hmac

    digest = hmac.new(PEPPER, KEY.encode(), hashlib.sha256).hexdigest()
    plan = {
        "throttle": {"rateLimit": HIGH, "burstLimit": HIGH},
        "quota": {"limit": 10**12, "offset": 0, "period": "DAY"},
        "stages": {f"{API_ID}/{STAGE}": {}},
    }
    return {
        "keys": {digest: {"id": "benchkey01", "enabled": True, "plans": ["benchplan"]}},
        "plans": {"benchplan": plan},
    }


def serve_gateway(port: int, backend_port: int, mode: str, redis_url: str) -> None:
    sys.path.insert(0, str(ROOT))
    from gateway_runtime.asgi import build_application
    from gateway_runtime.config import GatewaySettings, InMemoryConfigSource

    on = mode == "on"
    settings = GatewaySettings(
        redis_url=redis_url if on else "",
        counter_prefix="bench:",
        api_key_pepper=PEPPER,
        account_rate_limit=HIGH if on else None,
        account_burst_limit=HIGH,
    )
    source = InMemoryConfigSource([stage_config(backend_port, limits_on=on)], keyring=keyring() if on else None)
    serve(build_application(source, settings), port)


def run_wrk(url: str, *, headers: dict[str, str], connections: int, threads: int, duration: int) -> dict[str, Any]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "2s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=duration + 30).stdout

    def find(pattern: str) -> str:
        match = re.search(pattern, output)
        return match.group(1) if match else "0"

    return {
        "rps": float(find(r"Requests/sec:\s+([\d.]+)")),
        "p50_ms": _ms(find(r"\s50%\s+(\S+)")),
        "p99_ms": _ms(find(r"\s99%\s+(\S+)")),
        "requests": int(find(r"(\d+) requests in")),
        "non_2xx": int(find(r"Non-2xx or 3xx responses: (\d+)")),
    }


def start_redis(port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install -y redis-server)")
    return subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="direct/off/on triples, interleaved")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--serve-backend", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument(
        "--serve-gateway", nargs=4, metavar=("PORT", "BACKEND", "MODE", "REDIS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_backend:
        serve(backend_app, args.serve_backend)
        return 0
    if args.serve_gateway:
        port, backend, mode, redis_url = args.serve_gateway
        serve_gateway(int(port), int(backend), mode, redis_url)
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2

    backend_port, off_port, on_port, redis_port = free_port(), free_port(), free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    redis = start_redis(redis_port)
    children = [
        subprocess.Popen([sys.executable, __file__, "--serve-backend", str(backend_port)]),
        subprocess.Popen([sys.executable, __file__, "--serve-gateway", str(off_port), str(backend_port), "off", "-"]),
        subprocess.Popen(
            [sys.executable, __file__, "--serve-gateway", str(on_port), str(backend_port), "on", redis_url]
        ),
    ]
    host = f"{API_ID}.execute-api.localhost"
    targets = {
        "direct": (f"http://127.0.0.1:{backend_port}/items/1", {}),
        "off": (f"http://127.0.0.1:{off_port}/{STAGE}/items/1", {"Host": host}),
        "on": (f"http://127.0.0.1:{on_port}/{STAGE}/items/1", {"Host": host, "x-api-key": KEY}),
    }
    gateway_pids = {"off": children[1].pid, "on": children[2].pid}
    load = {"connections": args.connections, "threads": args.threads}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    try:
        time.sleep(0.5)
        for url, headers in targets.values():
            wait_until_up(url, headers)
            run_wrk(url, headers=headers, duration=2, **load)  # warm-up
        for round_number in range(1, args.rounds + 1):
            for name, (url, headers) in targets.items():
                pids = {"backend": children[0].pid, "redis": redis.pid}
                if name in gateway_pids:
                    pids["gateway"] = gateway_pids[name]
                before = {process: cpu_seconds(pid) for process, pid in pids.items()}
                result = run_wrk(url, headers=headers, duration=args.duration, **load)
                for process, pid in pids.items():
                    start, end = before[process], cpu_seconds(pid)
                    if start is not None and end is not None and result["requests"]:
                        result[f"{process}_cpu_us_per_request"] = round((end - start) / result["requests"] * 1e6, 1)
                runs[name].append(result)
                print(
                    f"round {round_number} {name:6s} {result['rps']:9.1f} rps  p50 {result['p50_ms']:7.3f} ms  "
                    f"p99 {result['p99_ms']:7.3f} ms  gateway CPU/request "
                    f"{result.get('gateway_cpu_us_per_request', '-')} us  redis CPU/request "
                    f"{result.get('redis_cpu_us_per_request', '-')} us  non-2xx {result['non_2xx']}"
                )
    finally:
        for child in children:
            child.terminate()
        redis.terminate()
        for process in [*children, redis]:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

    summary: dict[str, Any] = {name: summarise(items) for name, items in runs.items()}
    for name in ("off", "on"):
        values = [run["redis_cpu_us_per_request"] for run in runs[name] if "redis_cpu_us_per_request" in run]
        if values:
            summary[name]["redis_cpu_us_per_request"] = round(sorted(values)[len(values) // 2], 1)
    summary["on_over_off_rps"] = round(summary["on"]["rps"] / summary["off"]["rps"], 3)
    summary["off_over_direct_rps"] = round(summary["off"]["rps"] / summary["direct"]["rps"], 3)
    summary["on_over_direct_rps"] = round(summary["on"]["rps"] / summary["direct"]["rps"], 3)
    if "gateway_cpu_us_per_request" in summary["on"] and "gateway_cpu_us_per_request" in summary["off"]:
        summary["limits_gateway_cpu_us_per_request"] = round(
            summary["on"]["gateway_cpu_us_per_request"] - summary["off"]["gateway_cpu_us_per_request"], 1
        )
    print(json.dumps(summary, indent=2))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "benchmark": "gateway_limits",
        "time": stamp,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load": {"tool": "wrk", "duration_s": args.duration, "rounds": args.rounds, **load},
        "runs": runs,
        "summary": summary,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"gateway_limits-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    failed = any(run["non_2xx"] for items in runs.values() for run in items)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
