"""Reads of the developer portal. Everything a consumer reaches is filtered by who they are: others' rows are 404."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Case, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from apis import models as am
from apis import selectors as api_selectors
from apis.openapi import stage_export
from portal import sdks
from portal.models import (
    OPEN_STATUSES,
    CatalogTag,
    Consumer,
    ConsumerStatus,
    KeyRotation,
    Listing,
    ListingPlan,
    PortalSettings,
    SdkBuild,
    SdkBuildStatus,
    Subscription,
    SubscriptionStatus,
    Visibility,
)


def portal_settings_get() -> PortalSettings:
    """Return the portal's settings row, creating it with the defaults on first use."""
    return PortalSettings.objects.get_or_create(id=1)[0]


def listings_visible(*, user: Any) -> QuerySet[Listing]:
    """Return the published listings a visitor may see: public ones, signed-in ones, and their groups' ones."""
    listings = Listing.objects.filter(published=True)
    if user is None or not user.is_authenticated:
        return listings.filter(visibility=Visibility.PUBLIC)
    if user.is_staff:
        return listings
    return listings.filter(
        Q(visibility__in=[Visibility.PUBLIC, Visibility.SIGNED_IN])
        | Q(visibility=Visibility.GROUPS, groups__members=user)
    ).distinct()


def catalog_search(*, user: Any, query: str = "", tag: str = "") -> QuerySet[Listing]:
    """Return the visible listings matching a free-text query and a tag, with their tags prefetched."""
    listings = listings_visible(user=user)
    for word in query.split()[:8]:
        listings = listings.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(description__icontains=word)
        )
    if tag:
        listings = listings.filter(tags__name=tag)
    return listings.select_related("stage").prefetch_related("tags").distinct()


def catalog_tags(*, user: Any) -> QuerySet[CatalogTag]:
    """Return the tags used by at least one listing the visitor may see."""
    return CatalogTag.objects.filter(listings__in=listings_visible(user=user)).distinct()


def listing_get(*, user: Any, slug: str) -> Listing:
    """Return a listing the visitor may see, with its offers; 404 for anything else."""
    offers = ListingPlan.objects.select_related("usage_plan")
    listing = (
        listings_visible(user=user)
        .filter(slug=slug)
        .select_related("stage__deployment", "stage__rest_api")
        .prefetch_related("tags", Prefetch("offers", queryset=offers))
        .first()
    )
    if listing is None:
        raise Http404("No such API in the catalog.")
    return listing


def listing_openapi(*, listing: Listing, server_url: str | None = None) -> dict[str, Any]:
    """Return the OpenAPI 3.0 document of a listing's stage, as deployed (no integration details)."""
    stage = listing.stage
    document = stage_export(
        snapshot=stage.deployment.snapshot,
        stage_name=stage.stage_name,
        deployed_at=stage.deployment.created_date,
        export_type="oas30",
        server_url=server_url,
    )
    document["info"]["title"] = listing.title
    if listing.summary and "description" not in document["info"]:
        document["info"]["description"] = listing.summary
    return document


def consumer_keys(*, consumer: Any) -> QuerySet[am.ApiKey]:
    """Return a consumer's API keys, with the rotation of those that were rotated."""
    return am.ApiKey.objects.filter(owner=consumer).select_related("rotation").order_by("-created_date", "id")


def consumer_key_get(*, consumer: Any, key_id: str) -> am.ApiKey:
    """Return one of the consumer's keys; another consumer's id is a 404, like an unknown one."""
    key = consumer_keys(consumer=consumer).filter(id=key_id).first()
    if key is None:
        raise Http404("No such key.")
    return key


def key_rotation(*, key: am.ApiKey) -> KeyRotation | None:
    """Return the rotation of a key that was rotated, else None."""
    try:
        return key.rotation
    except KeyRotation.DoesNotExist:
        return None


def consumer_key_usable(*, key: am.ApiKey) -> bool:
    """Return whether a key still works: enabled, and not past its rotation grace period."""
    rotation = key_rotation(key=key)
    return key.enabled and (rotation is None or rotation.expired_at is None)


