"""Reads of metering for the management API, the console and the portal: GetUsage, metrics, billing.

Every query reads the coarsest rollups that answer it plus the minute rows the fold has not moved yet,
in one statement, so the answer is current to the last drain and never counts a row twice.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Mod

from usage import histograms
from usage.models import GRANULARITY_SECONDS, Granularity, Rollup

DAY = 86400
DIMENSIONS = ("api_id", "stage", "resource_path", "http_method", "key_id", "plan_id")


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _rollups(granularity: str, start: int, end: int) -> QuerySet[Rollup]:
    """Rows of `granularity` in [start, end), plus the not-yet-folded minute rows of that range."""
    rows = Q(granularity=granularity, start__gte=start, start__lt=end)
    if granularity == Granularity.MINUTE:
        return Rollup.objects.filter(rows)
    unfolded = Q(granularity=Granularity.MINUTE, folded=False, start__gte=start, start__lt=end)
    return Rollup.objects.filter(rows | unfolded)


# -- quotas and GetUsage ----------------------------------------------------------------------------


def quota_period_start(*, day: date, period: str, offset: int = 0) -> date:
    """Return the first day of the quota period containing `day`, with the gateway's period rules."""
    from gateway_runtime.limits import period_start

    return period_start(period, offset, datetime(day.year, day.month, day.day, tzinfo=UTC)).date()


def daily_used(*, plan_id: str, start: date, end: date, key_ids: Iterable[str] | None = None) -> dict[str, dict]:
    """Return {key id: {day: requests counted against the quota}} for a plan's keys over [start, end]."""
    first, last = _epoch(start), _epoch(end) + DAY
    rows = _rollups(Granularity.DAY, first, last).filter(series__plan_id=plan_id).exclude(series__key_id="")
    if key_ids is not None:
        rows = rows.filter(series__key_id__in=list(key_ids))
    totals = (
        rows.annotate(day=F("start") - Mod("start", DAY))
        .values("series__key_id", "day")
        .annotate(used=Sum(F("count") - F("throttled") - F("quota_rejected")))
    )
    used: dict[str, dict] = {}
    for row in totals:
        day = datetime.fromtimestamp(row["day"], UTC).date()
        used.setdefault(row["series__key_id"], {})[day] = int(row["used"] or 0)
    return used


@dataclass(frozen=True)
class RemainingSet:
    """An UpdateUsage: at `at`, `remaining` requests were left of the quota period that began on `period_start`."""

    key_id: str
    at: datetime
    period_start: date
    remaining: int


def _used_since(*, plan_id: str, key_id: str, since: datetime) -> int:
    """Return the requests a key counted against a plan's quota from `since` to the end of that UTC day.

    Rollups count by minute, so the requests of the minute `since` falls in are all taken as after it. Once the
    minute rows of that day have been pruned, the hour row it falls in answers instead.
    """
    from django.conf import settings

    day_end = _epoch(since.date()) + DAY
    minute_days = settings.USAGE["RETENTION_DAYS"].get(Granularity.MINUTE) or 0
    pruned = minute_days and since < datetime.now(UTC) - timedelta(days=minute_days)
    granularity = Granularity.HOUR if pruned else Granularity.MINUTE
    step = GRANULARITY_SECONDS[granularity]
    first = int(since.timestamp()) // step * step
    rows = _rollups(granularity, first, day_end).filter(series__plan_id=plan_id, series__key_id=key_id)
    total = rows.aggregate(used=Sum(F("count") - F("throttled") - F("quota_rejected")))["used"]
    return int(total or 0)


