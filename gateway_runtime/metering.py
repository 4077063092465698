"""Usage events off the response path: buffered in memory, flushed to a Redis Stream or a local store.

The format and the names are in docs/metering.md. `record()` only appends a line to a list; a background
task flushes every 50 ms (or sooner at 1 000 events) with one pipeline of XADDs. When Redis fails the
batch goes to a bounded on-disk spool that is replayed once Redis answers again; in the embedded mode
(no REDIS_URL) events go to a SQLite file that the drain reads. SQLite runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway_runtime.accesslog import AccessLogs, Finished
from gateway_runtime.messages import Response
from gateway_runtime.metrics import GatewayMetrics

if TYPE_CHECKING:
    from gateway_runtime.context import RequestContext

logger = logging.getLogger(__name__)

FORMAT_VERSION = "1"
DEFAULT_STREAM = "portico:usage:events"
ENTRY_FIELD = "e"
# Error kinds whose 429 the usage plan caused, and the flag letters they set.
LIMIT_FLAGS = {"THROTTLED": "T", "QUOTA_EXCEEDED": "Q"}
CACHE_FLAGS = {"hit": "H", "miss": "M"}


def encode_event(
    *,
    event_id: str,
    time_ms: int,
    api_id: str,
    stage: str,
    resource_path: str,
    http_method: str,
    key_id: str | None,
    plan_id: str | None,
    status: int,
    latency_us: int,
    integration_latency_us: int | None,
    bytes_in: int,
    bytes_out: int,
    flags: str = "",
) -> str:
    """Return one event line (docs/metering.md, "Event format")."""
    return (
        f"{FORMAT_VERSION}\t{event_id}\t{time_ms}\t{api_id}\t{stage}\t{resource_path}\t{http_method}\t"
        f"{key_id or ''}\t{plan_id or ''}\t{status}\t{latency_us}\t"
        f"{'' if integration_latency_us is None else integration_latency_us}\t{bytes_in}\t{bytes_out}\t{flags}"
    )


def event_from_context(ctx: RequestContext, status: int, bytes_out: int, finished: float) -> str | None:
    """Return the event line of a finished request, or None when it matched no stage (nothing to bill)."""
    stage = ctx.stage
    if stage is None:
        return None
    latency = finished - ctx.started
    route = ctx.route
    flags = ""
    if ctx.error is not None:
        flags = LIMIT_FLAGS.get(ctx.error[0].response_type, "")
    cache = CACHE_FLAGS.get(getattr(ctx, "cache_status", None) or "")
    if cache:
        flags += cache
    return encode_event(
        event_id=ctx.request_id,
        time_ms=int((time.time() - latency) * 1000),
        api_id=stage.api_id,
        stage=stage.stage_name,
        resource_path=route.resource_path if route is not None else "",
        http_method=ctx.method,
        key_id=getattr(ctx, "api_key_id", None),
        plan_id=getattr(ctx, "usage_plan_id", None),
        status=status,
        latency_us=int(latency * 1_000_000),
        integration_latency_us=ctx.integration_latency_ms * 1000 if ctx.result is not None else None,
        bytes_in=len(ctx.body),
        bytes_out=bytes_out,
        flags=flags,
    )


def chunk_payloads(lines: Sequence[str], per_entry: int) -> list[str]:
    """Join event lines into payloads of at most `per_entry` lines each."""
    return ["\n".join(lines[i : i + per_entry]) for i in range(0, len(lines), per_entry)]


class LocalEventStore:
    """A SQLite file of event payloads, written and read with the stdlib `sqlite3` module (blocking calls).

    Used as the embedded mode's event store (the drain reads it) and as the spool while Redis is down.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS entries "
                "(id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, events TEXT NOT NULL)"
            )
            self._connection = connection
        return self._connection

    def append(self, payloads: Sequence[str]) -> None:
        """Store payloads durably (one transaction), in order."""
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO entries (n, events) VALUES (?, ?)", [(p.count("\n") + 1, p) for p in payloads]
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def read_after(self, position: int, limit: int) -> list[tuple[int, str]]:
        """Return up to `limit` (id, payload) rows with id above `position`, oldest first."""
        with self._lock:
            cursor = self._db().execute(
                "SELECT id, events FROM entries WHERE id > ? ORDER BY id LIMIT ?", (position, limit)
            )
            return list(cursor.fetchall())

    def delete_through(self, position: int) -> None:
        """Delete every row up to and including `position`."""
        with self._lock:
            self._db().execute("DELETE FROM entries WHERE id <= ?", (position,))

    def last_id(self) -> int:
        """Return the highest id ever given to a row (ids are never reused while the file lives)."""
        with self._lock:
            row = self._db().execute("SELECT seq FROM sqlite_sequence WHERE name = 'entries'").fetchone()
            return int(row[0]) if row else 0

    def events(self) -> int:
        """Return how many events the store holds."""
        with self._lock:
            return int(self._db().execute("SELECT COALESCE(SUM(n), 0) FROM entries").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


@dataclass(frozen=True, slots=True)
class MeteringSettings:
    """Where the gateway's usage events go; read from `settings.USAGE` and `REDIS_URL`."""

    enabled: bool = True
    redis_url: str = ""
    stream: str = DEFAULT_STREAM
    local_store: str = "var/metering/events.sqlite3"
    spool: str = "var/metering/spool.sqlite3"
    spool_max_events: int = 1_000_000
    flush_interval: float = 0.05
    flush_events: int = 1000
    events_per_entry: int = 100
    redis_timeout: float = 1.0
    retry_seconds: float = 1.0

    @classmethod
    def from_django(cls) -> MeteringSettings:
        """Return the settings of the configured Django project, or metering off when there is none."""
        from django.conf import settings

        if not (settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE")):
            return cls(enabled=False)
        usage: dict[str, Any] = getattr(settings, "USAGE", {}) or {}
        return cls(
            enabled=bool(usage.get("METERING", True)),
            redis_url=getattr(settings, "REDIS_URL", "") or "",
            stream=usage.get("STREAM", DEFAULT_STREAM),
            local_store=str(usage.get("LOCAL_STORE", cls.local_store)),
            spool=str(usage.get("SPOOL", cls.spool)),
            spool_max_events=int(usage.get("SPOOL_MAX_EVENTS", cls.spool_max_events)),
            flush_interval=float(usage.get("FLUSH_INTERVAL", cls.flush_interval)),
            flush_events=int(usage.get("FLUSH_EVENTS", cls.flush_events)),
            events_per_entry=int(usage.get("EVENTS_PER_ENTRY", cls.events_per_entry)),
        )


class Meter:
    """Buffer event lines and flush them in the background: to Redis (spooling on failure) or a local store."""

    def __init__(self, settings: MeteringSettings):
        self.settings = settings
        self._buffer: list[str] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portico-metering")
        self._redis: Any = None
        self._down_until = 0.0
        self._spool_pending = False
        self._store = LocalEventStore(settings.local_store if not settings.redis_url else settings.spool)
        self.counts = {"sent": 0, "spooled": 0, "replayed": 0, "dropped": 0}

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def record(self, line: str) -> None:
        """Queue one event line; never blocks, never raises."""
        self._buffer.append(line)
        if len(self._buffer) >= self.settings.flush_events:
            self._wake.set()

    async def start(self) -> None:
        """Start the background flusher (and replay what an earlier process left in the spool)."""
        if self._task is not None:
            return
        self._stopping = False
        self._wake = asyncio.Event()
        if self.settings.redis_url:
            import redis.asyncio as redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            self._redis = redis.Redis.from_url(
                self.settings.redis_url,
                socket_timeout=self.settings.redis_timeout,
                socket_connect_timeout=self.settings.redis_timeout,
                retry=Retry(NoBackoff(), 0),
            )
            self._spool_pending = await self._in_thread(self._store.events) > 0
        self._task = asyncio.get_running_loop().create_task(self._run(), name="portico-metering-flush")

    async def stop(self) -> None:
        """Flush what is buffered and stop."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None
        await self._in_thread(self._store.close)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.flush_interval)
            self._wake.clear()
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Metering flush failed")
            if self._stopping and not self._buffer:
                return

    async def flush(self) -> None:
        """Send what is buffered now; then replay the spool if Redis is back."""
        if self._buffer:
            lines, self._buffer = self._buffer, []
            payloads = chunk_payloads(lines, self.settings.events_per_entry)
            if self._redis is None:
                await self._in_thread(self._store.append, payloads)
                self.counts["sent"] += len(lines)
            elif not await self._send(payloads, len(lines)):
                await self._spool(payloads, len(lines))
        if self._redis is not None and self._spool_pending and time.monotonic() >= self._down_until:
            await self._replay()

    async def _send(self, payloads: Sequence[str], events: int) -> bool:
        if time.monotonic() < self._down_until:
            return False
        try:
            pipe = self._redis.pipeline(transaction=False)
            for payload in payloads:
                pipe.xadd(self.settings.stream, {ENTRY_FIELD: payload})
            await pipe.execute()
        except Exception as exc:  # any Redis or socket failure: spool, never lose
            self._down_until = time.monotonic() + self.settings.retry_seconds
            logger.warning("Metering: Redis unavailable (%r); spooling events to %s", exc, self._store.path)
            return False
        self.counts["sent"] += events
        return True

    async def _spool(self, payloads: Sequence[str], events: int) -> None:
        held = await self._in_thread(self._store.events)
        if held + events > self.settings.spool_max_events:
            self.counts["dropped"] += events
            logger.error("Metering spool full (%d events); dropped %d events", held, events)
            return
        await self._in_thread(self._store.append, payloads)
        self.counts["spooled"] += events
        self._spool_pending = True

    async def _replay(self) -> None:
        """Move spooled payloads to Redis, oldest first, under an exclusive lock shared by all processes."""
        lock_path = f"{self._store.path}.lock"
        Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another process is replaying
            try:
                while True:
                    rows = await self._in_thread(self._store.read_after, 0, 50)
                    if not rows:
                        self._spool_pending = False
                        return
                    events = sum(payload.count("\n") + 1 for _, payload in rows)
                    if not await self._send([payload for _, payload in rows], events):
                        return
                    self.counts["sent"] -= events
                    self.counts["replayed"] += events
                    await self._in_thread(self._store.delete_through, rows[-1][0])
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    async def _in_thread(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)


class Recorder:
    """What happens after a response is sent: the usage event, Prometheus counters, access and execution logs.

    The gateway makes one call, `record()`, after the client has its response; nothing in it waits.
    """

    def __init__(
        self,
        *,
        meter: Meter | None = None,
        access_logs: AccessLogs | None = None,
        metrics: GatewayMetrics | None = None,
    ):
        self.meter = meter
        self.access_logs = access_logs or AccessLogs(log_dir=Path("var/logs"))
        self.metrics = metrics or GatewayMetrics()
        if meter is not None:
            self.metrics.watch_metering(lambda: dict(meter.counts), lambda: meter.buffered)

    @classmethod
    def from_django(cls) -> Recorder:
        """Return a recorder configured by the Django settings (metering per `settings.USAGE`)."""
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        try:
            metering = MeteringSettings.from_django()
            usage = getattr(settings, "USAGE", {}) if metering.enabled else {}
        except ImproperlyConfigured as exc:
            logger.warning("Django settings unusable (%s); the gateway runs without metering", exc)
            return cls()
        log_dir = Path(usage.get("ACCESS_LOG_DIR") or "var/logs")
        return cls(
            meter=Meter(metering) if metering.enabled else None,
            access_logs=AccessLogs(log_dir=log_dir, redis_url=metering.redis_url),
        )

    async def start(self) -> None:
        if self.meter is not None:
            await self.meter.start()
        await self.access_logs.start()

    async def stop(self) -> None:
        if self.meter is not None:
            await self.meter.stop()
        await self.access_logs.stop()

    def record(self, ctx: RequestContext, status: int, length: int) -> None:
        """Record a request whose response (`status`, `length` body bytes) has been sent."""
        finished = time.perf_counter()
        try:
            stage = ctx.stage
            integration_ms = ctx.integration_latency_ms if ctx.result is not None else None
            if stage is None:
                self.metrics.observe("-", "-", status, finished - ctx.started, integration_ms, length)
                return
            self.metrics.observe(stage.api_id, stage.stage_name, status, finished - ctx.started, integration_ms, length)
            if self.meter is not None:
                line = event_from_context(ctx, status, length, finished)
                if line is not None:
                    self.meter.record(line)
            self.access_logs.write(Finished(ctx=ctx, status=status, length=length, finished=finished, now=time.time()))
        except Exception:
            # After the response: a bug here must not reach the ASGI server (or the next request).
            logger.exception("Recording request %s failed", ctx.request_id)

    def metrics_response(self) -> Response:
        """Return the Prometheus exposition as a response."""
        body, content_type = self.metrics.render()
        return Response(200, [(b"content-type", content_type.encode())], body)
