"""Ingest, fold and prune against the configured database (SQLite in the embedded run, PostgreSQL otherwise)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.db.models import Sum

from gateway_runtime.metering import LocalEventStore, chunk_payloads
from usage import services
from usage.events import parse
from usage.models import DrainWatermark, EventIdBlock, Granularity, Rollup
from usage.tests.conftest import make_event, mixed_events

pytestmark = pytest.mark.django_db(transaction=True)


def total(granularity: str = Granularity.MINUTE, **filters: object) -> int:
    return Rollup.objects.filter(granularity=granularity, **filters).aggregate(n=Sum("count"))["n"] or 0


def test_a_batch_is_counted_once_however_often_it_is_ingested() -> None:
    events = mixed_events(3_000, spread_ms=180_000)
    batch_lines = chunk_payloads(events, 100)

    first = services.events_ingest(source="test", position="10", batch=parse(batch_lines))
    services.caches_reset()  # a second worker process, which has cached nothing
    second = services.events_ingest(source="test", position="11", batch=parse(batch_lines))
    third = services.events_ingest(source="test", position="12", batch=parse(batch_lines[:5]))

    assert (first.counted, second.counted, third.counted) == (3_000, 0, 0)
    assert (second.duplicates, third.duplicates) == (3_000, 500)
    assert total() == 3_000
    mark = DrainWatermark.objects.get(source="test")
    assert (mark.position, mark.events, mark.duplicates) == ("12", 3_000, 3_500)


def test_a_batch_mixing_new_and_counted_events_adds_only_the_new_ones() -> None:
    old = mixed_events(500, seed=1)
    new = mixed_events(300, seed=2)
    services.events_ingest(source="test", position="1", batch=parse(chunk_payloads(old, 100)))

    result = services.events_ingest(source="test", position="2", batch=parse(chunk_payloads(old[:200] + new, 100)))

    assert (result.counted, result.duplicates) == (300, 200)
    assert total() == 800
    expected_404 = sum("\t404\t" in line for line in old + new)
    assert Rollup.objects.aggregate(n=Sum("status_4xx"))["n"] == expected_404


def test_folding_moves_minutes_into_hours_and_days_without_changing_totals() -> None:
    day_start = int(time.time()) // 86400 * 86400
    events = mixed_events(2_000, time_ms=day_start * 1000, spread_ms=3 * 3600 * 1000)
    services.events_ingest(source="test", position="1", batch=parse(chunk_payloads(events, 100)))

    assert services.rollups_fold(max_rows=7) > 0
    late = [make_event(time_ms=day_start * 1000 + 5, key_id="key0", plan_id="plan1")]
    services.events_ingest(source="test", position="2", batch=parse(late))
    services.rollups_fold()

    assert not Rollup.objects.filter(folded=False).exists()
    assert total(Granularity.MINUTE) == total(Granularity.HOUR) == total(Granularity.DAY) == 2_001
    assert Rollup.objects.filter(granularity=Granularity.HOUR).values("start").distinct().count() == 3
    day = Rollup.objects.filter(granularity=Granularity.DAY, series__key_id="key0", series__http_method="GET")
    minutes = Rollup.objects.filter(granularity=Granularity.MINUTE, series__key_id="key0", series__http_method="GET")
    assert (
        sum(sum(r.latency_hist) for r in day)
        == sum(sum(r.latency_hist) for r in minutes)
        == total(Granularity.DAY, series__key_id="key0", series__http_method="GET")
    )


def test_pruning_keeps_each_granularity_for_its_retention(settings) -> None:
    now = time.time()
    settings.USAGE = {**settings.USAGE, "RETENTION_DAYS": {"m": 1, "h": 3, "d": 0}, "DEDUPE_HOURS": 24}
    old = make_event(time_ms=int((now - 2 * 86400) * 1000))
    recent = make_event(time_ms=int(now * 1000))
    services.events_ingest(source="test", position="1", batch=parse([old, recent]))
    services.rollups_fold(now=now)

    deleted = services.usage_prune(now=now)

    assert deleted["event_id_blocks"] == 1  # the old minute was never kept as a folded row
    assert total(Granularity.MINUTE) == 1 and total(Granularity.HOUR) == 2 and total(Granularity.DAY) == 2
    assert EventIdBlock.objects.count() == 1


def test_the_local_store_drain_counts_each_row_once_and_empties_the_store(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    store = LocalEventStore(path)
    events = mixed_events(1_000)
    store.append(chunk_payloads(events, 50))
    store.append(chunk_payloads(events[:100], 50))  # a replayed spool: the same events again

    report = services.local_store_drain(path=str(path), batch_entries=7)
    again = services.local_store_drain(path=str(path))

    assert report.result.counted == 1_000 and report.result.duplicates == 100 and again.entries == 0
    assert store.events() == 0
    store.append(chunk_payloads(mixed_events(10, seed=99), 50))
    assert services.local_store_drain(path=str(path)).result.counted == 10
    assert total() == 1_010
    store.close()


def test_a_recreated_local_store_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    store = LocalEventStore(path)
    store.append(chunk_payloads(mixed_events(300, seed=1), 10))
    services.local_store_drain(path=str(path))
    store.close()
    path.unlink()
    LocalEventStore(path).append([make_event()])

    assert services.local_store_drain(path=str(path)).result.counted == 1
