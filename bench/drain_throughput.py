#!/usr/bin/env python
"""Metering benchmarks, in one run: the drain's events/s over a stream of 1 000 000 events, and the gateway's
requests/s with metering on vs off.

    .venv/bin/python bench/drain_throughput.py                      # PostgreSQL (database portico_bench), 1M events
    .venv/bin/python bench/drain_throughput.py --sqlite --events 200000
    .venv/bin/python bench/drain_throughput.py --skip-gateway --events 1000000

Starts its own redis-server on a free port (never touches the shared one). PostgreSQL: the database named by
--database-url is dropped and created. The gateway part needs `wrk`; it serves one MOCK method from two
gateway processes, one metering into the private Redis and one not, and alternates wrk runs between them.
Results go to bench/results/drain_throughput-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
API_IDS = ("a1b2c3d4e5", "f6g7h8i9j0", "k1l2m3n4o5")
RESOURCES = ("/pets", "/pets/{id}", "/orders", "/orders/{id}", "/users")
METHODS = ("GET", "POST", "DELETE")
STREAM = "bench:usage:events"
API_ID = "a1b2c3d4e5"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(directory: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    binary = shutil.which("redis-server") or "redis-server"
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, skip_checks=True)


def recreate_postgres(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def events(count: int, keys: int = 20, seed: int = 1) -> list[str]:
    """Return `count` event lines over 3 APIs x 5 resources x 3 methods x `keys` keys, spread over 30 minutes."""
    from gateway_runtime.metering import encode_event

    rng = random.Random(seed)
    start_ms = int(time.time() * 1000) - 30 * 60 * 1000
    key_ids = [f"key{n:05d}" for n in range(keys)]
    lines = []
    for n in range(count):
        lines.append(
            encode_event(
                event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                time_ms=start_ms + n * 1_800_000 // count,
                api_id=API_IDS[n % 3],
                stage="prod",
                resource_path=RESOURCES[rng.randrange(5)],
                http_method=METHODS[rng.randrange(3)],
                key_id=key_ids[rng.randrange(keys)],
                plan_id="plan01",
                status=rng.choice((200, 200, 200, 201, 404, 500)),
                latency_us=int(rng.lognormvariate(9, 1)),
                integration_latency_us=int(rng.lognormvariate(8.8, 1)),
                bytes_in=rng.randrange(2000),
                bytes_out=rng.randrange(20000),
                flags=rng.choice(("", "", "", "H", "M")),
            )
        )
    return lines


def cpu_seconds(pid: int) -> float:
    """Return the user+system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_cpu_seconds(client: Any) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def bench_drain(redis_url: str, count: int, batch_entries: int, keys: int) -> dict[str, Any]:
    import redis
    from django.db import connection
    from django.db.models import Sum

    from gateway_runtime.metering import chunk_payloads
    from usage import services
    from usage.models import Rollup

    client = services.redis_client(redis_url)
    started = time.perf_counter()
    lines = events(count, keys)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    pipe = client.pipeline(transaction=False)
    for n, payload in enumerate(chunk_payloads(lines, 100)):
        pipe.xadd(STREAM, {"e": payload})
        if n % 500 == 499:
            pipe.execute()
    pipe.execute()
    loaded = time.perf_counter() - started
    dupes = lines[: min(count, 100_000)]
    del lines

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0")
        backend_pid = cursor.fetchone()[0]
    cpu_before = (time.process_time(), cpu_seconds(backend_pid) if backend_pid else 0.0, redis_cpu_seconds(client))
    started = time.perf_counter()
    report = services.stream_drain(
        client=client, stream=STREAM, group="bench", batch_entries=batch_entries, max_seconds=3600
    )
    drained = time.perf_counter() - started
    cpu_after = (time.process_time(), cpu_seconds(backend_pid) if backend_pid else 0.0, redis_cpu_seconds(client))
    cpu = {
        name: round(b - a, 2) for name, a, b in zip(("drain", "database", "redis"), cpu_before, cpu_after, strict=True)
    }
    counted = Rollup.objects.filter(granularity="m").aggregate(n=Sum("count"))["n"]
    rows = Rollup.objects.count()

    # The same events again (a replayed spool): everything must be recognised and dropped.
    pipe = client.pipeline(transaction=False)
    for payload in chunk_payloads(dupes, 100):
        pipe.xadd(STREAM, {"e": payload})
    pipe.execute()
    started = time.perf_counter()
    replay = services.stream_drain(client=client, stream=STREAM, group="bench", batch_entries=batch_entries)
    replayed = time.perf_counter() - started
    client.close()
    assert isinstance(client, redis.Redis)
    return {
        "database": connection.vendor,
        "events": count,
        "keys": keys,
        "counted": report.result.counted,
        "counted_in_rollups": counted,
        "minute_rollup_rows": rows,
        "batches": report.batches,
        "batch_entries": batch_entries,
        "generate_seconds": round(generated, 2),
        "xadd_seconds": round(loaded, 2),
        "drain_seconds": round(drained, 2),
        "drain_events_per_second": round(count / drained),
        # Wall-clock rates depend on what else the machine runs; CPU per event does much less.
        "drain_cpu_seconds": cpu,
        "drain_cpu_us_per_event": round(sum(cpu.values()) / count * 1e6, 2),
        "events_per_cpu_second": round(count / sum(cpu.values())),
        "replay_events": len(dupes),
        "replay_duplicates_found": replay.result.duplicates,
        "replay_events_per_second": round(len(dupes) / replayed),
    }


