"""Writes of metering: ingest event batches exactly once, drain the stream or local store, fold and prune.

The record of usage is the database. A batch is committed in one transaction together with the ids of its
events and the source's watermark, and only then acknowledged to Redis (docs/metering.md).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction

from usage import histograms
from usage.events import HISTOGRAMS, MEASURES, Batch, finish, parse, reaggregate, split_dimensions
from usage.models import (
    GRANULARITY_SECONDS,
    DrainWatermark,
    EventIdBlock,
    EventIdHead,
    Granularity,
    Rollup,
    Series,
)

logger = logging.getLogger(__name__)

UPSERT_CHUNK = 500
TRANSACTION_ATTEMPTS = 3


def usage_settings() -> dict[str, Any]:
    """Return `settings.USAGE` (the defaults are in config/settings.py)."""
    return dict(getattr(settings, "USAGE", {}) or {})


# -- caches of this process ---------------------------------------------------------------------------


class SeenIds:
    """Event ids already committed, per event minute, as far as this process has read the id blocks.

    Only committed data goes in: blocks read from the database, and a batch's own ids after its commit.
    """

    def __init__(self, max_ids: int):
        self.max_ids = max_ids
        self.minutes: dict[int, tuple[int, set[int]]] = {}
        self.size = 0

    def committed(self, minute: int, upto_seq: int) -> set[int]:
        """Return the ids committed for `minute` in blocks numbered below `upto_seq`, reading what is missing."""
        cached = self.minutes.get(minute)
        if cached is None or cached[0] >= upto_seq:
            # Unknown here, or the head went back (a restored or flushed database): read it all again.
            seq, ids = 0, set()
            if cached is not None:
                self.size -= len(cached[1])
        else:
            seq, ids = cached
        if seq < upto_seq - 1:
            blobs = EventIdBlock.objects.filter(minute=minute, seq__gt=seq, seq__lt=upto_seq).values_list(
                "ids", flat=True
            )
            before = len(ids)
            for blob in blobs:
                ids.update(unpack_ids(bytes(blob)))
            self.size += len(ids) - before
        self.minutes[minute] = (upto_seq - 1, ids)
        return ids

    def add(self, minute: int, seq: int, ids: Iterable[int]) -> None:
        """Remember a committed block."""
        cached = self.minutes.get(minute)
        if cached is None or cached[0] != seq - 1:
            self.forget(minute)  # a gap: read it from the database next time
            return
        known = cached[1]
        before = len(known)
        known.update(ids)
        self.size += len(known) - before
        self.minutes[minute] = (seq, known)

    def forget(self, minute: int) -> None:
        cached = self.minutes.pop(minute, None)
        if cached is not None:
            self.size -= len(cached[1])

    def evict(self, keep: Iterable[int] = ()) -> None:
        """Drop the oldest minutes until under the limit, keeping `keep`."""
        kept = set(keep)
        for minute in sorted(self.minutes):
            if self.size <= self.max_ids:
                return
            if minute not in kept:
                self.forget(minute)

    def clear(self) -> None:
        self.minutes.clear()
        self.size = 0


SEEN = SeenIds(max_ids=1_000_000)
SERIES: dict[str, int] = {}


def caches_reset() -> None:
    """Forget what this process cached about the database (tests that roll back call this)."""
    SEEN.clear()
    SERIES.clear()


def pack_ids(ids: Iterable[int]) -> bytes:
    return b"".join(number.to_bytes(16, "big") for number in ids)


def unpack_ids(blob: bytes) -> list[int]:
    return [int.from_bytes(blob[i : i + 16], "big") for i in range(0, len(blob), 16)]


def series_dimensions(series: Series) -> str:
    """Return the tab-joined dimensions string of a series (its key in events and in the cache)."""
    return "\t".join(
        [series.api_id, series.stage, series.resource_path, series.http_method, series.key_id, series.plan_id]
    )


def series_resolve(*, dimensions: Iterable[str]) -> dict[str, int]:
    """Return series ids for tab-joined dimension strings, creating the missing series (idempotent)."""
    wanted = set(dimensions)
    missing = [dims for dims in wanted if dims not in SERIES]
    if missing:
        fields = [split_dimensions(dims) for dims in missing]
        Series.objects.bulk_create([Series(**values) for values in fields], ignore_conflicts=True, batch_size=500)
        # Read back a superset (same keys and APIs) in one query rather than one OR-clause per series.
        found = Series.objects.filter(
            key_id__in={values["key_id"] for values in fields}, api_id__in={values["api_id"] for values in fields}
        )
        for series in found:
            SERIES[series_dimensions(series)] = series.pk
    return {dims: SERIES[dims] for dims in wanted}


# -- rollup upserts -----------------------------------------------------------------------------------


def _histogram_add_sql(column: str) -> str:
    table = Rollup._meta.db_table
    if connection.vendor == "postgresql":
        return (
            f"ARRAY(SELECT COALESCE(x, 0) + COALESCE(y, 0) FROM unnest({table}.{column}, EXCLUDED.{column}) "
            f"WITH ORDINALITY AS t(x, y, n) ORDER BY n)"
        )
    return f"usage_histogram_add({table}.{column}, excluded.{column})"


def _sqlite_histogram_add(left: str | None, right: str | None) -> str:
    total = histograms.merge(json.loads(left or "[]"), json.loads(right or "[]"))
    return json.dumps(total, separators=(",", ":"))


def _updates() -> str:
    table = Rollup._meta.db_table
    return ", ".join(
        f"{name} = {_histogram_add_sql(name)}" if name in HISTOGRAMS else f"{name} = {table}.{name} + EXCLUDED.{name}"
        for name in MEASURES
    )


COLUMNS = ("granularity", "series_id", "start", "folded", *MEASURES)


def _upsert_sql(rows: int) -> str:
    """Multi-row VALUES (SQLite: its parameters are cheap; histograms are JSON text)."""
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    values = ", ".join([f"({placeholders})"] * rows)
    return (
        f"INSERT INTO {Rollup._meta.db_table} ({', '.join(COLUMNS)}) VALUES {values} "
        f"ON CONFLICT (granularity, series_id, start, folded) DO UPDATE SET {_updates()}"
    )


def _upsert_sql_postgres() -> str:
    """One array per column, unnested (PostgreSQL: a short, constant statement whatever the row count).

    Parameters: granularity, folded, then one array literal per column of `UNNESTED`. Histograms travel
    as arrays of text (`{"{1,2}","{3}"}`), cast row by row, because a 2-D array cannot be unnested by row.
    """
    arrays = ", ".join("%s::text[]" if name in HISTOGRAMS else "%s::bigint[]" for name in UNNESTED)
    selected = ", ".join(f"{name}::bigint[]" if name in HISTOGRAMS else name for name in MEASURES)
    return (
        f"INSERT INTO {Rollup._meta.db_table} ({', '.join(COLUMNS)}) "
        f"SELECT %s, series_id, start, %s, {selected} FROM unnest({arrays}) AS t({', '.join(UNNESTED)}) "
        f"ON CONFLICT (granularity, series_id, start, folded) DO UPDATE SET {_updates()}"
    )


UNNESTED = ("series_id", "start", *MEASURES)


def rollups_add(*, granularity: str, folded: bool, rows: Sequence[tuple[int, int, list]]) -> None:
    """Add (series id, bucket start, measures) rows to the rollups, creating rows that do not exist yet.

    Rows are written in (series, start) order, so concurrent writers lock them in the same order.
    """
    if not rows:
        return
    ordered = sorted(rows, key=lambda row: (row[0], row[1]))
    if connection.vendor == "postgresql":
        # Each column travels as one array literal built here, which PostgreSQL parses in C: psycopg would
        # quote every element in Python. Histograms are arrays of `"{1,2,3}"` text, cast row by row.
        literals: list[Any] = [granularity, folded]
        literals.append("{" + ",".join(str(row[0]) for row in ordered) + "}")
        literals.append("{" + ",".join(str(row[1]) for row in ordered) + "}")
        for index, name in enumerate(MEASURES):
            if name in HISTOGRAMS:
                cells = ('"{' + ",".join(map(str, row[2][index])) + '}"' for row in ordered)
            else:
                cells = (str(row[2][index]) for row in ordered)
            literals.append("{" + ",".join(cells) + "}")
        with connection.cursor() as cursor:
            cursor.execute(_upsert_sql_postgres(), literals)
        return
    connection.ensure_connection()
    connection.connection.create_function("usage_histogram_add", 2, _sqlite_histogram_add, deterministic=True)
    with connection.cursor() as cursor:
        for offset in range(0, len(ordered), UPSERT_CHUNK):
            chunk = ordered[offset : offset + UPSERT_CHUNK]
            params: list[Any] = []
            for series_id, start, measures in chunk:
                params.extend((granularity, series_id, start, folded))
                for name, value in zip(MEASURES, measures, strict=True):
                    params.append(json.dumps(value, separators=(",", ":")) if name in HISTOGRAMS else value)
            cursor.execute(_upsert_sql(len(chunk)), params)


# -- ingest ---------------------------------------------------------------------------------------------


@dataclass
class IngestResult:
    counted: int = 0
    duplicates: int = 0
    malformed: int = 0

    def add(self, other: IngestResult) -> None:
        self.counted += other.counted
        self.duplicates += other.duplicates
        self.malformed += other.malformed


def _position_key(position: str) -> tuple[int, ...]:
    return tuple(int(part) for part in position.split("-")) if position else (-1,)


def _lock_minutes(minutes: Sequence[int]) -> dict[int, int]:
    """Bump the dedupe head of each minute and return the new block numbers; the heads stay locked until commit."""
    if not minutes:
        return {}
    table = EventIdHead._meta.db_table
    values = ", ".join(["(%s, 1)"] * len(minutes))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (minute, seq) VALUES {values} "
            f"ON CONFLICT (minute) DO UPDATE SET seq = {table}.seq + 1 RETURNING minute, seq",
            list(minutes),
        )
        return {int(minute): int(seq) for minute, seq in cursor.fetchall()}


def _advance_watermark(source: str, position: str, result: IngestResult) -> None:
    mark, _ = DrainWatermark.objects.select_for_update().get_or_create(source=source)
    if _position_key(position) > _position_key(mark.position):
        mark.position = position
    mark.events += result.counted
    mark.duplicates += result.duplicates
    mark.malformed += result.malformed
    mark.save()


def events_ingest(*, source: str, position: str, batch: Batch) -> IngestResult:
    """Count a batch's events that were never counted before, in one transaction with the source's watermark."""
    minutes = sorted(minute for minute, events in batch.minutes.items() if events.lines)
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            series = series_resolve(dimensions=batch.dimensions())
            blocks: list[tuple[int, int, list[int]]] = []
            with transaction.atomic():
                result = IngestResult(duplicates=batch.repeated, malformed=batch.malformed)
                seqs = _lock_minutes(minutes)
                rows: list[tuple[int, int, list]] = []
                for minute in minutes:
                    events = batch.minutes[minute]
                    committed = SEEN.committed(minute, seqs[minute])
                    fresh = (
                        [number for number in events.lines if number not in committed]
                        if committed
                        else list(events.lines)
                    )
                    if len(fresh) < len(events.lines):
                        result.duplicates += len(events.lines) - len(fresh)
                        events = reaggregate(events, fresh)
                    blocks.append((minute, seqs[minute], fresh))
                    result.counted += len(fresh)
                    rows.extend((series[dims], minute, finish(acc)) for dims, acc in events.groups.items())
                EventIdBlock.objects.bulk_create(
                    [EventIdBlock(minute=minute, seq=seq, ids=pack_ids(ids)) for minute, seq, ids in blocks if ids]
                )
                rollups_add(granularity=Granularity.MINUTE, folded=False, rows=rows)
                _advance_watermark(source, position, result)
        except (IntegrityError, OperationalError):
            # A series deleted under the cache, a deadlock or a busy SQLite file: start the batch again.
            if attempt == TRANSACTION_ATTEMPTS - 1:
                raise
            logger.warning("Ingest of a batch from %s failed; retrying", source, exc_info=True)
            caches_reset()
            time.sleep(0.05 * (attempt + 1))
            continue
        for minute, seq, ids in blocks:
            SEEN.add(minute, seq, ids)
        SEEN.max_ids = int(usage_settings().get("DEDUPE_CACHE_IDS", SEEN.max_ids))
        SEEN.evict(keep=minutes)
        return result
    raise AssertionError("unreachable")


# -- draining a Redis Stream ----------------------------------------------------------------------------


@dataclass
class DrainReport:
    entries: int = 0
    batches: int = 0
    result: IngestResult = field(default_factory=IngestResult)


def consumer_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def redis_client(url: str) -> Any:
    """Return a Redis client whose stream reads come back unparsed (the drain parses them itself)."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5)
    for command in ("XREADGROUP", "XAUTOCLAIM"):
        client.set_response_callback(command, lambda response, **options: response)
    return client


