"""The drain on real Celery processes: beat schedules it, workers run it, and kill -9 loses nothing."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum

from gateway_runtime.metering import LocalEventStore, chunk_payloads
from usage.models import Rollup
from usage.tests.conftest import mixed_events

pytestmark = pytest.mark.load
BASE_DIR = Path(settings.BASE_DIR)


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a Celery process in a session of its own (so kill -9 reaches its pool children too)."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *args],
        cwd=BASE_DIR,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def celery_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        DEBUG="1",
        PORTICO_VAR_DIR=str(tmp_path / "var"),
        USAGE_DRAIN_INTERVAL="0.5",
        USAGE_FOLD_INTERVAL="3600",
        USAGE_DRAIN_BATCH_ENTRIES="100",
        USAGE_CLAIM_IDLE_MS="3000",
    )
    env.update(extra)
    return env


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_five_times_loses_and_doubles_nothing(private_redis, tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL run: worker processes must share the test database")
    events = mixed_events(20_000, seed=11)
    client = private_redis_client(private_redis.url)
    pipe = client.pipeline(transaction=False)
    for line in events:  # one event per entry
        pipe.xadd("usage-events", {"e": line})
    pipe.execute()
    db = connection.settings_dict
    env = celery_env(
        tmp_path,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=private_redis.url,
        CELERY_BROKER_URL=private_redis.url.replace("/0", "/1"),
        USAGE_STREAM="usage-events",
        # 2,000 small batches (one transaction each) rather than 200: the drain then lasts long enough for
        # five kills however fast the machine is.
        USAGE_DRAIN_BATCH_ENTRIES="10",
    )
    log = tmp_path / "celery.log"
    beat = start(["beat", "-s", str(tmp_path / "beat-schedule"), "--loglevel", "WARNING"], env, log)
    worker_args = ["worker", "--concurrency", "2", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
    worker = start(worker_args, env, log)
    try:
        for _ in range(5):
            before = counted()
            deadline = time.monotonic() + 30
            while counted() == before and time.monotonic() < deadline:
                time.sleep(0.05)
            kill(worker)  # mid-drain: it has just committed a batch and is on the next
            worker = start(worker_args, env, log)
        last_kill = time.monotonic()
        assert counted() < 20_000, "the drain finished before the last kill; the test proves nothing"
        while counted() < 20_000 and time.monotonic() - last_kill < 60:
            time.sleep(0.2)
        assert counted() == 20_000, log.read_text()[-3000:]
        time.sleep(2)  # claims of entries already counted must add nothing
        assert counted() == 20_000
        assert client.xpending("usage-events", "portico-usage")["pending"] == 0
    finally:
        kill(worker)
        kill(beat)
        client.close()


def counted() -> int:
    return Rollup.objects.filter(granularity="m").aggregate(n=Sum("count"))["n"] or 0


def private_redis_client(url: str):
    import redis

    return redis.Redis.from_url(url)


def test_the_embedded_mode_drains_the_local_store_on_a_worker_with_beat(tmp_path: Path) -> None:
    env = celery_env(tmp_path, DATABASE_URL="", REDIS_URL="", CELERY_BROKER_URL="")
    var = tmp_path / "var"
    for folder in ("broker", "processed", "control"):  # what `manage.py bootstrap` makes for the embedded broker
        (var / "celery" / folder).mkdir(parents=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--skip-checks", "-v", "0"], cwd=BASE_DIR, env=env, check=True
    )
    LocalEventStore(var / "metering" / "events.sqlite3").append(chunk_payloads(mixed_events(3_000), 100))
    log = tmp_path / "celery.log"
    worker = start(["worker", "-B", "--concurrency", "1", "-s", str(var / "beat"), "--loglevel", "WARNING"], env, log)
    try:
        deadline = time.monotonic() + 90
        total = 0
        while time.monotonic() < deadline:
            with sqlite3.connect(var / "portico.sqlite3") as db:
                total = db.execute(
                    "SELECT COALESCE(SUM(count), 0) FROM usage_rollup WHERE granularity = 'm'"
                ).fetchone()[0]
            if total >= 3_000:
                break
            time.sleep(0.3)
        assert total == 3_000, log.read_text()[-3000:]
        assert LocalEventStore(var / "metering" / "events.sqlite3").events() == 0
    finally:
        kill(worker)
