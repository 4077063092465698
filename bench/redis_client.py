"""CPU per counter take: redis-py's asyncio client (as the gateway used it) against the gateway's own pipelined
connection (gateway_runtime.redisproto), in one run.

    .venv/bin/python bench/redis_client.py [--concurrency 32] [--duration 3] [--rounds 5]

Starts a private redis-server on 127.0.0.1 and, in this process (uvloop), keeps `concurrency` takes of one
request's check (a key bucket, a stage bucket, the account bucket and a DAY quota, far above the load) in
flight for `duration` seconds with each client in turn, A B A B …:

- `redis-py`: redis.asyncio with hiredis installed and command packing by hiredis, the takes asked for in
  one loop turn sent as one pipeline of EVALSHA, each bounded by asyncio.timeout (the gateway's previous
  RedisCounterStore and Limiter);
- `redisproto`: `RedisCounterStore` over `RedisPipe`, as the gateway runs it now, bounded by the limiter's
  single watchdog timer (`Limiter.admit`).

Reports this process's CPU µs per take (time.process_time; Redis's own CPU is not in it) and takes/s,
medians with min-max, and writes JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness

from gateway_runtime.counters import ALLOWED, TAKE_SCRIPT, RedisCounterStore, take_arguments
from gateway_runtime.limiter import Limiter
from gateway_runtime.limits import Bucket, LimitCheck, QuotaCheck, parse_quota, period_bounds

RATE = 1e9
Take = Callable[[], Awaitable[Any]]


def the_check() -> LimitCheck:
    quota = parse_quota({"limit": 10**15, "period": "DAY"})
    assert quota is not None
    return LimitCheck(
        (
            Bucket("k:benchkey:plan", RATE, 10**9),
            Bucket("s:api/prod:/items/{id}/GET", RATE, 10**9),
            Bucket("a", RATE, 10**9),
        ),
        QuotaCheck("q:plan:benchkey", quota.limit, period_bounds(quota, time.time())),
    )


def redis_py_client(url: str, check: LimitCheck) -> tuple[Take, Callable[[], Awaitable[None]]]:
    """One EVALSHA per take; the takes of one loop turn go out as one redis-py pipeline."""
    import hiredis
    import redis.asyncio as aioredis
    from redis.asyncio.connection import Connection

    class HiredisPacking(Connection):
        def pack_command(self, *args: Any) -> list[bytes]:
            return [hiredis.pack_command(args)]

    client = aioredis.Redis.from_url(url, connection_class=HiredisPacking, health_check_interval=0, driver_info=None)
    keys, args = take_arguments(check, "bench:")
    command = [
        "EVALSHA",
        hashlib.sha1(TAKE_SCRIPT.encode(), usedforsecurity=False).hexdigest(),
        len(keys),
        *keys,
        *args,
    ]
    batch: list[asyncio.Future[Any]] = []
    flushing: set[asyncio.Task[None]] = set()

    async def flush() -> None:
        answers = batch[:]
        batch.clear()
        pipe = client.pipeline(transaction=False)
        for _ in answers:
            pipe.execute_command(*command)
        replies = await pipe.execute(raise_on_error=False)
        for answer, reply in zip(answers, replies, strict=True):
            if not answer.done():
                answer.set_result(reply)
            if not isinstance(reply, list) or reply[0] != 0:
                raise RuntimeError(f"the take was not allowed: {reply!r}")

    async def take() -> Any:
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        if not batch:
            task = loop.create_task(flush())
            flushing.add(task)
            task.add_done_callback(flushing.discard)
        batch.append(answer)
        async with asyncio.timeout(0.05 + 0.1):
            return await answer

    async def close() -> None:
        await client.aclose()

    return take, close


def redisproto_client(url: str, check: LimitCheck) -> tuple[Take, Callable[[], Awaitable[None]]]:
    limiter = Limiter(RedisCounterStore(url, prefix="bench:"), timeout_s=0.05)

    async def take() -> Any:
        verdict = await limiter.admit(check, "closed")
        if verdict is not ALLOWED:
            raise RuntimeError(f"the take was not allowed: {verdict}")
        return verdict

    async def close() -> None:
        await limiter.store.close("bench")

    return take, close


CLIENTS = {"redis-py": redis_py_client, "redisproto": redisproto_client}


async def measure(take: Take, *, concurrency: int, duration: float) -> dict[str, float]:
    """Keep `concurrency` takes in flight for `duration` seconds; return CPU µs per take and takes/s."""
    done = 0
    stop_at = time.monotonic() + duration

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < stop_at:
            reply = await take()
            if reply is None:
                raise RuntimeError("no answer")
            done += 1

    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    return {"cpu_us_per_take": round(cpu / done * 1e6, 1), "takes_per_second": round(done / wall, 1), "takes": done}


async def bench(url: str, args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    import redis.asyncio as aioredis

    setup = aioredis.Redis.from_url(url)
    await setup.script_load(TAKE_SCRIPT)
    await setup.aclose()
    check = the_check()
    clients = {name: factory(url, check) for name, factory in CLIENTS.items()}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in clients}
    try:
        for take, _ in clients.values():
            await measure(take, concurrency=args.concurrency, duration=1)  # warm-up: connect
        for round_number in range(1, args.rounds + 1):
            for name, (take, _) in clients.items():
                result = await measure(take, concurrency=args.concurrency, duration=args.duration)
                runs[name].append(result)
                print(
                    f"round {round_number} {name:10s} {result['cpu_us_per_take']:7.1f} µs/take  "
                    f"{result['takes_per_second']:9.1f} takes/s",
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
    harness.ensure_tools(["redis-server"])
    run_dir = harness.make_run_dir("redis-client")
    port = harness.free_port()
    binary = harness.which("redis-server")
    assert binary is not None
    redis = harness.Service(
        "redis",
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        log=run_dir / "redis.log",
    )
    url = f"redis://127.0.0.1:{port}/0"
    load_before = harness.load_average()
    redis.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import redis as redis_sync

                redis_sync.Redis.from_url(url).ping()
                break
            except Exception:
                time.sleep(0.05)
        runs = uvloop.run(bench(url, args))
    finally:
        redis.stop()
    harness.client_report(
        "redis_client",
        runs,
        settings=vars(args),
        load_before=load_before,
        ratio=("cpu_us_per_take", "redisproto", "redis-py"),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
