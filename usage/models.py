"""Metering data: rollup series and rows, the event-id dedupe store and the drain's watermarks.

Dimensions are plain strings, not foreign keys: usage outlives the APIs, stages and keys it was about,
and billing still needs it after they are deleted. The layout is described in docs/metering.md.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.db import models


class HistogramField(models.Field):
    """Bucket counts of a latency histogram: `bigint[]` on PostgreSQL, JSON text elsewhere."""

    description = "Histogram bucket counts"

    def db_type(self, connection: Any) -> str:
        return "bigint[]" if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[int]:
        return self.to_python(value)

    def to_python(self, value: Any) -> list[int]:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [int(x) for x in json.loads(value)]
        return [int(x) for x in value]

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        counts = [int(x) for x in (value or [])]
        return counts if connection.vendor == "postgresql" else json.dumps(counts, separators=(",", ":"))


class Granularity(models.TextChoices):
    MINUTE = "m", "minute"
    HOUR = "h", "hour"
    DAY = "d", "day"


GRANULARITY_SECONDS = {Granularity.MINUTE: 60, Granularity.HOUR: 3600, Granularity.DAY: 86400}


class Series(models.Model):
    """One combination of dimensions usage is counted under."""

    api_id = models.CharField(max_length=64)
    stage = models.CharField(max_length=128)
    resource_path = models.CharField(max_length=2048)
    http_method = models.CharField(max_length=16)
    key_id = models.CharField(max_length=64)
    plan_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["api_id", "stage", "resource_path", "http_method", "key_id", "plan_id"],
                name="usage_series_unique",
            )
        ]
        indexes = [models.Index(fields=["plan_id", "key_id"], name="usage_series_plan_key")]

    def __str__(self) -> str:
        return f"{self.api_id}/{self.stage} {self.http_method} {self.resource_path} key={self.key_id or '-'}"


class Rollup(models.Model):
    """Counts and latency histograms of one series over one minute, hour or day (UTC, epoch-second start)."""

    granularity = models.CharField(max_length=1, choices=Granularity.choices)
    series = models.ForeignKey(Series, on_delete=models.PROTECT, related_name="rollups")
    start = models.BigIntegerField()
    # Minute rows the fold has not yet added to the hour and day rows (only minute rows are ever unfolded).
    folded = models.BooleanField(default=True)
    count = models.BigIntegerField(default=0)
    status_2xx = models.BigIntegerField(default=0)
    status_4xx = models.BigIntegerField(default=0)
    status_5xx = models.BigIntegerField(default=0)
    throttled = models.BigIntegerField(default=0)
    quota_rejected = models.BigIntegerField(default=0)
    cache_hits = models.BigIntegerField(default=0)
    cache_misses = models.BigIntegerField(default=0)
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)
    latency_sum_us = models.BigIntegerField(default=0)
    latency_hist = HistogramField(default=list)
    integration_count = models.BigIntegerField(default=0)
    integration_latency_sum_us = models.BigIntegerField(default=0)
    integration_latency_hist = HistogramField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["granularity", "series", "start", "folded"], name="usage_rollup_unique")
        ]
        indexes = [
            models.Index(fields=["granularity", "start"], name="usage_rollup_time"),
            models.Index(fields=["start"], condition=models.Q(folded=False), name="usage_rollup_unfolded"),
        ]

    @property
    def start_time(self) -> datetime:
        return datetime.fromtimestamp(self.start, UTC)

    @property
    def billable(self) -> int:
        """Requests counted against a quota: everything not throttled or rejected by the quota."""
        return self.count - self.throttled - self.quota_rejected


class EventIdHead(models.Model):
    """The number of the last id block committed for one event minute; locked while a drain decides."""

    minute = models.BigIntegerField(primary_key=True)
    seq = models.BigIntegerField(default=0)


class EventIdBlock(models.Model):
    """The 16-byte ids of the events of one minute that one drain transaction counted."""

    minute = models.BigIntegerField()
    seq = models.BigIntegerField()
    ids = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["minute", "seq"], name="usage_eventidblock_unique")]


class DrainWatermark(models.Model):
    """How far a drain has committed a source (a stream and group, or a local store), and what it counted."""

    source = models.CharField(primary_key=True, max_length=512)
    position = models.CharField(max_length=64, default="")
    events = models.BigIntegerField(default=0)
    duplicates = models.BigIntegerField(default=0)
    malformed = models.BigIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.source} @ {self.position}"