def usage_for_plan(
    *,
    plan_id: str,
    quota: dict | None,
    key_ids: Sequence[str],
    start: date,
    end: date,
    adjustments: Iterable[RemainingSet] = (),
) -> dict[str, list[list[int]]]:
    """Return GetUsage's `values`: for each key, one [used, remaining] pair per day from start to end.

    What remains of a day is the limit less what was used since the period began, or, after an UpdateUsage in
    that period, what it set less what was used since.
    """
    quota = quota or {}
    period, offset, limit = quota.get("period"), int(quota.get("offset") or 0), quota.get("limit")
    first = quota_period_start(day=start, period=period, offset=offset) if period else start
    used = daily_used(plan_id=plan_id, start=first, end=end, key_ids=key_ids)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    changes: dict[str, list[RemainingSet]] = {}
    for change in sorted(adjustments, key=lambda item: item.at):
        changes.setdefault(change.key_id, []).append(change)
    head: dict[RemainingSet, int] = {}
    values: dict[str, list[list[int]]] = {}
    for key_id in key_ids:
        per_day = used.get(key_id, {})
        pairs = []
        for day in days:
            today = per_day.get(day, 0)
            remaining = 0
            if period and limit is not None:
                period_start = quota_period_start(day=day, period=period, offset=offset)
                latest = None
                for change in changes.get(key_id, ()):
                    if change.period_start == period_start and change.at.date() <= day:
                        latest = change
                if latest is None:
                    spent = sum(n for d, n in per_day.items() if period_start <= d <= day)
                    remaining = max(0, int(limit) - spent)
                else:
                    if latest not in head:
                        head[latest] = _used_since(plan_id=plan_id, key_id=key_id, since=latest.at)
                    spent = head[latest] + sum(n for d, n in per_day.items() if latest.at.date() < d <= day)
                    remaining = max(0, latest.remaining - spent)
            pairs.append([today, remaining])
        values[key_id] = pairs
    return values


def keys_with_usage(*, plan_id: str, start: date, end: date) -> set[str]:
    """Return the ids of the keys that have usage under a plan in [start, end]."""
    return set(daily_used(plan_id=plan_id, start=start, end=end))


# -- metrics --------------------------------------------------------------------------------------------


@dataclass
class MetricPoint:
    """One step of a metrics series, with AWS's metric names where AWS has them."""

    start: datetime
    dimensions: dict[str, str]
    count: int = 0
    status_4xx: int = 0
    status_5xx: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    throttled: int = 0
    quota_rejected: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    latency_sum_us: int = 0
    integration_count: int = 0
    integration_latency_sum_us: int = 0
    latency_hist: list[int] = field(default_factory=list)
    integration_latency_hist: list[int] = field(default_factory=list)

    def latency_ms(self, q: float) -> float | None:
        """Return the q-th percentile of Latency in milliseconds."""
        value = histograms.percentile(self.latency_hist, q)
        return None if value is None else value / 1000

    def integration_latency_ms(self, q: float) -> float | None:
        """Return the q-th percentile of IntegrationLatency in milliseconds."""
        value = histograms.percentile(self.integration_latency_hist, q)
        return None if value is None else value / 1000

    def as_dict(self) -> dict[str, Any]:
        """Return the point as CloudWatch-style metric names (for JSON answers and charts)."""
        return {
            "timestamp": self.start.isoformat(),
            **self.dimensions,
            "Count": self.count,
            "4XXError": self.status_4xx,
            "5XXError": self.status_5xx,
            "CacheHitCount": self.cache_hits,
            "CacheMissCount": self.cache_misses,
            "Throttled": self.throttled,
            "QuotaExceeded": self.quota_rejected,
            "Latency": {f"p{q}": self.latency_ms(q) for q in (50, 90, 99)}
            | {"avg": self.latency_sum_us / self.count / 1000 if self.count else None},
            "IntegrationLatency": {f"p{q}": self.integration_latency_ms(q) for q in (50, 90, 99)}
            | {
                "avg": self.integration_latency_sum_us / self.integration_count / 1000
                if self.integration_count
                else None
            },
            "BytesIn": self.bytes_in,
            "BytesOut": self.bytes_out,
        }


SUMMED = (
    "count",
    "status_4xx",
    "status_5xx",
    "cache_hits",
    "cache_misses",
    "throttled",
    "quota_rejected",
    "bytes_in",
    "bytes_out",
    "latency_sum_us",
    "integration_count",
    "integration_latency_sum_us",
)


def _granularity_for(step: int) -> str:
    for granularity in (Granularity.DAY, Granularity.HOUR):
        if step % GRANULARITY_SECONDS[granularity] == 0:
            return granularity
    return Granularity.MINUTE