# -- gateway with metering on vs off -------------------------------------------------------------------


def serve_gateway(port: int, redis_url: str) -> None:
    sys.path.insert(0, str(ROOT))
    import uvicorn

    from gateway_runtime.asgi import build_application
    from gateway_runtime.config import GatewaySettings, InMemoryConfigSource
    from gateway_runtime.metering import Meter, MeteringSettings, Recorder

    integration = {
        "type": "MOCK",
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "integrationResponses": {"200": {"statusCode": "200", "responseTemplates": {"application/json": '{"ok":1}'}}},
    }
    stage = {
        "apiId": API_ID,
        "stageName": "prod",
        "revision": 1,
        "snapshot": {
            "restApi": {"id": API_ID, "name": "bench"},
            "resources": [
                {"id": "root000000", "path": "/", "resourceMethods": {}},
                {
                    "id": "items00000",
                    "path": "/items",
                    "resourceMethods": {"GET": {"httpMethod": "GET", "methodIntegration": integration}},
                },
            ],
            "gatewayResponses": [],
        },
        "variables": {},
    }
    meter = Meter(MeteringSettings(redis_url=redis_url, stream="bench:gateway")) if redis_url != "off" else None
    app = build_application(InMemoryConfigSource([stage]), GatewaySettings(), Recorder(meter=meter))
    uvicorn.run(
        app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", log_level="warning", access_log=False
    )


def wrk(port: int, duration: int, connections: int) -> tuple[float, int]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-H", f"Host: {API_ID}.execute-api.localhost"]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}/prod/items"], capture_output=True, text=True, check=True
    ).stdout
    return float(output.split("Requests/sec:")[1].split()[0]), int(output.split(" requests in")[0].split()[-1])


def wait_up(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gateway did not start")


def bench_gateway(redis_url: str, rounds: int, duration: int, connections: int) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (apt-get install -y wrk)"}
    ports = {"off": free_port(), "on": free_port()}
    processes = {
        name: subprocess.Popen(
            [sys.executable, __file__, "--serve-gateway", str(port), redis_url if name == "on" else "off"],
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"},
        )
        for name, port in ports.items()
    }
    try:
        for port in ports.values():
            wait_up(port)
            wrk(port, 2, connections)  # warm up
        runs: dict[str, list[float]] = {"off": [], "on": []}
        cpu_per_request: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(rounds):
            for name in ("off", "on"):
                before = cpu_seconds(processes[name].pid)
                rps, requests = wrk(ports[name], duration, connections)
                runs[name].append(rps)
                cpu_per_request[name].append((cpu_seconds(processes[name].pid) - before) / requests * 1e6)
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(10)
    off, on = statistics.median(runs["off"]), statistics.median(runs["on"])
    return {
        "connections": connections,
        "seconds_per_run": duration,
        "runs_rps": runs,
        "metering_off_rps": round(off, 1),
        "metering_on_rps": round(on, 1),
        "on_over_off": round(on / off, 3),
        # The gateway process's own CPU per request: the cost of metering, whatever the machine's load.
        "gateway_cpu_us_per_request_off": round(statistics.median(cpu_per_request["off"]), 1),
        "gateway_cpu_us_per_request_on": round(statistics.median(cpu_per_request["on"]), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch-entries", type=int, default=500)
    parser.add_argument("--keys", type=int, default=20, help="API keys the events are spread over")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/portico_bench")
    parser.add_argument("--sqlite", action="store_true", help="use a fresh SQLite file instead of PostgreSQL")
    parser.add_argument("--skip-gateway", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--serve-gateway", nargs=2, metavar=("PORT", "REDIS_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_gateway:
        serve_gateway(int(args.serve_gateway[0]), args.serve_gateway[1])
        return 0

    with tempfile.TemporaryDirectory(prefix="portico-bench-") as scratch:
        os.environ["PORTICO_VAR_DIR"] = scratch
        redis_process, redis_url = start_redis(Path(scratch))
        try:
            if args.sqlite:
                database_url = f"sqlite:///{scratch}/bench.sqlite3"
            else:
                database_url = args.database_url
                recreate_postgres(database_url)
            setup_django(database_url)
            results: dict[str, Any] = {
                "run": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
                "cpus": os.cpu_count(),
                "load_average_before": os.getloadavg(),
                "drain": bench_drain(redis_url, args.events, args.batch_entries, args.keys),
            }
            if not args.skip_gateway:
                results["gateway"] = bench_gateway(redis_url, args.rounds, args.duration, args.connections)
            results["load_average_after"] = os.getloadavg()
        finally:
            redis_process.terminate()
            redis_process.wait(10)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"drain_throughput-{results['run']}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"saved {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
