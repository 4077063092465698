"""Reads of metering the console shows: the dashboard's series and top lists, and a plan's per-key quota use.

Everything comes from the usage rollups (`usage.selectors`), so it is current to the last drain.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from apis import models as m
from apis import selectors
from usage import histograms
from usage import selectors as usage

# Range name → (span, step) in seconds. Steps pick the rollups that answer cheaply: minute rows for a day,
# hour rows beyond (usage.selectors chooses the granularity from the step).
RANGES: dict[str, tuple[int, int]] = {
    "1h": (3600, 60),
    "24h": (86400, 900),
    "7d": (7 * 86400, 3600),
    "30d": (30 * 86400, 21600),
}
RANGE_LABELS = {"1h": "1 hour", "24h": "24 hours", "7d": "7 days", "30d": "30 days"}
DEFAULT_RANGE = "24h"
TOP = 10
PERCENTILES = (50, 90, 99)


def _ms(histogram: Sequence[int], q: float) -> float | None:
    value = histograms.percentile(histogram, q)
    return None if value is None else round(value / 1000, 2)


@dataclass
class Totals:
    """Sums over a range (or one row of a top list), with latency percentiles in milliseconds."""

    count: int = 0
    status_4xx: int = 0
    status_5xx: int = 0
    latency_hist: list[int] = field(default_factory=list)
    integration_latency_hist: list[int] = field(default_factory=list)

    def add(self, point: usage.MetricPoint) -> None:
        self.count += point.count
        self.status_4xx += point.status_4xx
        self.status_5xx += point.status_5xx
        histograms.merge(self.latency_hist, point.latency_hist)
        histograms.merge(self.integration_latency_hist, point.integration_latency_hist)

    def latency_ms(self, q: float) -> float | None:
        return _ms(self.latency_hist, q)

    @property
    def p50(self) -> float | None:
        return self.latency_ms(50)

    @property
    def p99(self) -> float | None:
        return self.latency_ms(99)

    @property
    def error_rate(self) -> float | None:
        return (self.status_4xx + self.status_5xx) / self.count * 100 if self.count else None


@dataclass
class TopRow:
    label: str
    totals: Totals
    key_id: str = ""
    key_name: str = ""
    http_method: str = ""
    resource_path: str = ""


@dataclass
class Dashboard:
    """What the dashboard draws for one API (and stage) over one range."""

    range_name: str
    start: datetime
    end: datetime
    step: int
    chart: dict[str, Any]
    totals: Totals
    top_keys: list[TopRow]
    top_methods: list[TopRow]
    keyless_count: int


def _window(range_name: str, now: float) -> tuple[int, int, int]:
    span, step = RANGES[range_name]
    end = math.ceil(now / step) * step
    return end - span, end, step


def _label(moment: datetime, step: int) -> str:
    return moment.strftime("%H:%M") if step < 3600 else moment.strftime("%m-%d %H:%M")


def _chart(points: Iterable[usage.MetricPoint], start: int, end: int, step: int) -> dict[str, Any]:
    """Return one value per step for every series the charts draw; empty steps count 0 and have no latency."""
    by_start = {int(point.start.timestamp()): point for point in points}
    steps = range(start, end, step)
    chart: dict[str, Any] = {
        "labels": [_label(datetime.fromtimestamp(s, UTC), step) for s in steps],
        "count": [],
        "status4xx": [],
        "status5xx": [],
        "latency": {f"p{q}": [] for q in PERCENTILES},
        "integrationLatency": {f"p{q}": [] for q in PERCENTILES},
    }
    for moment in steps:
        point = by_start.get(moment)
        chart["count"].append(point.count if point else 0)
        chart["status4xx"].append(point.status_4xx if point else 0)
        chart["status5xx"].append(point.status_5xx if point else 0)
        for q in PERCENTILES:
            chart["latency"][f"p{q}"].append(_ms(point.latency_hist, q) if point else None)
            chart["integrationLatency"][f"p{q}"].append(_ms(point.integration_latency_hist, q) if point else None)
    return chart


def _grouped(points: Iterable[usage.MetricPoint], names: Sequence[str]) -> dict[tuple[str, ...], Totals]:
    groups: dict[tuple[str, ...], Totals] = {}
    for point in points:
        groups.setdefault(tuple(point.dimensions[name] for name in names), Totals()).add(point)
    return groups


def _busiest(groups: dict[tuple[str, ...], Totals]) -> list[tuple[tuple[str, ...], Totals]]:
    return sorted(groups.items(), key=lambda item: (-item[1].count, item[0]))[:TOP]


def dashboard_metrics(*, api_id: str, stage_name: str = "", range_name: str, now: float | None = None) -> Dashboard:
    """Return the dashboard of an API (one stage, or all) over a named range: series, totals, top keys and methods."""
    if range_name not in RANGES:
        raise ValueError(f"unknown range {range_name!r}")
    start, end, step = _window(range_name, time.time() if now is None else now)
    filters = {"api_id": api_id} | ({"stage": stage_name} if stage_name else {})
    window: dict[str, Any] = {
        "start": datetime.fromtimestamp(start, UTC),
        "end": datetime.fromtimestamp(end, UTC),
        "step": step,
        "filters": filters,
    }
    points = usage.metrics(**window)
    totals = Totals()
    for point in points:
        totals.add(point)
    by_key = _grouped(usage.metrics(**window, group_by=("key_id",)), ("key_id",))
    keyless = by_key.pop(("",), Totals())
    names = dict(m.ApiKey.objects.filter(id__in=[k for (k,) in by_key]).values_list("id", "name"))
    top_keys = [
        TopRow(label=names.get(key_id, key_id), totals=t, key_id=key_id, key_name=names.get(key_id, ""))
        for (key_id,), t in _busiest(by_key)
    ]
    dimensions = ("http_method", "resource_path")
    by_method = _grouped(usage.metrics(**window, group_by=dimensions), dimensions)
    top_methods = [
        TopRow(label=f"{verb} {path or '(no route)'}", totals=t, http_method=verb, resource_path=path)
        for (verb, path), t in _busiest(by_method)
    ]
    return Dashboard(
        range_name=range_name,
        start=window["start"],
        end=window["end"],
        step=step,
        chart=_chart(points, start, end, step),
        totals=totals,
        top_keys=top_keys,
        top_methods=top_methods,
        keyless_count=keyless.count,
    )


# -- a plan's keys and their quota ----------------------------------------------------------------------


@dataclass
class KeyQuota:
    """One key of a plan: requests today and in the current quota period, and what the quota has left."""

    key_id: str
    key_name: str
    enabled: bool
    in_plan: bool
    used_today: int
    used_period: int
    remaining: int | None
    adjustment: m.QuotaAdjustment | None = None

    @property
    def used_percent(self) -> int:
        total = self.used_period + (self.remaining or 0)
        return min(100, round(self.used_period / total * 100)) if total and self.remaining is not None else 0


@dataclass
class PlanUsage:
    plan: m.UsagePlan
    today: date
    period_start: date
    period_end: date
    limit: int | None
    keys: list[KeyQuota]


def _period_end(start: date, period: str, offset: int) -> date:
    """Return the last day of the quota period starting on `start`."""
    probe = start + timedelta(days={"DAY": 1, "WEEK": 7}.get(period, 32))
    following = usage.quota_period_start(day=probe, period=period, offset=offset)
    return following - timedelta(days=1)


def plan_usage(*, plan: m.UsagePlan, today: date | None = None) -> PlanUsage:
    """Return per key of a plan (its keys, and any key with usage under it) the quota use of the current period."""
    today = today or datetime.now(UTC).date()
    quota = plan.quota or {}
    period, offset = quota.get("period"), int(quota.get("offset") or 0)
    limit = int(quota["limit"]) if period and quota.get("limit") is not None else None
    first = usage.quota_period_start(day=today, period=period, offset=offset) if period else today.replace(day=1)
    last = _period_end(first, period, offset) if period else today
    members = dict(plan.plan_keys.values_list("api_key_id", "api_key__name"))
    key_ids = sorted(set(members) | usage.keys_with_usage(plan_id=plan.id, start=first, end=today))
    used = usage.daily_used(plan_id=plan.id, start=first, end=today, key_ids=key_ids)
    values = selectors.usage_values(plan=plan, key_ids=key_ids, start=today, end=today)
    keys = {k.id: k for k in m.ApiKey.objects.filter(id__in=key_ids)}
    adjustments = {
        a.api_key_id: a
        for a in m.QuotaAdjustment.objects.filter(
            usage_plan=plan, period_start__gte=datetime(first.year, first.month, first.day, tzinfo=UTC)
        ).order_by("id")
    }
    rows = []
    for key_id in key_ids:
        key = keys.get(key_id)
        per_day = used.get(key_id, {})
        rows.append(
            KeyQuota(
                key_id=key_id,
                key_name=key.name if key else key_id,
                enabled=bool(key and key.enabled),
                in_plan=key_id in members,
                used_today=per_day.get(today, 0),
                used_period=sum(per_day.values()),
                remaining=values[key_id][0][1] if limit is not None else None,
                adjustment=adjustments.get(key_id),
            )
        )
    rows.sort(key=lambda row: (-row.used_period, row.key_name.lower(), row.key_id))
    return PlanUsage(plan=plan, today=today, period_start=first, period_end=last, limit=limit, keys=rows)
