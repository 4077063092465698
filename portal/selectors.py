"""Reads of the developer portal. Everything a consumer reaches is filtered by who they are: others' rows are 404."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Prefetch, Q, QuerySet, Value, When
from django.http import Http404

from apis import models as am
from apis.openapi import stage_export
from portal.models import (
    OPEN_STATUSES,
    CatalogTag,
    Consumer,
    ConsumerStatus,
    KeyRotation,
    Listing,
    ListingPlan,
    PortalSettings,
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
