"""Prometheus metrics of the gateway (`GET /metrics`), with prometheus_client.

Request counters and latency histograms by API, stage and status class, which AWS does not give per
status class; plus the metering emitter's own counters. With several gateway processes set
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode) and every process reports the sum.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}


class _MeteringCollector:
    """Report the emitter's counters at scrape time (they are plain ints on the hot path)."""

    def __init__(self, counts: Callable[[], dict[str, int]], spooled: Callable[[], int]):
        self._counts = counts
        self._spooled = spooled

    def collect(self) -> Iterator[Any]:
        events = CounterMetricFamily(
            "portico_metering_events", "Usage events by what became of them", labels=["outcome"]
        )
        for outcome, value in self._counts().items():
            events.add_metric([outcome], value)
        yield events
        yield GaugeMetricFamily("portico_metering_buffered_events", "Events waiting to be flushed", self._spooled())


class GatewayMetrics:
    """The gateway's Prometheus metrics, in a registry of its own (or the multiprocess directory)."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry()
        target = None if self.multiprocess else self.registry
        labels = ["api", "stage", "status_class"]
        self._requests = Counter("portico_gateway_requests", "Requests answered", labels, registry=target)
        self._duration = Histogram(
            "portico_gateway_request_duration_seconds",
            "Time from request to response",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=target,
        )
        self._integration = Histogram(
            "portico_gateway_integration_duration_seconds",
            "Time spent calling integrations",
            ["api", "stage"],
            buckets=LATENCY_BUCKETS,
            registry=target,
        )
        self._bytes = Counter(
            "portico_gateway_response_bytes", "Response body bytes sent", ["api", "stage"], registry=target
        )
        # Children looked up once per label set: `labels()` takes a lock and builds a tuple every call.
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any, Any]] = {}

    def watch_metering(self, counts: Callable[[], dict[str, int]], buffered: Callable[[], int]) -> None:
        """Export a metering emitter's counters too."""
        self.registry.register(_MeteringCollector(counts, buffered))

    def observe(
        self, api: str, stage: str, status: int, seconds: float, integration_ms: int | None, length: int
    ) -> None:
        """Count one answered request."""
        children = self._children.get((api, stage, status))
        if children is None:
            klass = STATUS_CLASSES.get(status // 100, "other")
            children = (
                self._requests.labels(api, stage, klass),
                self._duration.labels(api, stage, klass),
                self._integration.labels(api, stage),
                self._bytes.labels(api, stage),
            )
            if len(self._children) < 10_000:
                self._children[(api, stage, status)] = children
        requests, duration, integration, sent = children
        requests.inc()
        duration.observe(seconds)
        if integration_ms is not None:
            integration.observe(integration_ms / 1000)
        if length:
            sent.inc(length)

    def render(self) -> tuple[bytes, str]:
        """Return the exposition text and its content type."""
        if not self.multiprocess:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry) + generate_latest(self.registry), CONTENT_TYPE_LATEST
