"""Console: publishing a stage to the developer portal, and deciding on subscription and signup requests."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from apis import models as m
from apis.services import keys
from apis.tests.console_support import World, client_for, make_user, write_buttons
from portal import selectors as portal_selectors
from portal import services as portal_services
from portal.models import (
    Consumer,
    ConsumerGroup,
    ConsumerStatus,
    Listing,
    PortalSettings,
    SignupMode,
    Subscription,
    SubscriptionStatus,
    Visibility,
)

pytestmark = pytest.mark.django_db


def portal_url(world: World, suffix: str = "") -> str:
    return f"/console/apis/{world.api.id}/stages/dev/portal/{suffix}"


@pytest.fixture
def silver(world: World) -> m.UsagePlan:
    """A second plan on the world's stage, besides Gold."""
    return keys.usage_plan_create(name="Silver", api_stages=[{"apiId": world.api.id, "stage": "dev"}])


def publish_data(world: World, **changes: Any) -> dict[str, Any]:
    data = {
        "published": "on",
        "title": "Shop API",
        "slug": "",
        "summary": "Orders and items",
        "description": "Everything about the shop.",
        "tags": "retail, Orders",
        "plans": [world.plan.id],
        "approval_plans": [],
        "visibility": Visibility.PUBLIC,
    }
    return data | changes


def test_publishing_a_stage_lists_it_in_the_catalog(world: World, silver: m.UsagePlan, editor_console: Client) -> None:
    page = editor_console.get(portal_url(world)).content.decode()
    assert "Not published" in page and "Silver" in page and "Gold" in page

    response = editor_console.post(
        portal_url(world), publish_data(world, plans=[world.plan.id, silver.id], approval_plans=[silver.id])
    )

    assert response.status_code == 302
    listing = Listing.objects.get(stage=world.stage)
    assert (listing.title, listing.slug, listing.summary, listing.published) == (
        "Shop API",
        "shop-api",
        "Orders and items",
        True,
    )
    assert sorted(listing.tags.values_list("name", flat=True)) == ["orders", "retail"]
    assert {(o.usage_plan_id, o.requires_approval) for o in listing.offers.all()} == {
        (world.plan.id, False),
        (silver.id, True),
    }
    assert list(portal_selectors.listings_visible(user=None)) == [listing]
    assert m.AuditEvent.objects.get(operation="PublishToPortal").status == 200
    page = editor_console.get(portal_url(world)).content.decode()
    assert "Listed in the catalog at <code>/apis/shop-api/</code>" in page
    overview = editor_console.get("/console/portal/").content.decode()
    assert "Shop API" in overview and "published" in overview


def test_saving_again_updates_the_listing_and_unticking_takes_it_out(world: World, editor_console: Client) -> None:
    editor_console.post(portal_url(world), publish_data(world))
    editor_console.post(portal_url(world), publish_data(world, title="Shop API v2", published=""))

    listing = Listing.objects.get(stage=world.stage)
    assert (listing.title, listing.slug, listing.published) == ("Shop API v2", "shop-api", False)
    assert list(portal_selectors.listings_visible(user=None)) == []


def test_unpublishing_keeps_the_listing_and_its_subscriptions(world: World, editor_console: Client) -> None:
    editor_console.post(portal_url(world), publish_data(world))

    response = editor_console.post(portal_url(world, "unpublish/"), follow=True)

    assert Listing.objects.get(stage=world.stage).published is False
    assert "no longer in the catalog" in response.content.decode()
    assert m.AuditEvent.objects.get(operation="UnpublishFromPortal").status == 200


def test_unpublishing_a_stage_that_was_never_published_is_404(world: World, editor_console: Client) -> None:
    assert editor_console.post(portal_url(world, "unpublish/")).status_code == 404


