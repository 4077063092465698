"""The drain over a real Redis Stream: consumer groups, replays, claims of a dead consumer's entries, trimming."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from gateway_runtime.metering import chunk_payloads
from usage import services
from usage.events import parse
from usage.models import DrainWatermark, Rollup
from usage.tests.conftest import mixed_events

pytestmark = pytest.mark.django_db(transaction=True)
GROUP = "portico-usage"


def counted(**filters: object) -> int:
    return Rollup.objects.filter(granularity="m", **filters).aggregate(n=Sum("count"))["n"] or 0


def inject(client, stream: str, events: list[str], per_entry: int = 100) -> None:
    pipe = client.pipeline(transaction=False)
    for payload in chunk_payloads(events, per_entry):
        pipe.xadd(stream, {"e": payload})
    pipe.execute()


def drain(client, stream: str, **options: object) -> services.DrainReport:
    options.setdefault("batch_entries", 50)
    return services.stream_drain(client=client, stream=stream, group=GROUP, consumer="c1", **options)


def test_the_same_events_injected_twice_and_drained_three_times_count_once(shared_redis, stream_name) -> None:
    events = mixed_events(10_000)
    inject(shared_redis, stream_name, events)
    inject(shared_redis, stream_name, events, per_entry=37)  # same events, other entries and stream ids

    reports = [drain(shared_redis, stream_name) for _ in range(3)]

    assert [r.result.counted for r in reports] == [10_000, 0, 0]
    assert reports[0].result.duplicates == 10_000
    assert counted() == 10_000
    for key in ("key0", "key1", "key2"):
        sent = sum(f"\t{key}\tplan1\t" in line for line in events)
        assert counted(series__key_id=key) == sent
    assert counted(series__http_method="POST") == 5_000
    assert shared_redis.xpending(stream_name, GROUP)["pending"] == 0


def test_a_dead_consumers_pending_entries_are_claimed_and_counted(shared_redis, stream_name) -> None:
    events = mixed_events(2_000)
    inject(shared_redis, stream_name, events)
    services.stream_group_ensure(shared_redis, stream_name, GROUP)
    # A consumer reads half the entries and dies before committing anything.
    shared_redis.execute_command("XREADGROUP", "GROUP", GROUP, "dead", "COUNT", 10, "STREAMS", stream_name, ">")

    report = drain(shared_redis, stream_name, claim_idle_ms=0)

    assert report.result.counted == 2_000
    assert shared_redis.xpending(stream_name, GROUP)["pending"] == 0


def test_a_consumer_killed_between_commit_and_ack_is_not_counted_twice(shared_redis, stream_name) -> None:
    events = mixed_events(1_000)
    inject(shared_redis, stream_name, events)
    services.stream_group_ensure(shared_redis, stream_name, GROUP)
    reply = shared_redis.execute_command("XREADGROUP", "GROUP", GROUP, "dead", "COUNT", 5, "STREAMS", stream_name, ">")
    entries = services._stream_entries(reply)
    batch = parse(payload.decode() for _, payload in entries)
    services.events_ingest(source=f"redis:{stream_name}:{GROUP}", position=entries[-1][0].decode(), batch=batch)
    # ...and the process dies here, before XACK.
    services.caches_reset()

    report = drain(shared_redis, stream_name, claim_idle_ms=0)

    assert report.result.counted == 500 and report.result.duplicates == 500
    assert counted() == 1_000
    mark = DrainWatermark.objects.get(source=f"redis:{stream_name}:{GROUP}")
    assert mark.events == 1_000


def test_the_stream_is_trimmed_only_below_the_oldest_pending_entry(shared_redis, stream_name) -> None:
    inject(shared_redis, stream_name, mixed_events(100), per_entry=1)
    services.stream_group_ensure(shared_redis, stream_name, GROUP)
    reply = shared_redis.execute_command("XREADGROUP", "GROUP", GROUP, "slow", "COUNT", 1, "STREAMS", stream_name, ">")
    oldest_pending = services._stream_entries(reply)[0][0]

    drain(shared_redis, stream_name, claim_idle_ms=60_000)
    shared_redis.xtrim(stream_name, minid=oldest_pending)  # what any trim may go down to, at most
    remaining_before = shared_redis.xlen(stream_name)
    services.stream_trim(shared_redis, stream_name)

    first = shared_redis.xrange(stream_name, count=1)
    assert first and first[0][0] == oldest_pending
    assert shared_redis.xlen(stream_name) <= remaining_before
    assert counted() == 99


def test_malformed_entries_are_acknowledged_and_counted_as_malformed(shared_redis, stream_name) -> None:
    shared_redis.xadd(stream_name, {"e": "not an event"})
    shared_redis.xadd(stream_name, {"other": "field"})
    inject(shared_redis, stream_name, mixed_events(3))

    report = drain(shared_redis, stream_name)

    assert (report.result.counted, report.result.malformed) == (3, 1)
    assert shared_redis.xpending(stream_name, GROUP)["pending"] == 0