def metrics(
    *,
    start: datetime,
    end: datetime,
    step: int = 300,
    filters: dict[str, str] | None = None,
    group_by: Sequence[str] = (),
) -> list[MetricPoint]:
    """Return metric points per step (seconds, a multiple of 60) over [start, end), per `group_by` dimension."""
    if step < 60 or step % 60:
        raise ValueError("step must be a positive multiple of 60 seconds")
    unknown = set(group_by) | set(filters or {})
    unknown -= set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimensions: {sorted(unknown)}")
    first, last = int(start.timestamp()), int(end.timestamp())
    first -= first % 60
    rows = _rollups(_granularity_for(step), first, last).filter(
        **{f"series__{name}": value for name, value in (filters or {}).items()}
    )
    columns = ["start", *SUMMED, "latency_hist", "integration_latency_hist"]
    columns += [f"series__{name}" for name in group_by]
    points: dict[tuple, MetricPoint] = {}
    for row in rows.values(*columns).iterator(chunk_size=2000):
        bucket = first + (row["start"] - first) // step * step
        dims = tuple(row[f"series__{name}"] for name in group_by)
        point = points.get((bucket, dims))
        if point is None:
            point = points[(bucket, dims)] = MetricPoint(
                start=datetime.fromtimestamp(bucket, UTC), dimensions=dict(zip(group_by, dims, strict=True))
            )
        for name in SUMMED:
            setattr(point, name, getattr(point, name) + row[name])
        histograms.merge(point.latency_hist, row["latency_hist"])
        histograms.merge(point.integration_latency_hist, row["integration_latency_hist"])
    return [points[key] for key in sorted(points)]


# -- billing --------------------------------------------------------------------------------------------

BILLING_COLUMNS = (
    "plan_id",
    "plan_name",
    "key_id",
    "key_name",
    "customer_id",
    "start_date",
    "end_date",
    "requests",
    "billable_requests",
    "throttled",
    "quota_rejected",
    "status_4xx",
    "status_5xx",
    "bytes_in",
    "bytes_out",
)


def billing_rows(
    *, start: date, end: date, plan_id: str | None = None, key_id: str | None = None
) -> list[dict[str, Any]]:
    """Return one row per plan and key with usage in [start, end] (days, UTC): requests, billable, errors, bytes."""
    from apis import models as m

    rows = _rollups(Granularity.DAY, _epoch(start), _epoch(end) + DAY).exclude(series__key_id="")
    if plan_id:
        rows = rows.filter(series__plan_id=plan_id)
    if key_id:
        rows = rows.filter(series__key_id=key_id)
    totals = (
        rows.values("series__plan_id", "series__key_id")
        .annotate(
            requests=Sum("count"),
            throttled_=Sum("throttled"),
            quota_rejected_=Sum("quota_rejected"),
            status_4xx_=Sum("status_4xx"),
            status_5xx_=Sum("status_5xx"),
            bytes_in_=Sum("bytes_in"),
            bytes_out_=Sum("bytes_out"),
        )
        .order_by("series__plan_id", "series__key_id")
    )
    totals = list(totals)
    plans = dict(m.UsagePlan.objects.filter(id__in={t["series__plan_id"] for t in totals}).values_list("id", "name"))
    keys = {
        k["id"]: k
        for k in m.ApiKey.objects.filter(id__in={t["series__key_id"] for t in totals}).values(
            "id", "name", "customer_id"
        )
    }
    result = []
    for row in totals:
        key = keys.get(row["series__key_id"], {})
        result.append(
            {
                "plan_id": row["series__plan_id"],
                "plan_name": plans.get(row["series__plan_id"], ""),
                "key_id": row["series__key_id"],
                "key_name": key.get("name", ""),
                "customer_id": key.get("customer_id", ""),
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "requests": row["requests"],
                "billable_requests": row["requests"] - row["throttled_"] - row["quota_rejected_"],
                "throttled": row["throttled_"],
                "quota_rejected": row["quota_rejected_"],
                "status_4xx": row["status_4xx_"],
                "status_5xx": row["status_5xx_"],
                "bytes_in": row["bytes_in_"],
                "bytes_out": row["bytes_out_"],
            }
        )
    return result


def billing_csv(*, start: date, end: date, plan_id: str | None = None, key_id: str | None = None) -> str:
    """Return the billing export as CSV text with a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=BILLING_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(billing_rows(start=start, end=end, plan_id=plan_id, key_id=key_id))
    return out.getvalue()
