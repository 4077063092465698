"""CPU per upstream call: aiohttp (as the gateway used it) against gateway_runtime.httpclient, in one run.

    .venv/bin/python bench/upstream_client.py [--concurrency 32] [--duration 3] [--rounds 5]

Starts the nginx backend of bench/compare.py on 127.0.0.1 and, in this process (uvloop), keeps
`concurrency` requests in flight for `duration` seconds with each client in turn, A B A B …, each with
the headers an HTTP_PROXY call forwards. Reports this process's CPU µs per request (time.process_time,
which the rest of the machine does not disturb) and requests/s, medians with min-max, and writes JSON
under bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness

from gateway_runtime.httpclient import HTTPClient

# What _forwarded_headers makes of a typical wrk/curl request.
HEADERS = [
    ("user-agent", "wrk"),
    ("accept", "*/*"),
    ("x-forwarded-for", "127.0.0.1"),
    ("x-forwarded-proto", "http"),
]

Call = Callable[[str], Awaitable[bytes]]


def aiohttp_client(pool_size: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    """The session gateway_runtime.integrations.upstream opened, called the way its `send` called it."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=pool_size, ttl_dns_cache=60),
        timeout=aiohttp.ClientTimeout(total=None),
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
    )

    async def call(url: str) -> bytes:
        from yarl import URL

        async with session.request("GET", URL(url, encoded=True), headers=HEADERS, allow_redirects=False) as response:
            body = await response.read()
            list(response.raw_headers)
            return body

    return call, session.close


def portico_client(pool_size: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    client = HTTPClient(max_connections=pool_size)

    async def call(url: str) -> bytes:
        return (await client.request("GET", url, headers=HEADERS, timeout=29.0)).body

    return call, client.close


CLIENTS = {"aiohttp": aiohttp_client, "httpclient": portico_client}


async def measure(call: Call, url: str, *, concurrency: int, duration: float) -> dict[str, float]:
    """Keep `concurrency` calls in flight for `duration` seconds; return CPU µs per call and calls/s."""
    done = 0
    stop_at = time.monotonic() + duration

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < stop_at:
            body = await call(url)
            if body != harness.BACKEND_BODY:
                raise RuntimeError(f"unexpected body {body[:80]!r}")
            done += 1

    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    return {"cpu_us_per_request": round(cpu / done * 1e6, 1), "rps": round(done / wall, 1), "requests": done}


async def bench(url: str, args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    clients = {name: factory(args.concurrency) for name, factory in CLIENTS.items()}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in clients}
    try:
        for call, _ in clients.values():
            await measure(call, url, concurrency=args.concurrency, duration=1)  # warm-up: fill the pools
        for round_number in range(1, args.rounds + 1):
            for name, (call, _) in clients.items():
                result = await measure(call, url, concurrency=args.concurrency, duration=args.duration)
                runs[name].append(result)
                print(
                    f"round {round_number} {name:10s} {result['cpu_us_per_request']:7.1f} µs/request  "
                    f"{result['rps']:9.1f} requests/s",
                    flush=True,
                )
    finally:
        for _, close in clients.values():
            await close()
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per client per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    harness.ensure_tools(["nginx"])
    run_dir = harness.make_run_dir("upstream")
    port = harness.free_port()
    backend = harness.nginx_service("backend", harness.nginx_config("backend.conf", run_dir, port=port), run_dir)
    url = f"http://127.0.0.1:{port}/items/1"
    load_before = harness.load_average()
    backend.start()
    try:
        harness.wait_until_up(url, service=backend)
        runs = uvloop.run(bench(url, args))
    finally:
        backend.stop()
    harness.client_report(
        "upstream_client",
        runs,
        settings=vars(args),
        load_before=load_before,
        ratio=("cpu_us_per_request", "httpclient", "aiohttp"),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
