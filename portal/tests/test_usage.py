"""The consumer's usage pages: per key and plan, charts' data, quota left and its reset, errors, CSV; 404s."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal import selectors, services
from usage import services as usage_services
from usage.events import parse
from usage.tests.conftest import make_event


@pytest.fixture(autouse=True)
def fresh_usage_caches() -> Iterator[None]:
    # The drain caches series and event ids; each test's database is rolled back under it.
    usage_services.caches_reset()
    yield
    usage_services.caches_reset()


def ingest(lines: list[str]) -> None:
    usage_services.events_ingest(source="portal-test", position="1", batch=parse(["\n".join(lines)]))


@pytest.fixture
def alice_key(published: Any, consumer: Any) -> Any:
    """Alice's key in the Free plan (1000 a day, 5/s), with usage today and yesterday."""
    services.subscription_create(consumer=consumer, listing=published.listing, plan=published.free)
    key, _value = services.consumer_key_create(consumer=consumer, name="laptop")
    now_ms = int(time.time() * 1000)
    day_ms = 86_400_000
    common = {"api_id": published.api.id, "key_id": key.id, "plan_id": published.free.id, "resource_path": "/hello"}
    lines = [make_event(time_ms=now_ms, status=200, **common) for _ in range(7)]
    lines += [make_event(time_ms=now_ms, status=429, flags="T", **common) for _ in range(2)]
    lines += [make_event(time_ms=now_ms, status=429, flags="Q", **common)]
    lines += [make_event(time_ms=now_ms, status=500, **common), make_event(time_ms=now_ms, status=404, **common)]
    lines += [make_event(time_ms=now_ms - day_ms, status=200, **common) for _ in range(5)]
    ingest(lines)
    return key


def test_the_usage_page_shows_the_quota_left_its_reset_throttles_and_errors(
    alice: Any, alice_key: Any, published: Any
) -> None:
    page = alice.get(f"/keys/{alice_key.id}/usage/{published.free.id}/")
    assert page.status_code == 200
    report = page.context["report"]
    # Counted against the quota: everything but the throttled and quota-rejected requests.
    assert report.used_in_period == 9
    assert report.remaining == 991
    tomorrow = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    assert report.resets_at == tomorrow
    html = page.content.decode()
    assert '<span data-testid="remaining">991</span>' in html
    assert tomorrow.strftime("%Y-%m-%d 00:00") in html
    assert "5 requests/s, bursts of 10" in html
    last_day = report.errors_24h
    assert (last_day.throttled, last_day.quota_rejected, last_day.other_4xx, last_day.status_5xx) == (2, 1, 1, 1)
    assert last_day.requests == 12
    assert report.errors_7d.requests == 17

    chart = json.loads(html.split('<script id="usage-data" type="application/json">')[1].split("</script>")[0])
    assert len(chart["daily"]["labels"]) == 30
    assert chart["daily"]["counted"][-2:] == [5, 9]
    assert chart["daily"]["rejected"][-1] == 3
    assert chart["daily"]["remaining"][-2:] == [995, 991]
    assert chart["quota"] == 1000
    assert len(chart["hourly"]["labels"]) == 48
    assert sum(chart["hourly"]["counted"]) >= 9
    assert "vendor/chartjs/chart.umd.min.js" in html


def test_the_period_can_be_chosen_and_the_csv_has_one_row_per_day(alice: Any, alice_key: Any, published: Any) -> None:
    assert len(alice.get(f"/keys/{alice_key.id}/usage/{published.free.id}/?days=7").context["report"].days) == 7
    assert len(alice.get(f"/keys/{alice_key.id}/usage/{published.free.id}/?days=999").context["report"].days) == 30
    answer = alice.get(f"/keys/{alice_key.id}/usage/{published.free.id}/csv/?days=7")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="usage-{alice_key.id}-{published.free.id}-7d-' in answer["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert len(rows) == 7
    today = rows[-1]
    assert today["date"] == datetime.now(UTC).date().isoformat()
    assert (today["requests"], today["counted_against_quota"], today["remaining_quota"]) == ("12", "9", "991")
    errors = (today["status_4xx"], today["status_5xx"], today["throttled"], today["quota_exceeded"])
    assert errors == ("4", "1", "2", "1")
    assert rows[-2]["requests"] == "5"
    assert rows[0]["requests"] == "0"


def test_consumers_see_only_their_own_keys_usage(
    alice: Any, bob: Any, client: Any, alice_key: Any, published: Any, other_consumer: Any
) -> None:
    services.subscription_create(consumer=other_consumer, listing=published.listing, plan=published.free)
    bob_key, _ = services.consumer_key_create(consumer=other_consumer, name="bob's")
    for path in (
        f"/keys/{alice_key.id}/usage/{published.free.id}/",
        f"/keys/{alice_key.id}/usage/{published.free.id}/csv/",
    ):
        assert bob.get(path).status_code == 404
        assert client.get(path).status_code == 302  # to the sign-in page
    # A plan the key is not in, and unknown ids, are 404 too.
    assert alice.get(f"/keys/{alice_key.id}/usage/{published.gold.id}/").status_code == 404
    assert alice.get(f"/keys/{alice_key.id}/usage/nope/").status_code == 404
    assert alice.get(f"/keys/{bob_key.id}/usage/{published.free.id}/").status_code == 404
    assert bob.get(f"/keys/{bob_key.id}/usage/{published.free.id}/").context["report"].used_in_period == 0
    overview = bob.get("/usage/").content.decode()
    assert bob_key.id in overview
    assert alice_key.id not in overview


def test_usage_stays_visible_after_unsubscribing(alice: Any, consumer: Any, alice_key: Any, published: Any) -> None:
    subscription = selectors.consumer_subscriptions(consumer=consumer).get()
    services.subscription_cancel(subscription=subscription)
    overview = alice.get("/usage/").content.decode()
    assert f"/keys/{alice_key.id}/usage/{published.free.id}/" in overview
    assert alice.get(f"/keys/{alice_key.id}/usage/{published.free.id}/").context["report"].remaining == 991


def test_a_plan_without_quota_says_so(alice: Any, consumer: Any, published: Any, api_owner: Any) -> None:
    from apis.services import keys as key_services

    unlimited = key_services.usage_plan_create(
        owner=api_owner, name="Unlimited", api_stages=[{"apiId": published.api.id, "stage": "prod"}]
    )
    key, _ = services.consumer_key_create(consumer=consumer, name="ci")
    key_services.usage_plan_key_create(plan=unlimited, key_id=key.id)
    page = alice.get(f"/keys/{key.id}/usage/{unlimited.id}/")
    assert page.status_code == 200
    assert page.context["report"].remaining is None
    assert "This plan has no quota." in page.content.decode()
    assert page.context["chart"]["quota"] is None