def _stream_entries(response: Any) -> list[tuple[bytes, bytes]]:
    """Return (entry id, payload) pairs from a raw XREADGROUP reply (RESP2 or RESP3)."""
    if not response:
        return []
    streams = list(response.values()) if isinstance(response, dict) else [item[1] for item in response]
    return [_entry(entry) for entries in streams for entry in entries or ()]


def _entry(entry: Any) -> tuple[bytes, bytes]:
    entry_id, fields = entry[0], entry[1]
    if isinstance(fields, dict):
        return entry_id, fields.get(b"e", b"")
    for index in range(0, len(fields or ()) - 1, 2):
        if fields[index] == b"e":
            return entry_id, fields[index + 1]
    return entry_id, b""


def stream_group_ensure(client: Any, stream: str, group: str) -> None:
    """Create the consumer group (and the stream) if missing, reading from the stream's first entry."""
    import redis

    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def stream_drain(
    *,
    client: Any,
    stream: str,
    group: str,
    consumer: str | None = None,
    batch_entries: int = 500,
    max_seconds: float = 10.0,
    claim_idle_ms: int = 15_000,
    trim: bool = True,
) -> DrainReport:
    """Read, count and acknowledge entries until the stream is empty or the time is up."""
    consumer = consumer or consumer_name()
    source = f"redis:{stream}:{group}"
    stream_group_ensure(client, stream, group)
    report = DrainReport()
    deadline = time.monotonic() + max_seconds
    claim_from: str | None = "0-0"
    while time.monotonic() < deadline:
        entries: list[tuple[bytes, bytes]] = []
        if claim_from is not None:
            # Entries a dead or stuck consumer left pending; the cursor walks the whole pending list once.
            reply = client.execute_command(
                "XAUTOCLAIM", stream, group, consumer, claim_idle_ms, claim_from, "COUNT", batch_entries
            )
            next_cursor = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
            entries.extend(_entry(entry) for entry in reply[1] or () if entry)
            claim_from = None if next_cursor == "0-0" else next_cursor
        if len(entries) < batch_entries:
            reply = client.execute_command(
                "XREADGROUP", "GROUP", group, consumer, "COUNT", batch_entries - len(entries), "STREAMS", stream, ">"
            )
            entries.extend(_stream_entries(reply))
        if not entries:
            break
        batch = parse(payload.decode("utf-8", "replace") for _, payload in entries)
        last = max((entry_id.decode() for entry_id, _ in entries), key=_position_key)
        result = events_ingest(source=source, position=last, batch=batch)
        ids = [entry_id for entry_id, _ in entries]
        for offset in range(0, len(ids), 1000):
            client.xack(stream, group, *ids[offset : offset + 1000])
        report.entries += len(entries)
        report.batches += 1
        report.result.add(result)
    if trim:
        stream_trim(client, stream)
    return report