def test_publishing_refusals_are_shown_on_the_form(world: World, editor_console: Client) -> None:
    outside = keys.usage_plan_create(name="Elsewhere")
    ConsumerGroup.objects.create(name="partners")

    other_plan = editor_console.post(portal_url(world), publish_data(world, plans=[outside.id]))
    no_groups = editor_console.post(portal_url(world), publish_data(world, visibility=Visibility.GROUPS))
    approval_only = editor_console.post(
        portal_url(world), publish_data(world, plans=[], approval_plans=[world.plan.id])
    )
    untitled = editor_console.post(portal_url(world), publish_data(world, title=""))

    assert "Select a valid choice" in other_plan.content.decode()
    assert "Choose at least one consumer group" in no_groups.content.decode()
    assert "Only plans on offer can need approval" in approval_only.content.decode()
    assert "This field is required" in untitled.content.decode()
    assert not Listing.objects.exists()


def test_a_listing_may_be_limited_to_consumer_groups(world: World, editor_console: Client) -> None:
    partners = ConsumerGroup.objects.create(name="partners")
    member = get_user_model().objects.create_user("member", "member@example.com")
    partners.members.add(member)

    editor_console.post(portal_url(world), publish_data(world, visibility=Visibility.GROUPS, groups=[partners.pk]))

    listing = Listing.objects.get(stage=world.stage)
    assert list(listing.groups.all()) == [partners]
    assert list(portal_selectors.listings_visible(user=member)) == [listing]
    assert list(portal_selectors.listings_visible(user=None)) == []


# -- subscription requests ----------------------------------------------------------------------------


def consumer_with_key(username: str) -> tuple[Any, m.ApiKey]:
    user = get_user_model().objects.create_user(username, f"{username}@example.com")
    portal_services.consumer_register(user=user)
    key, _ = portal_services.consumer_key_create(consumer=user, name="laptop")
    return user, key


@pytest.fixture
def pending(world: World, silver: m.UsagePlan) -> tuple[Subscription, m.ApiKey]:
    listing = portal_services.portal_publish(
        stage=world.stage, title="Shop API", plans=[silver], approval_plans=[silver]
    )
    consumer, key = consumer_with_key("carol")
    subscription = portal_services.subscription_create(consumer=consumer, listing=listing, plan=silver)
    assert subscription.status == SubscriptionStatus.PENDING
    return subscription, key


def decide(client: Client, url: str, **data: str) -> Any:
    return client.post(url, data, follow=True)


def test_pending_subscriptions_are_approved_from_the_console(
    pending: tuple[Subscription, m.ApiKey], editor_console: Client, django_capture_on_commit_callbacks
) -> None:
    subscription, key = pending
    page = editor_console.get("/console/portal/subscriptions/").content.decode()
    assert "carol@example.com" in page and "Silver" in page
    assert '<span class="badge text-bg-warning">1</span>' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = decide(
            editor_console, "/console/portal/subscriptions/decide/", id=subscription.id, decision="approve"
        )

    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.decided_by is not None and subscription.decided_by.username == "eddie"
    assert m.UsagePlanKey.objects.filter(usage_plan=subscription.usage_plan, api_key=key).exists()
    assert "Approved carol@example.com&#x27;s subscription to Silver." in response.content.decode()
    assert any("carol@example.com" in message.to for message in mail.outbox)
    assert (
        m.AuditEvent.objects.get(operation="ApproveSubscription").target == f"/portal/subscriptions/{subscription.id}"
    )


def test_rejecting_a_subscription_tells_the_consumer_why(
    pending: tuple[Subscription, m.ApiKey], editor_console: Client
) -> None:
    subscription, key = pending
    decide(
        editor_console,
        "/console/portal/subscriptions/decide/",
        id=subscription.id,
        decision="reject",
        note="Trial first",
    )
    again = decide(editor_console, "/console/portal/subscriptions/decide/", id=subscription.id, decision="approve")

    subscription.refresh_from_db()
    assert (subscription.status, subscription.note) == (SubscriptionStatus.REJECTED, "Trial first")
    assert not m.UsagePlanKey.objects.filter(usage_plan=subscription.usage_plan, api_key=key).exists()
    assert "Only a subscription waiting for approval can be approved." in again.content.decode()
    assert m.AuditEvent.objects.get(operation="ApproveSubscription").status == 400
    page = editor_console.get("/console/portal/subscriptions/").content.decode()
    assert "No subscription is waiting for approval." in page and "Trial first" in page


