"""Parse usage events (docs/metering.md, "Event format") and aggregate them per series and minute.

This is the drain's inner loop, written for speed: one pass over the lines, no object per event, the six
dimensions kept as one tab-joined string that is the series' cache key.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from usage.histograms import BOUNDS_US

FORMAT_VERSION = "1"
DIMENSIONS = ("api_id", "stage", "resource_path", "http_method", "key_id", "plan_id")
# The order of an accumulator list and of the measure columns of a rollup row.
MEASURES = (
    "count",
    "status_2xx",
    "status_4xx",
    "status_5xx",
    "throttled",
    "quota_rejected",
    "cache_hits",
    "cache_misses",
    "bytes_in",
    "bytes_out",
    "latency_sum_us",
    "latency_hist",
    "integration_count",
    "integration_latency_sum_us",
    "integration_latency_hist",
)
HISTOGRAMS = frozenset({"latency_hist", "integration_latency_hist"})
LATENCY_HIST = MEASURES.index("latency_hist")
INTEGRATION_HIST = MEASURES.index("integration_latency_hist")

Accumulator = list  # counts in MEASURES order; the two histogram slots hold {bucket: count} while parsing


def new_accumulator() -> Accumulator:
    acc: Accumulator = [0] * len(MEASURES)
    acc[LATENCY_HIST] = {}
    acc[INTEGRATION_HIST] = {}
    return acc


def event_id_number(event_id: str) -> int:
    """Return the 128-bit number an event id is deduplicated by: the UUID itself, else a BLAKE2b-128 hash."""
    if len(event_id) == 36:
        try:
            return int(event_id.replace("-", ""), 16)
        except ValueError:
            pass
    return int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=16).digest(), "big")


@dataclass
class MinuteEvents:
    """The distinct events of one minute in a batch, and their aggregates per series."""

    lines: dict[int, str] = field(default_factory=dict)
    groups: dict[str, Accumulator] = field(default_factory=dict)


@dataclass
class Batch:
    """Events parsed from a batch of stream entries (or local-store rows), deduplicated within the batch."""

    minutes: dict[int, MinuteEvents] = field(default_factory=dict)
    malformed: int = 0
    repeated: int = 0  # duplicates inside the batch itself

    @property
    def events(self) -> int:
        return sum(len(minute.lines) for minute in self.minutes.values())

    def dimensions(self) -> set[str]:
        return {dims for minute in self.minutes.values() for dims in minute.groups}


def parse(payloads: Iterable[str]) -> Batch:
    """Parse payloads (newline-separated event lines) into a batch aggregated per minute and series."""
    batch = Batch()
    minutes = batch.minutes
    bounds = BOUNDS_US
    for payload in payloads:
        for line in payload.split("\n"):
            try:
                version, event_id, millis, rest = line.split("\t", 3)
                dims, status, latency, integration, bytes_in, bytes_out, flags = rest.rsplit("\t", 6)
                if version != FORMAT_VERSION:
                    raise ValueError(version)
                minute = int(millis) // 60000 * 60
                latency_us = int(latency)
                integration_us = int(integration) if integration else -1
                size_in, size_out = int(bytes_in), int(bytes_out)
                klass = status[0]
            except (ValueError, IndexError):
                if line:
                    batch.malformed += 1
                continue
            number = event_id_number(event_id)
            events = minutes.get(minute)
            if events is None:
                events = minutes[minute] = MinuteEvents()
            elif number in events.lines:
                batch.repeated += 1
                continue
            acc = events.groups.get(dims)
            if acc is None:
                if dims.count("\t") != len(DIMENSIONS) - 1:
                    batch.malformed += 1
                    continue
                acc = events.groups[dims] = new_accumulator()
            events.lines[number] = line
            acc[0] += 1
            if klass == "2":
                acc[1] += 1
            elif klass == "4":
                acc[2] += 1
            elif klass == "5":
                acc[3] += 1
            if flags:
                if "T" in flags:
                    acc[4] += 1
                if "Q" in flags:
                    acc[5] += 1
                if "H" in flags:
                    acc[6] += 1
                if "M" in flags:
                    acc[7] += 1
            acc[8] += size_in
            acc[9] += size_out
            acc[10] += latency_us
            histogram = acc[11]
            bucket = bisect_right(bounds, latency_us)
            histogram[bucket] = histogram.get(bucket, 0) + 1
            if integration_us >= 0:
                acc[12] += 1
                acc[13] += integration_us
                histogram = acc[14]
                bucket = bisect_right(bounds, integration_us)
                histogram[bucket] = histogram.get(bucket, 0) + 1
    return batch


def reaggregate(events: MinuteEvents, keep: Iterable[int]) -> MinuteEvents:
    """Return the minute's aggregates over the events `keep` only (after dedupe found some counted before)."""
    kept = [events.lines[number] for number in keep]
    minutes = parse(["\n".join(kept)]).minutes if kept else {}
    return next(iter(minutes.values()), MinuteEvents())


def dense(histogram: dict[int, int]) -> list[int]:
    """Return {bucket: count} as a list of counts, without trailing empty buckets."""
    if not histogram:
        return []
    counts = [0] * (max(histogram) + 1)
    for bucket, count in histogram.items():
        counts[bucket] = count
    return counts


def finish(acc: Accumulator) -> list:
    """Return the accumulator as rollup measures, histograms as trimmed lists of counts."""
    values = list(acc)
    values[LATENCY_HIST] = dense(acc[LATENCY_HIST])
    values[INTEGRATION_HIST] = dense(acc[INTEGRATION_HIST])
    return values


def split_dimensions(dims: str) -> dict[str, str]:
    """Return the six dimension values of a tab-joined dimensions string."""
    values = dims.split("\t")
    if len(values) != len(DIMENSIONS):
        raise ValueError(f"expected {len(DIMENSIONS)} dimensions, got {len(values)}")
    return dict(zip(DIMENSIONS, values, strict=True))