def consumer_subscriptions(*, consumer: Any) -> QuerySet[Subscription]:
    """Return a consumer's subscriptions, open ones first."""
    open_first = Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1))
    return (
        Subscription.objects.filter(consumer=consumer)
        .select_related("usage_plan", "listing")
        .order_by(open_first, "-requested_at")
    )


def consumer_subscription_get(*, consumer: Any, subscription_id: str) -> Subscription:
    """Return one of the consumer's subscriptions; another consumer's id is a 404, like an unknown one."""
    subscription = consumer_subscriptions(consumer=consumer).filter(id=subscription_id).first()
    if subscription is None:
        raise Http404("No such subscription.")
    return subscription


def consumer_open_plan_ids(*, consumer: Any) -> dict[str, str]:
    """Return the consumer's pending or active subscriptions as plan id -> status."""
    return dict(
        Subscription.objects.filter(consumer=consumer, status__in=OPEN_STATUSES).values_list("usage_plan_id", "status")
    )


def consumer_active_plans(*, consumer: Any) -> QuerySet[am.UsagePlan]:
    return am.UsagePlan.objects.filter(
        subscriptions__consumer=consumer, subscriptions__status=SubscriptionStatus.ACTIVE
    ).distinct()


def plan_stage_keys(*, plan: am.UsagePlan) -> set[tuple[str, str]]:
    """Return the (API id, stage name) pairs a usage plan covers."""
    return set(am.UsagePlanStage.objects.filter(usage_plan=plan).values_list("rest_api_id", "stage_name"))


def consumer_status(*, user: Any) -> str:
    """Return a signed-in user's portal status; accounts made outside the portal (owners) count as active."""
    status = Consumer.objects.filter(user=user).values_list("status", flat=True).first()
    return status or ConsumerStatus.ACTIVE


# --- SDK builds ----------------------------------------------------------------------------------------

# A build still "building" this long after the timeout lost its worker; a new request starts it again.
STALE_MARGIN = timedelta(minutes=2)
FAILED_RETRY_AFTER = timedelta(minutes=10)


def sdk_build_path(*, build: SdkBuild) -> Path:
    """Return where a build's zip lives under VAR_DIR/sdks/."""
    return sdks.archive_path(deployment_id=build.deployment_id, stage_name=build.stage_name, sdk_type=build.sdk_type)


def sdk_build_is_stale(*, build: SdkBuild) -> bool:
    """Return whether a build marked as running has outlived its timeout (its worker died)."""
    if build.status != SdkBuildStatus.BUILDING or build.started_at is None:
        return False
    limit = timedelta(seconds=settings.PORTAL_SDK_BUILD_TIMEOUT) * 2 + STALE_MARGIN
    return timezone.now() - build.started_at > limit


def sdk_build_needs_run(*, build: SdkBuild, retry_failed: bool = False) -> bool:
    """Return whether a request should (re)queue a build: stale, its zip or recipe gone, or failed a while ago.

    A failed build is tried again at once only when asked (the portal's "Try again"); otherwise after
    FAILED_RETRY_AFTER, so clients calling GetSdk in a loop do not start a generator on every call.
    """
    if build.status == SdkBuildStatus.FAILED:
        finished = build.finished_at or build.requested_at
        return retry_failed or timezone.now() - finished > FAILED_RETRY_AFTER
    if sdk_build_is_stale(build=build):
        return True
    if build.status == SdkBuildStatus.READY:
        return build.recipe != sdks.sdk_recipe(build.sdk_type) or not sdk_build_path(build=build).is_file()
    return False


def stage_sdk_builds(*, stage: am.Stage) -> list[tuple[sdks.SdkType, SdkBuild | None]]:
    """Return each SDK type with the build of the stage's current deployment, if any (in SDK_TYPES order)."""
    builds = {
        build.sdk_type: build
        for build in SdkBuild.objects.filter(deployment_id=stage.deployment_id, stage_name=stage.stage_name)
    }
    return [(sdk_type, builds.get(sdk_type.id)) for sdk_type in sdks.SDK_TYPES.values()]


