"""Fixed log-bucket latency histograms: bucketing, merging, and percentiles read back from them.

Bucket 0 is [0, 100 µs); bucket i (1 ≤ i ≤ 76) is [100·2^((i-1)/4), 100·2^(i/4)) µs; the last bucket holds
everything from 52.4 s up. Histograms are stored with trailing empty buckets trimmed.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence

FIRST_BOUND_US = 100
STEPS_PER_DOUBLING = 4
# Upper bounds of buckets 0..76; bucket 77 is unbounded.
BOUNDS_US: tuple[float, ...] = tuple(FIRST_BOUND_US * 2 ** (k / STEPS_PER_DOUBLING) for k in range(77))
BUCKETS = len(BOUNDS_US) + 1


def bucket_of(latency_us: float) -> int:
    """Return the bucket index of a latency in microseconds."""
    return bisect_right(BOUNDS_US, latency_us)


def bucket_range(index: int) -> tuple[float, float]:
    """Return the [lower, upper) bounds in microseconds of a bucket (the last one is given a finite top)."""
    lower = 0.0 if index == 0 else BOUNDS_US[index - 1]
    upper = BOUNDS_US[index] if index < len(BOUNDS_US) else lower * 2 ** (1 / STEPS_PER_DOUBLING)
    return lower, upper


def trimmed(counts: list[int]) -> list[int]:
    """Return the counts without trailing zero buckets."""
    end = len(counts)
    while end and not counts[end - 1]:
        end -= 1
    return counts[:end]


def merge(target: list[int], other: Sequence[int]) -> list[int]:
    """Add `other` into `target` bucket by bucket (growing it as needed) and return it."""
    if len(other) > len(target):
        target.extend([0] * (len(other) - len(target)))
    for index, value in enumerate(other):
        if value:
            target[index] += value
    return target


def merged(histograms: Iterable[Sequence[int]]) -> list[int]:
    """Return the bucket-by-bucket sum of histograms."""
    total: list[int] = []
    for histogram in histograms:
        merge(total, histogram)
    return total


def percentile(counts: Sequence[int], q: float) -> float | None:
    """Return the q-th percentile (0 < q ≤ 100) in microseconds, or None for an empty histogram.

    Nearest rank picks the bucket holding the exact percentile; the value is interpolated inside it.
    """
    total = sum(counts)
    if total == 0:
        return None
    rank = max(1, math.ceil(q / 100 * total))
    seen = 0
    for index, count in enumerate(counts):
        if not count:
            continue
        if seen + count >= rank:
            lower, upper = bucket_range(index)
            return lower + (upper - lower) * (rank - seen) / count
        seen += count
    return bucket_range(len(counts) - 1)[1]  # unreachable: the ranks add up to the total