def stream_trim(client: Any, stream: str, *, idle_consumer_ms: int = 3_600_000) -> None:
    """Trim entries below the oldest one any group still needs; forget long-idle consumers with nothing pending."""
    floor: tuple[int, ...] | None = None
    floor_id = ""
    for group in client.xinfo_groups(stream):
        name = group["name"]
        candidates = [group["last-delivered-id"]]
        if group["pending"]:
            candidates.append(client.xpending(stream, name)["min"])
        for candidate in candidates:
            text = candidate.decode() if isinstance(candidate, bytes) else str(candidate)
            if floor is None or _position_key(text) < floor:
                floor, floor_id = _position_key(text), text
        for consumer in client.xinfo_consumers(stream, name):
            if not consumer["pending"] and consumer["idle"] > idle_consumer_ms:
                client.xgroup_delconsumer(stream, name, consumer["name"])
    if floor is not None and floor_id != "0-0":
        client.xtrim(stream, minid=floor_id, approximate=True)


# -- draining the embedded mode's local store -----------------------------------------------------------


def local_store_drain(*, path: str, batch_entries: int = 500, max_seconds: float = 10.0) -> DrainReport:
    """Count rows of the local event store above the watermark, then delete what is committed."""
    from gateway_runtime.metering import LocalEventStore

    store = LocalEventStore(path)
    source = f"local:{path}"
    report = DrainReport()
    deadline = time.monotonic() + max_seconds
    try:
        while time.monotonic() < deadline:
            mark = DrainWatermark.objects.filter(source=source).values_list("position", flat=True).first()
            position = int(mark or 0)
            if position and store.last_id() < position:
                logger.warning("Local event store %s was recreated; reading it from the start", path)
                position = 0
            rows = store.read_after(position, batch_entries)
            if not rows:
                break
            last = rows[-1][0]
            batch = parse(payload for _, payload in rows)
            # The watermark only grows; a recreated store starts again below it, so reset it explicitly.
            if mark and position == 0:
                DrainWatermark.objects.filter(source=source).update(position="0")
            result = events_ingest(source=source, position=str(last), batch=batch)
            store.delete_through(last)
            report.entries += len(rows)
            report.batches += 1
            report.result.add(result)
    finally:
        store.close()
    return report