def stage_sdk_build(*, stage: am.Stage, sdk_type: str) -> SdkBuild | None:
    """Return the build of one SDK type for the stage's current deployment, if any."""
    return SdkBuild.objects.filter(
        deployment_id=stage.deployment_id, stage_name=stage.stage_name, sdk_type=sdk_type
    ).first()


def sdk_download_name(*, build: SdkBuild, api_name: str) -> str:
    """Return the file name a build's zip is served under."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", api_name).strip("-").lower() or "api"
    return f"{slug}-{build.stage_name}-{build.sdk_type}-sdk.zip"


# --- Usage ---------------------------------------------------------------------------------------------

USAGE_DAY_CHOICES = (7, 30, 90)
USAGE_HOURS = 48
CSV_COLUMNS = (
    "date",
    "requests",
    "counted_against_quota",
    "remaining_quota",
    "status_4xx",
    "status_5xx",
    "throttled",
    "quota_exceeded",
)


@dataclass
class UsageDay:
    """One day (or hour) of a key's requests under a plan."""

    start: datetime
    requests: int = 0
    status_4xx: int = 0
    status_5xx: int = 0
    throttled: int = 0
    quota_rejected: int = 0
    remaining: int | None = None  # quota left at the end of the day, for days

    @property
    def counted(self) -> int:
        """Requests counted against the quota: all but the throttled and quota-rejected ones."""
        return self.requests - self.throttled - self.quota_rejected

    @property
    def other_4xx(self) -> int:
        """4XX answers other than the gateway's 429s."""
        return max(0, self.status_4xx - self.throttled - self.quota_rejected)


@dataclass
class UsageReport:
    """A consumer's view of one key under one plan: series, the quota period, throttles and recent errors."""

    key: am.ApiKey
    plan: am.UsagePlan
    days: list[UsageDay]
    hours: list[UsageDay]
    quota_limit: int | None = None
    quota_period: str = ""
    period_start: datetime | None = None
    resets_at: datetime | None = None
    used_in_period: int = 0
    stage_throttles: list[dict[str, Any]] = field(default_factory=list)
    errors_24h: UsageDay | None = None
    errors_7d: UsageDay | None = None

    @property
    def remaining(self) -> int | None:
        return None if self.quota_limit is None else max(0, self.quota_limit - self.used_in_period)

    @property
    def used_percent(self) -> int:
        if not self.quota_limit:
            return 0
        return min(100, round(100 * self.used_in_period / self.quota_limit))

    def chart_data(self) -> dict[str, Any]:
        """Return the series the page's Chart.js charts draw."""

        def series(points: list[UsageDay], fmt: str) -> dict[str, Any]:
            return {
                "labels": [p.start.strftime(fmt) for p in points],
                "counted": [p.counted for p in points],
                "rejected": [p.throttled + p.quota_rejected for p in points],
                "errors": [p.other_4xx + p.status_5xx for p in points],
            }

        return {
            "daily": series(self.days, "%Y-%m-%d") | {"remaining": [d.remaining for d in self.days]},
            "hourly": series(self.hours, "%m-%d %H:00"),
            "quota": self.quota_limit,
            "period": self.quota_period,
        }

    def csv_rows(self) -> list[list[Any]]:
        return [
            [
                day.start.date().isoformat(),
                day.requests,
                day.counted,
                "" if day.remaining is None else day.remaining,
                day.status_4xx,
                day.status_5xx,
                day.throttled,
                day.quota_rejected,
            ]
            for day in self.days
        ]


def consumer_usage_plans(*, key: am.ApiKey) -> list[am.UsagePlan]:
    """Return the plans a consumer's key is in, or has usage under (kept after unsubscribing), by name."""
    from usage.models import Series

    linked = set(am.UsagePlanKey.objects.filter(api_key=key).values_list("usage_plan_id", flat=True))
    used = set(Series.objects.filter(key_id=key.id).exclude(plan_id="").values_list("plan_id", flat=True))
    return list(am.UsagePlan.objects.filter(id__in=linked | used).order_by("name", "id"))


