"""End to end: requests through a live gateway, events through Redis, the drain, the rollups.

Until the API-key step's keyring is shared with these tests, a test-only step stands in for it: it reads
`x-test-key` and sets `ctx.api_key_id` / `ctx.usage_plan_id` exactly as the real step does.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from django.db.models import Sum

from gateway_runtime import pipeline
from gateway_runtime.asgi import build_application
from gateway_runtime.config import GatewaySettings, InMemoryConfigSource
from gateway_runtime.metering import LocalEventStore, Meter, MeteringSettings, Recorder
from gateway_runtime.tests.servers import ServerThread
from gateway_runtime.tests.snapshots import API_ID, mock, stage
from usage import services
from usage.models import Rollup
from usage.tests.conftest import SHARED_REDIS_URL, RedisServer, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.load]
HOST = f"{API_ID}.execute-api.localhost"
KEYS = ("key-a", "key-b", "key-c", "key-d")


async def stand_in_key_step(ctx):
    key = ctx.header("x-test-key")
    if key:
        ctx.api_key_id, ctx.usage_plan_id = key, "plan-load"
    return None


@pytest.fixture
def gateway_with(monkeypatch) -> Iterator:
    monkeypatch.setattr(pipeline, "STEPS", [*pipeline.STEPS])
    pipeline.STEPS.insert(pipeline.STEPS.index(pipeline.route) + 1, stand_in_key_step)
    monkeypatch.setattr(pipeline.run, "__defaults__", (pipeline.STEPS,))
    servers: list[ServerThread] = []

    def start(meter: Meter) -> ServerThread:
        config = stage({("/pets", "GET"): mock(), ("/pets", "POST"): mock()})
        app = build_application(
            InMemoryConfigSource([config]), GatewaySettings(config_poll_seconds=0.5), Recorder(meter=meter)
        )
        servers.append(ServerThread(app))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


async def send_requests(port: int, plan: list[tuple[str, str]], concurrency: int = 32) -> collections.Counter:
    """Send the (method, key) requests; return how many of each got a response."""
    served: collections.Counter = collections.Counter()
    queue = list(reversed(plan))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while queue:
                method, key = queue.pop()
                while True:
                    try:
                        async with session.request(
                            method, f"http://127.0.0.1:{port}/prod/pets", headers={"Host": HOST, "x-test-key": key}
                        ) as response:
                            await response.read()
                            served[(method, key, response.status)] += 1
                            break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.01)  # not sent: try again (nothing was served)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return served


def wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def metered(**filters: object) -> int:
    return Rollup.objects.filter(granularity="m", **filters).aggregate(n=Sum("count"))["n"] or 0


def test_20000_requests_through_the_gateway_are_metered_exactly(gateway_with, shared_redis, stream_name) -> None:
    meter = Meter(MeteringSettings(redis_url=SHARED_REDIS_URL, stream=stream_name))
    server = gateway_with(meter)
    plan = [(("GET", "POST")[i % 2], KEYS[(i // 2) % 4]) for i in range(20_000)]

    served = asyncio.run(send_requests(server.port, plan))
    wait_for(lambda: meter.counts["sent"] == 20_000, 30)
    report = services.stream_drain(client=shared_redis, stream=stream_name, group="g", batch_entries=100)

    assert sum(served.values()) == 20_000 and all(status == 200 for _, _, status in served)
    assert report.result.counted == 20_000 and metered() == 20_000
    for key in KEYS:
        for method in ("GET", "POST"):
            assert metered(series__key_id=key, series__http_method=method) == 2_500
    assert metered(series__plan_id="plan-load", series__resource_path="/pets") == 20_000


def test_redis_down_for_five_seconds_loses_no_event(gateway_with, tmp_path: Path) -> None:
    redis_server = RedisServer(port=free_port(), directory=tmp_path)
    redis_server.start()
    settings = MeteringSettings(
        redis_url=redis_server.url, stream="events", spool=str(tmp_path / "spool.sqlite3"), retry_seconds=0.5
    )
    meter = Meter(settings)
    server = gateway_with(meter)
    served: collections.Counter = collections.Counter()
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            served.update(asyncio.run(send_requests(server.port, [("GET", KEYS[0])] * 200, concurrency=8)))

    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        time.sleep(2)
        redis_server.stop(save=True)  # a persistent Redis going down: what it acknowledged survives
        time.sleep(5)
        redis_server.start()
        time.sleep(2)
    finally:
        stop.set()
        sender.join(60)
    spool = LocalEventStore(settings.spool)
    wait_for(lambda: meter.buffered == 0 and spool.events() == 0 and not meter._spool_pending, 30)

    client = services.redis_client(redis_server.url)
    try:
        report = services.stream_drain(client=client, stream="events", group="g", batch_entries=200)
    finally:
        client.close()
        redis_server.stop(save=False)
    total_served = sum(served.values())
    assert meter.counts["spooled"] > 0, "Redis was down, so some events must have gone through the spool"
    assert total_served > 0 and report.result.counted == total_served == metered()


def test_the_gateway_meters_into_the_local_store_in_the_embedded_mode(gateway_with, tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    meter = Meter(MeteringSettings(local_store=str(path)))
    server = gateway_with(meter)

    served = asyncio.run(send_requests(server.port, [("GET", "key-a")] * 500 + [("POST", "")] * 500))
    wait_for(lambda: meter.counts["sent"] == 1_000, 30)
    services.local_store_drain(path=str(path))

    assert sum(served.values()) == 1_000
    assert metered(series__key_id="key-a", series__http_method="GET") == 500
    assert metered(series__key_id="", series__http_method="POST") == 500
