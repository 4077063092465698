"""Console: the metrics dashboard and a plan's per-key usage with UpdateUsage, over rollups the drain wrote."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apis import models as m
from apis.services import keys
from apis.tests.console_support import World, write_buttons
from gateway_runtime.metering import LocalEventStore
from usage import services
from usage.tests.conftest import make_event

pytestmark = pytest.mark.django_db

Drain = Callable[[list[str]], int]
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@pytest.fixture(autouse=True)
def _fresh_drain_caches() -> Iterator[None]:
    # The drain remembers committed event ids and series per process; tests roll their rows back.
    services.caches_reset()
    yield
    services.caches_reset()


@pytest.fixture
def drain(settings: Any, tmp_path: Path) -> Drain:
    """Return a function that stores event lines as a gateway does (embedded mode) and runs the drain on them."""
    settings.REDIS_URL = ""
    settings.USAGE = {**settings.USAGE, "LOCAL_STORE": tmp_path / "events.sqlite3"}

    def run(lines: list[str]) -> int:
        store = LocalEventStore(settings.USAGE["LOCAL_STORE"])
        store.append(["\n".join(lines[i : i + 100]) for i in range(0, len(lines), 100)])
        store.close()
        return services.usage_events_drain().result.counted

    return run


def now_ms(offset_ms: int = 0) -> int:
    return int(time.time() * 1000) + offset_ms


def item_events(world: World, count: int, **fields: Any) -> list[str]:
    defaults = {
        "api_id": world.api.id,
        "stage": "dev",
        "resource_path": "/items/{id}",
        "http_method": "GET",
        "key_id": world.key.id,
        "plan_id": world.plan.id,
        "time_ms": now_ms(),
    }
    return [make_event(**(defaults | fields)) for _ in range(count)]


def dashboard(client: Client, world: World, **query: str) -> Any:
    response = client.get(f"/console/apis/{world.api.id}/dashboard/", query)
    assert response.status_code == 200
    return response


def chart_of(response: Any) -> dict[str, Any]:
    html = response.content.decode()
    start = html.index('<script id="dashboard-data" type="application/json">') + len(
        '<script id="dashboard-data" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_the_dashboard_charts_count_errors_and_latency_of_drained_requests(
    world: World, readonly_console: Client, drain: Drain
) -> None:
    lines = item_events(world, 5, latency_us=2_000, integration_latency_us=1_000)
    lines += item_events(world, 2, status=404, latency_us=500, integration_latency_us=None)
    lines += item_events(world, 1, status=502, latency_us=40_000, integration_latency_us=39_000)
    lines += item_events(world, 3, http_method="POST", resource_path="/orders", key_id="", plan_id="")
    lines += item_events(world, 4, api_id="otherapi01")  # another API: not on this dashboard
    assert drain(lines) == 15

    response = dashboard(readonly_console, world, range="1h")
    chart = chart_of(response)

    assert len(chart["labels"]) == 60
    assert sum(chart["count"]) == 11
    assert (sum(chart["status4xx"]), sum(chart["status5xx"])) == (2, 1)
    busy = [i for i, n in enumerate(chart["count"]) if n]
    assert busy, "the requests fall in the last minutes of the hour"
    assert 1.0 < chart["latency"]["p50"][busy[-1]] < 3.0
    assert chart["latency"]["p99"][busy[-1]] > 30.0
    assert all(chart["latency"]["p50"][i] is None for i in range(60) if i not in busy)
    assert chart["integrationLatency"]["p50"][busy[-1]] is not None
    page = response.content.decode()
    dash = response.context["dashboard"]
    assert dash.totals.count == 11 and dash.keyless_count == 3
    assert [(row.key_id, row.totals.count) for row in dash.top_keys] == [(world.key.id, 8)]
    assert [(row.label, row.totals.count, row.totals.status_5xx) for row in dash.top_methods] == [
        ("GET /items/{id}", 8, 1),
        ("POST /orders", 3, 0),
    ]
    assert "Acme key" in page and 'data-testid="total-count">11<' in page
    assert 'src="/static/vendor/chartjs/chart.umd.min.js"' in page
    assert write_buttons(page) == []


def test_the_dashboard_filters_by_stage_and_time_range(world: World, editor_console: Client, drain: Drain) -> None:
    drain(
        item_events(world, 2)
        + item_events(world, 3, stage="prod")
        + item_events(world, 4, time_ms=now_ms(-3 * HOUR_MS))
        + item_events(world, 5, time_ms=now_ms(-3 * DAY_MS))
    )

    def total(**query: str) -> int:
        return dashboard(editor_console, world, **query).context["dashboard"].totals.count

    assert total(range="1h") == 5
    assert total(range="1h", stage="dev") == 2
    assert total(range="24h", stage="dev") == 6
    assert total(range="7d") == 14
    assert total(range="7d", stage="dev") == 11
    response = dashboard(editor_console, world, range="7d", stage="dev")
    assert len(chart_of(response)["labels"]) == 168
    assert response.context["stage_name"] == "dev"


def test_the_longer_ranges_read_folded_hour_rows(world: World, editor_console: Client, drain: Drain) -> None:
    drain(item_events(world, 6, time_ms=now_ms(-10 * DAY_MS)) + item_events(world, 1))
    assert services.rollups_fold() > 0

    month = dashboard(editor_console, world, range="30d")
    week = dashboard(editor_console, world, range="7d")

    assert month.context["dashboard"].totals.count == 7
    assert len(chart_of(month)["labels"]) == 120
    assert week.context["dashboard"].totals.count == 1


def test_unknown_stages_and_ranges_fall_back_to_all_stages_over_a_day(world: World, editor_console: Client) -> None:
    response = dashboard(editor_console, world, range="5y", stage="nope")
    assert (response.context["stage_name"], response.context["range_name"]) == ("", "24h")
    assert "No requests in the last 24 hours" in response.content.decode()


def test_htmx_polls_get_only_the_live_part(world: World, editor_console: Client, drain: Drain) -> None:
    page = dashboard(editor_console, world, range="1h", stage="dev").content.decode()
    assert 'hx-trigger="every 15s' in page
    assert f'hx-get="/console/apis/{world.api.id}/dashboard/?stage=dev&amp;range=1h"' in page
    drain(item_events(world, 3))

    poll = editor_console.get(
        f"/console/apis/{world.api.id}/dashboard/", {"stage": "dev", "range": "1h"}, HTTP_HX_REQUEST="true"
    )

    html = poll.content.decode()
    assert poll.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<div id="dashboard-live"')
    assert sum(chart_of(poll)["count"]) == 3
    assert 'hx-preserve="true"' in html


# -- a plan's usage per key, UpdateUsage --------------------------------------------------------------


@pytest.fixture
def daily_plan(world: World) -> m.UsagePlan:
    plan = keys.usage_plan_create(
        owner=None,
        name="Daily",
        api_stages=[{"apiId": world.api.id, "stage": "dev"}],
        quota={"limit": 100, "period": "DAY"},
    )
    keys.usage_plan_key_create(plan=plan, key_id=world.key.id)
    return plan


def usage_url(plan: m.UsagePlan, suffix: str = "") -> str:
    return f"/console/usage-plans/{plan.id}/usage/{suffix}"


def test_plan_usage_shows_each_keys_requests_and_remaining_quota(
    world: World, daily_plan: m.UsagePlan, readonly_console: Client, drain: Drain
) -> None:
    idle, _ = keys.api_key_create(name="Idle key", enabled=True)
    keys.usage_plan_key_create(plan=daily_plan, key_id=idle.id)
    lines = item_events(world, 30, plan_id=daily_plan.id)
    lines += item_events(world, 2, plan_id=daily_plan.id, status=429, flags="T")  # throttled: no quota used
    lines += item_events(world, 7)  # the same key under another plan
    drain(lines)

    response = readonly_console.get(usage_url(daily_plan))

    usage = response.context["usage"]
    assert usage.limit == 100 and usage.period_start == usage.period_end == usage.today
    rows = {row.key_id: row for row in usage.keys}
    assert (rows[world.key.id].used_today, rows[world.key.id].used_period, rows[world.key.id].remaining) == (30, 30, 70)
    assert (rows[idle.id].used_today, rows[idle.id].remaining) == (0, 100)
    assert [row.key_id for row in usage.keys] == [world.key.id, idle.id]
    page = response.content.decode()
    assert 'data-testid="remaining">70<' in page and "Idle key" in page
    assert write_buttons(page) == []
    assert 'name="remaining"' not in page


def test_setting_the_remaining_quota_calls_update_usage(
    world: World, daily_plan: m.UsagePlan, editor_console: Client, drain: Drain
) -> None:
    drain(item_events(world, 10, plan_id=daily_plan.id))
    page = editor_console.get(usage_url(daily_plan)).content.decode()
    assert f'action="{usage_url(daily_plan, world.key.id + "/remaining/")}"' in page

    response = editor_console.post(
        usage_url(daily_plan, f"{world.key.id}/remaining/"), {"remaining": "40"}, follow=True
    )

    adjustment = m.QuotaAdjustment.objects.get(usage_plan=daily_plan, api_key=world.key)
    assert adjustment.remaining == 40
    html = response.content.decode()
    assert f"Key {world.key.id} has 40 requests left until" in html
    assert "Set to 40 on" in html
    event = m.AuditEvent.objects.get(operation="UpdateUsage")
    assert (event.status, event.target) == (200, f"/usageplans/{daily_plan.id}/keys/{world.key.id}/usage")


def test_update_usage_errors_are_shown_and_audited(world: World, editor_console: Client) -> None:
    unlimited = keys.usage_plan_create(name="Unlimited", api_stages=[{"apiId": world.api.id, "stage": "dev"}])
    keys.usage_plan_key_create(plan=unlimited, key_id=world.key.id)

    no_quota = editor_console.post(usage_url(unlimited, f"{world.key.id}/remaining/"), {"remaining": "5"}, follow=True)
    negative = editor_console.post(
        usage_url(world.plan, f"{world.key.id}/remaining/"), {"remaining": "-1"}, follow=True
    )

    assert f"Usage plan {unlimited.id} has no quota" in no_quota.content.decode()
    assert "Enter the number of requests left" in negative.content.decode()
    assert m.AuditEvent.objects.get(operation="UpdateUsage").status == 400
    assert not m.QuotaAdjustment.objects.exists()
    page = editor_console.get(usage_url(unlimited)).content.decode()
    assert "This plan has no quota" in page and 'name="remaining"' not in page


def test_read_only_owners_cannot_change_the_remaining_quota(
    world: World, daily_plan: m.UsagePlan, readonly_console: Client
) -> None:
    response = readonly_console.post(usage_url(daily_plan, f"{world.key.id}/remaining/"), {"remaining": "1"})
    assert response.status_code == 403
    assert not m.QuotaAdjustment.objects.exists()
    assert not m.AuditEvent.objects.filter(operation="UpdateUsage").exists()


def test_update_usage_says_so_when_the_quota_counters_cannot_be_reached(
    world: World, daily_plan: m.UsagePlan, editor_console: Client, settings: Any
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # Redis mode, but nothing listens there

    response = editor_console.post(usage_url(daily_plan, f"{world.key.id}/remaining/"), {"remaining": "5"}, follow=True)

    assert "The quota counters cannot be reached; try again later" in response.content.decode()
    assert m.AuditEvent.objects.get(operation="UpdateUsage").status == 503
    assert not m.QuotaAdjustment.objects.exists()