def consumer_usage_pairs(*, consumer: Any) -> list[tuple[am.ApiKey, list[am.UsagePlan]]]:
    """Return each of the consumer's keys with the plans it has usage pages for."""
    return [(key, consumer_usage_plans(key=key)) for key in consumer_keys(consumer=consumer)]


def consumer_usage_plan_get(*, key: am.ApiKey, plan_id: str) -> am.UsagePlan:
    """Return a plan of the consumer's key; any other plan id is a 404."""
    for plan in consumer_usage_plans(key=key):
        if plan.id == plan_id:
            return plan
    raise Http404("No such usage plan for this key.")


def _points(*, key: am.ApiKey, plan: am.UsagePlan, start: datetime, count: int, step: timedelta) -> list[UsageDay]:
    from usage import selectors as usage

    end = start + step * count
    found = {
        point.start: point
        for point in usage.metrics(
            start=start,
            end=end,
            step=int(step.total_seconds()),
            filters={"key_id": key.id, "plan_id": plan.id},
        )
    }
    points = []
    for n in range(count):
        moment = start + step * n
        point = found.get(moment)
        day = UsageDay(start=moment)
        if point is not None:
            day.requests, day.status_4xx, day.status_5xx = point.count, point.status_4xx, point.status_5xx
            day.throttled, day.quota_rejected = point.throttled, point.quota_rejected
        points.append(day)
    return points


def _total(points: list[UsageDay]) -> UsageDay:
    total = UsageDay(start=points[0].start)
    for point in points:
        total.requests += point.requests
        total.status_4xx += point.status_4xx
        total.status_5xx += point.status_5xx
        total.throttled += point.throttled
        total.quota_rejected += point.quota_rejected
    return total


def key_usage_report(*, key: am.ApiKey, plan: am.UsagePlan, days: int = 30, now: datetime | None = None) -> UsageReport:
    """Return a key's usage under a plan: `days` daily and 48 hourly points, the quota left, throttles, errors."""
    from gateway_runtime.limits import next_period_start, parse_quota, period_start
    from usage import selectors as usage

    now = (now or timezone.now()).astimezone(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    hour = now.replace(minute=0, second=0, microsecond=0)
    day, hours = timedelta(days=1), timedelta(hours=1)
    report = UsageReport(
        key=key,
        plan=plan,
        days=_points(key=key, plan=plan, start=today - day * (days - 1), count=days, step=day),
        hours=_points(key=key, plan=plan, start=hour - hours * (USAGE_HOURS - 1), count=USAGE_HOURS, step=hours),
    )
    report.errors_24h = _total(report.hours[-24:])
    report.errors_7d = _total(report.days[-7:])
    quota = parse_quota(plan.quota)
    if quota is not None:
        report.quota_limit, report.quota_period = quota.limit, quota.period
        report.period_start = period_start(quota.period, quota.offset, now)
        report.resets_at = next_period_start(quota.period, report.period_start)
        remaining = api_selectors.usage_values(
            plan=plan, key_ids=[key.id], start=report.days[0].start.date(), end=today.date()
        )[key.id]
        for point, (_used, left) in zip(report.days, remaining, strict=True):
            point.remaining = left
        used = usage.daily_used(plan_id=plan.id, start=report.period_start.date(), end=today.date(), key_ids=[key.id])
        report.used_in_period = sum(used.get(key.id, {}).values())
    for link in am.UsagePlanStage.objects.filter(usage_plan=plan).order_by("rest_api_id", "stage_name"):
        for method, limits in sorted((link.throttle or {}).items()):
            where = {"api_id": link.rest_api_id, "stage": link.stage_name, "method": method}
            report.stage_throttles.append(where | limits)
    return report


def key_usage_csv(*, report: UsageReport) -> str:
    """Return a usage report's days as CSV with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(report.csv_rows())
    return out.getvalue()