def test_unknown_subscriptions_are_404(world: World, editor_console: Client) -> None:
    assert (
        editor_console.post("/console/portal/subscriptions/decide/", {"id": "nope", "decision": "approve"}).status_code
        == 404
    )


# -- signups -------------------------------------------------------------------------------------------


@pytest.fixture
def waiting(db: None) -> Consumer:
    PortalSettings.objects.update_or_create(id=1, defaults={"signup_mode": SignupMode.APPROVAL})
    user = get_user_model().objects.create_user("dave", "dave@example.com")
    consumer = portal_services.consumer_register(user=user)
    assert consumer.status == ConsumerStatus.PENDING
    return consumer


def test_admins_approve_pending_signups(waiting: Consumer, admin_console: Client) -> None:
    page = admin_console.get("/console/portal/signups/").content.decode()
    assert "dave@example.com" in page and "Open, with owner approval" in page

    response = decide(admin_console, "/console/portal/signups/decide/", id=str(waiting.id), decision="approve")

    waiting.refresh_from_db()
    assert waiting.status == ConsumerStatus.ACTIVE and waiting.user.is_active
    assert "Approved the signup of dave@example.com." in response.content.decode()
    assert m.AuditEvent.objects.get(operation="ApproveSignup").status == 200


def test_rejecting_a_signup_deactivates_the_account(waiting: Consumer, admin_console: Client) -> None:
    key, _ = keys.api_key_create(owner=waiting.user, name="early key", enabled=True)

    decide(admin_console, "/console/portal/signups/decide/", id=str(waiting.id), decision="reject")
    again = decide(admin_console, "/console/portal/signups/decide/", id=str(waiting.id), decision="approve")

    waiting.refresh_from_db()
    waiting.user.refresh_from_db()
    assert waiting.status == ConsumerStatus.REJECTED and not waiting.user.is_active
    assert not m.ApiKey.objects.filter(id=key.id).exists()
    assert "has been decided already" in again.content.decode()


def test_editors_see_signups_but_only_admins_decide(waiting: Consumer, editor_console: Client) -> None:
    page = editor_console.get("/console/portal/signups/").content.decode()
    assert "dave@example.com" in page and write_buttons(page) == []
    assert (
        editor_console.post("/console/portal/signups/decide/", {"id": waiting.id, "decision": "approve"}).status_code
        == 403
    )
    waiting.refresh_from_db()
    assert waiting.status == ConsumerStatus.PENDING


# -- read-only owners -----------------------------------------------------------------------------------


def test_read_only_owners_see_the_portal_pages_without_write_buttons(
    world: World, pending: tuple[Subscription, m.ApiKey], waiting: Consumer, readonly_console: Client
) -> None:
    for url in (portal_url(world), "/console/portal/", "/console/portal/subscriptions/", "/console/portal/signups/"):
        response = readonly_console.get(url)
        assert response.status_code == 200, url
        assert write_buttons(response.content.decode()) == [], url
    assert "carol@example.com" in readonly_console.get("/console/portal/subscriptions/").content.decode()


def test_read_only_owners_get_403_on_portal_writes(
    world: World, pending: tuple[Subscription, m.ApiKey], waiting: Consumer, readonly: Any
) -> None:
    client = client_for(readonly)
    subscription, _ = pending
    posts = [
        (portal_url(world), publish_data(world)),
        (portal_url(world, "unpublish/"), {}),
        ("/console/portal/subscriptions/decide/", {"id": subscription.id, "decision": "approve"}),
        ("/console/portal/signups/decide/", {"id": waiting.id, "decision": "approve"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PENDING
    assert Listing.objects.get(stage=world.stage).title == "Shop API"
    assert not m.AuditEvent.objects.exists()
    consumer = client_for(make_user("not-staff", staff=False))
    assert consumer.get("/console/portal/subscriptions/").status_code == 403