def usage_events_drain() -> DrainReport:
    """Drain the configured source: the Redis Stream when REDIS_URL is set, else the local store."""
    config = usage_settings()
    batch_entries = int(config.get("DRAIN_BATCH_ENTRIES", 500))
    max_seconds = float(config.get("DRAIN_MAX_SECONDS", 10.0))
    if settings.REDIS_URL:
        client = redis_client(settings.REDIS_URL)
        try:
            return stream_drain(
                client=client,
                stream=config.get("STREAM", "portico:usage:events"),
                group=config.get("GROUP", "portico-usage"),
                batch_entries=batch_entries,
                max_seconds=max_seconds,
                claim_idle_ms=int(config.get("CLAIM_IDLE_MS", 15_000)),
            )
        finally:
            client.close()
    return local_store_drain(path=str(config["LOCAL_STORE"]), batch_entries=batch_entries, max_seconds=max_seconds)


# -- fold and prune -------------------------------------------------------------------------------------


def _retained_since(granularity: str, now: float) -> float:
    days = int(usage_settings().get("RETENTION_DAYS", {}).get(granularity, 0) or 0)
    return now - days * 86400 if days else float("-inf")


def rollups_fold(*, max_rows: int = 5000, now: float | None = None) -> int:
    """Add every unfolded minute row to its hour and day rows and to the folded minute row; return rows folded."""
    now = time.time() if now is None else now
    columns = ("id", "series_id", "start", *MEASURES)
    folded = 0
    while True:
        with transaction.atomic():
            pending = list(
                Rollup.objects.select_for_update(skip_locked=True)
                .filter(granularity=Granularity.MINUTE, folded=False)
                .order_by("id")
                .values_list(*columns)[:max_rows]
            )
            if not pending:
                return folded
            targets: dict[str, dict[tuple[int, int], list]] = {g: {} for g in GRANULARITY_SECONDS}
            for row in pending:
                series_id, start, measures = row[1], row[2], list(row[3:])
                for granularity, seconds in GRANULARITY_SECONDS.items():
                    bucket = start - start % seconds
                    if bucket + seconds <= _retained_since(granularity, now):
                        continue
                    current = targets[granularity].get((series_id, bucket))
                    if current is None:
                        targets[granularity][(series_id, bucket)] = [
                            list(value) if name in HISTOGRAMS else value
                            for name, value in zip(MEASURES, measures, strict=True)
                        ]
                    else:
                        _add_measures(current, measures)
            for granularity, rows in targets.items():
                rollups_add(
                    granularity=granularity,
                    folded=True,
                    rows=[(series_id, start, values) for (series_id, start), values in rows.items()],
                )
            Rollup.objects.filter(id__in=[row[0] for row in pending]).delete()
        folded += len(pending)


def _add_measures(target: list, measures: Sequence[Any]) -> None:
    for index, (name, value) in enumerate(zip(MEASURES, measures, strict=True)):
        if name in HISTOGRAMS:
            histograms.merge(target[index], value)
        else:
            target[index] += value


def usage_prune(*, now: float | None = None) -> dict[str, int]:
    """Delete folded rollups and event ids older than their retention; return how many rows went."""
    now = time.time() if now is None else now
    deleted: dict[str, int] = {}
    for granularity in GRANULARITY_SECONDS:
        since = _retained_since(granularity, now)
        if since == float("-inf"):
            continue
        count, _ = Rollup.objects.filter(granularity=granularity, folded=True, start__lt=since).delete()
        deleted[granularity] = count
    hours = int(usage_settings().get("DEDUPE_HOURS", 48))
    horizon = int(now - hours * 3600)
    deleted["event_id_blocks"], _ = EventIdBlock.objects.filter(minute__lt=horizon).delete()
    deleted["event_id_heads"], _ = EventIdHead.objects.filter(minute__lt=horizon).delete()
    for minute in [minute for minute in SEEN.minutes if minute < horizon]:
        SEEN.forget(minute)
    return deleted
