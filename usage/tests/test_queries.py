"""GetUsage through boto3, metrics read back from the rollups, and the billing export."""

from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from apis.services import keys as key_services
from apis.tests.conftest import ServerThread, free_port, make_client
from usage import histograms, selectors, services
from usage.events import parse
from usage.tests.conftest import make_event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def live_web() -> Iterator[ServerThread]:
    from config.asgi import application

    with ServerThread(application, free_port()) as server:
        yield server


@pytest.fixture
def apigw(live_web: ServerThread):
    from django.contrib.auth import get_user_model

    from apis.services.access import access_key_create

    owner = get_user_model().objects.create_user("usage-owner", "o@example.com", "pw-owner-123", is_staff=True)
    key, secret = access_key_create(user=owner)
    return make_client(live_web, {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": secret})


def at(day: date, hour: int = 12) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp() * 1000)


def ingest(lines: list[str]) -> None:
    services.events_ingest(source="test", position="1", batch=parse(["\n".join(lines)]))


def test_get_usage_answers_daily_used_and_remaining_per_key_like_aws(apigw) -> None:
    plan = key_services.usage_plan_create(name="gold", quota={"limit": 100, "period": "WEEK", "offset": 0})
    first, _ = key_services.api_key_create(name="first", enabled=True)
    second, _ = key_services.api_key_create(name="second", enabled=True)
    idle, _ = key_services.api_key_create(name="idle", enabled=True)
    for key in (first, second, idle):
        key_services.usage_plan_key_create(plan=plan, key_id=key.id)
    sunday = date(2026, 11, 15)  # a WEEK quota with offset 0 starts on Sunday
    lines = [make_event(time_ms=at(sunday), key_id=first.id, plan_id=plan.id) for _ in range(30)]
    lines += [make_event(time_ms=at(sunday + timedelta(days=1)), key_id=first.id, plan_id=plan.id) for _ in range(20)]
    lines += [make_event(time_ms=at(sunday + timedelta(days=1)), key_id=first.id, plan_id=plan.id, flags="T")]
    lines += [make_event(time_ms=at(sunday + timedelta(days=7)), key_id=first.id, plan_id=plan.id) for _ in range(5)]
    lines += [make_event(time_ms=at(sunday + timedelta(days=1)), key_id=second.id, plan_id=plan.id) for _ in range(7)]
    lines += [make_event(time_ms=at(sunday), key_id=second.id, plan_id="another-plan") for _ in range(9)]
    ingest(lines)
    services.rollups_fold()
    ingest([make_event(time_ms=at(sunday + timedelta(days=7), 13), key_id=first.id, plan_id=plan.id)])  # unfolded

    usage = apigw.get_usage(usagePlanId=plan.id, startDate="2026-11-16", endDate="2026-11-22")
    later = apigw.get_usage(usagePlanId=plan.id, startDate="2026-11-22", endDate="2026-11-23", keyId=first.id)

    assert usage["usagePlanId"] == plan.id
    assert (usage["startDate"], usage["endDate"]) == ("2026-11-16", "2026-11-22")
    assert set(usage["items"]) == {first.id, second.id, idle.id}
    # Monday counts 20 (the throttled request is not used quota) after Sunday's 30, in the same week.
    assert usage["items"][first.id] == [[20, 50]] + [[0, 50]] * 5 + [[6, 94]]
    assert usage["items"][second.id] == [[7, 93]] + [[0, 93]] * 5 + [[0, 100]]
    assert usage["items"][idle.id] == [[0, 100]] * 7
    assert later["items"] == {first.id: [[6, 94], [0, 94]]}


@pytest.mark.parametrize(
    ("minute_days", "after_change"),
    [
        (0, 12),  # minute rows kept: the requests of 10:05 (before the change at 10:20) are not counted after it
        (2, 15),  # minute rows of that day pruned: the hour row of 10:00 counts all of 10:05's requests after it
    ],
)
def test_get_usage_counts_down_from_what_update_usage_set(apigw, settings, minute_days, after_change) -> None:
    from apis import models as m

    settings.USAGE = {**settings.USAGE, "RETENTION_DAYS": {**settings.USAGE["RETENTION_DAYS"], "m": minute_days}}
    plan = key_services.usage_plan_create(name="reset", quota={"limit": 100, "period": "WEEK", "offset": 0})
    key, _ = key_services.api_key_create(name="reset", enabled=True)
    other, _ = key_services.api_key_create(name="untouched", enabled=True)
    for each in (key, other):
        key_services.usage_plan_key_create(plan=plan, key_id=each.id)
    sunday, monday, next_sunday = date(2026, 11, 8), date(2026, 11, 9), date(2026, 11, 15)

    def events(count: int, day: date, hour: int, minute: int = 0, who=key) -> list[str]:
        when = at(day, hour) + minute * 60_000
        return [make_event(time_ms=when, key_id=who.id, plan_id=plan.id) for _ in range(count)]

    ingest(
        events(30, sunday, 8)
        + events(3, sunday, 10, 5)
        + events(5, sunday, 10, 20)  # the change's own minute counts as after it
        + events(7, sunday, 14)
        + events(4, monday, 9)
        + events(2, next_sunday, 9)
        + events(10, sunday, 14, who=other)
    )
    services.rollups_fold()
    change = m.QuotaAdjustment.objects.create(
        usage_plan=plan, api_key=key, period_start=datetime(2026, 11, 8, tzinfo=UTC), remaining=50
    )
    m.QuotaAdjustment.objects.filter(id=change.id).update(created_date=datetime(2026, 11, 8, 10, 20, 30, tzinfo=UTC))
    stale = m.QuotaAdjustment.objects.create(  # a change of the week before does not reach into this one
        usage_plan=plan, api_key=key, period_start=datetime(2026, 11, 1, tzinfo=UTC), remaining=1
    )
    m.QuotaAdjustment.objects.filter(id=stale.id).update(created_date=datetime(2026, 11, 7, 23, 0, tzinfo=UTC))

    usage = apigw.get_usage(usagePlanId=plan.id, startDate="2026-11-07", endDate="2026-11-15")

    left = 50 - after_change
    assert usage["items"][key.id] == ([[0, 1], [45, left], [4, left - 4]] + [[0, left - 4]] * 5 + [[2, 98]])
    assert usage["items"][other.id] == [[0, 100], [10, 90]] + [[0, 90]] * 6 + [[0, 100]]


def test_get_usage_pages_over_keys_and_checks_its_dates(apigw) -> None:
    plan = key_services.usage_plan_create(name="paged", quota={"limit": 5, "period": "DAY"})
    ids = []
    for n in range(3):
        key, _ = key_services.api_key_create(name=f"k{n}", enabled=True)
        key_services.usage_plan_key_create(plan=plan, key_id=key.id)
        ids.append(key.id)

    seen, position, pages = {}, None, 0
    while True:
        page = apigw.get_usage(
            usagePlanId=plan.id,
            startDate="2026-11-01",
            endDate="2026-11-02",
            limit=2,
            **({"position": position} if position else {}),
        )
        seen.update(page["items"])
        pages += 1
        position = page.get("position")
        if not position:
            break

    assert pages == 2 and sorted(seen) == sorted(ids)
    assert all(values == [[0, 5], [0, 5]] for values in seen.values())
    with pytest.raises(ClientError) as bad_dates:
        apigw.get_usage(usagePlanId=plan.id, startDate="2026-11-02", endDate="2026-11-01")
    assert bad_dates.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as missing:
        apigw.get_usage(usagePlanId="nope00", startDate="2026-11-01", endDate="2026-11-01")
    assert missing.value.response["Error"]["Code"] == "NotFoundException"


def test_metrics_percentiles_come_back_within_one_bucket_of_the_raw_latencies() -> None:
    rng = random.Random(5)
    base = at(date(2026, 11, 20), 10)
    latencies = [int(rng.lognormvariate(9.5, 1.0)) for _ in range(4_000)]
    lines = [
        make_event(time_ms=base + i * 900, latency_us=lat, status=(200, 404, 502)[i % 3], flags="HM"[i % 2])
        for i, lat in enumerate(latencies)
    ]
    ingest(lines)
    services.rollups_fold()

    start = datetime.fromtimestamp(base / 1000, UTC)
    (point,) = selectors.metrics(start=start, end=start + timedelta(hours=2), step=7200)
    per_method = selectors.metrics(
        start=start,
        end=start + timedelta(hours=1),
        step=600,
        filters={"api_id": "a1b2c3d4e5"},
        group_by=["http_method"],
    )

    assert point.count == 4_000 and point.status_4xx == 1_333 and point.status_5xx == 1_333
    assert (point.cache_hits, point.cache_misses) == (2_000, 2_000)
    for q in (50, 90, 99):
        exact = sorted(latencies)[math.ceil(q / 100 * len(latencies)) - 1]
        estimate = point.latency_ms(q) * 1000
        assert abs(histograms.bucket_of(estimate) - histograms.bucket_of(exact)) <= 1, (q, estimate, exact)
    assert [p.dimensions for p in per_method][:1] == [{"http_method": "GET"}]
    assert sum(p.count for p in per_method) == 4_000  # 4 000 events 0.9 s apart: exactly one hour
    assert point.as_dict()["Latency"]["p99"] >= point.as_dict()["Latency"]["p50"]


def test_the_billing_export_has_a_row_per_plan_and_key() -> None:
    plan = key_services.usage_plan_create(name="billing")
    key, _ = key_services.api_key_create(name="acme", customer_id="cust-1", enabled=True)
    day = date(2026, 11, 3)
    ingest(
        [make_event(time_ms=at(day), key_id=key.id, plan_id=plan.id, bytes_out=1_000) for _ in range(8)]
        + [make_event(time_ms=at(day), key_id=key.id, plan_id=plan.id, flags="Q", status=429)]
        + [make_event(time_ms=at(day + timedelta(days=40)), key_id=key.id, plan_id=plan.id)]
    )

    rows = list(csv.DictReader(io.StringIO(selectors.billing_csv(start=date(2026, 11, 1), end=date(2026, 11, 30)))))

    assert rows == [
        {
            "plan_id": plan.id,
            "plan_name": "billing",
            "key_id": key.id,
            "key_name": "acme",
            "customer_id": "cust-1",
            "start_date": "2026-11-01",
            "end_date": "2026-11-30",
            "requests": "9",
            "billable_requests": "8",
            "throttled": "0",
            "quota_rejected": "1",
            "status_4xx": "1",
            "status_5xx": "0",
            "bytes_in": "90",
            "bytes_out": "8100",
        }
    ]


def test_the_billing_export_command_writes_csv(tmp_path) -> None:
    from django.core.management import call_command

    plan = key_services.usage_plan_create(name="cmd")
    ingest([make_event(time_ms=at(date(2026, 11, 5)), key_id="k-cmd", plan_id=plan.id)])
    out = tmp_path / "billing.csv"

    call_command(
        "usage_billing_export", "--start", "2026-11-01", "--end", "2026-11-30", "--plan", plan.id, "--output", str(out)
    )

    header, row = out.read_text().splitlines()
    assert header.startswith("plan_id,plan_name,key_id") and row.startswith(f"{plan.id},cmd,k-cmd,")
