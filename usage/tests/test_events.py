"""Parsing and aggregation of event lines, and percentiles read back from the latency histograms."""

from __future__ import annotations

import math
import random

import pytest

from usage import histograms
from usage.events import MEASURES, event_id_number, finish, parse
from usage.tests.conftest import make_event

COUNT = MEASURES.index("count")


def test_it_aggregates_events_per_minute_and_series() -> None:
    minute_ms = 1_795_000_020_000 - 1_795_000_020_000 % 60_000
    lines = [
        make_event(time_ms=minute_ms + 1, status=200, flags="H"),
        make_event(time_ms=minute_ms + 2, status=404, flags="M"),
        make_event(time_ms=minute_ms + 3, status=503, integration_latency_us=None, flags="T"),
        make_event(time_ms=minute_ms + 60_000, status=200, key_id="k1", plan_id="p1", flags="Q"),
    ]
    batch = parse(["\n".join(lines[:2]), "\n".join(lines[2:])])

    assert batch.events == 4 and batch.malformed == 0
    first, second = (batch.minutes[m] for m in sorted(batch.minutes))
    (acc,) = first.groups.values()
    row = dict(zip(MEASURES, finish(acc), strict=True))
    assert (row["count"], row["status_2xx"], row["status_4xx"], row["status_5xx"]) == (3, 1, 1, 1)
    assert (row["cache_hits"], row["cache_misses"], row["throttled"], row["quota_rejected"]) == (1, 1, 1, 0)
    assert row["integration_count"] == 2 and row["latency_sum_us"] == 6_000
    assert sum(row["latency_hist"]) == 3 and sum(row["integration_latency_hist"]) == 2
    (dims,) = second.groups
    assert dims.split("\t")[4:] == ["k1", "p1"]


def test_it_drops_repeats_inside_a_batch_and_counts_malformed_lines() -> None:
    line = make_event()
    seven_dimensions = make_event().replace("\tGET\t", "\tGET\textra\t")
    batch = parse([f"{line}\n{line}", "garbage\n2\tfuture\tformat", seven_dimensions])
    assert batch.events == 1
    assert batch.repeated == 1
    assert batch.malformed == 3


def test_non_uuid_event_ids_are_hashed_to_128_bits() -> None:
    assert event_id_number("0f8e6a2c-1b2d-4c3e-8f90-a1b2c3d4e5f6") == 0x0F8E6A2C1B2D4C3E8F90A1B2C3D4E5F6
    number = event_id_number("req-42")
    assert 0 <= number < 2**128 and number == event_id_number("req-42")


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("q", [50, 90, 99])
def test_percentiles_lie_within_one_bucket_of_the_exact_ones(seed: int, q: int) -> None:
    rng = random.Random(seed)
    latencies = [int(rng.lognormvariate(9, 1.2)) for _ in range(5_000)]  # µs, median ~8 ms, long tail
    counts = [0] * histograms.BUCKETS
    for latency in latencies:
        counts[histograms.bucket_of(latency)] += 1

    estimate = histograms.percentile(histograms.trimmed(counts), q)
    exact = sorted(latencies)[math.ceil(q / 100 * len(latencies)) - 1]

    assert estimate is not None
    assert abs(histograms.bucket_of(estimate) - histograms.bucket_of(exact)) <= 1, (estimate, exact)


def test_merging_histograms_adds_bucket_by_bucket() -> None:
    assert histograms.merged([[1, 2], [0, 1, 5], []]) == [1, 3, 5]
    assert histograms.percentile([], 50) is None
