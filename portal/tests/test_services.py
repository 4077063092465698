"""Portal services: publishing, subscriptions, consumer keys and their rotation, account deletion."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from apis import models as am
from apis.services import keys as key_services
from portal import selectors, services
from portal.models import (
    Consumer,
    ConsumerGroup,
    ConsumerStatus,
    KeyRotation,
    PortalSettings,
    SignupMode,
    Subscription,
    SubscriptionStatus,
    Visibility,
)
from portal.tasks import expire_rotated_keys
from portal.tests.factories import Published, UserFactory, build_api

pytestmark = pytest.mark.django_db


def plan_key_ids(plan: am.UsagePlan) -> set[str]:
    return set(am.UsagePlanKey.objects.filter(usage_plan=plan).values_list("api_key_id", flat=True))


# --- Publishing ----------------------------------------------------------------------------------------


def test_publishing_lists_the_stage_with_its_tags_and_plans(published: Published) -> None:
    listing = published.listing
    assert listing.slug == "weather-api"
    assert sorted(t.name for t in listing.tags.all()) == ["maps", "weather"]
    offers = list(listing.offers.all())
    assert [(o.usage_plan, o.requires_approval) for o in offers] == [(published.free, False), (published.gold, True)]


def test_publishing_again_updates_the_one_listing_of_the_stage(published: Published) -> None:
    again = services.portal_publish(
        stage=published.stage, title="Weather v2", tags=["forecast"], plans=[published.free]
    )
    assert again.pk == published.listing.pk
    assert again.slug == "weather-api"
    assert [t.name for t in again.tags.all()] == ["forecast"]
    assert list(again.plans.all()) == [published.free]


def test_it_refuses_a_plan_that_does_not_cover_the_stage(api_owner: Any, published: Published) -> None:
    other = key_services.usage_plan_create(owner=api_owner, name="Elsewhere")
    with pytest.raises(ValidationError, match="does not include stage prod"):
        services.portal_publish(stage=published.stage, title="Weather", plans=[other])


def test_a_group_listing_needs_a_group(published: Published) -> None:
    with pytest.raises(ValidationError, match="consumer group"):
        services.portal_publish(stage=published.stage, title="Weather", visibility=Visibility.GROUPS)


def test_visibility_follows_signed_in_state_and_groups(published: Published, consumer: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    group = ConsumerGroup.objects.create(name="partners")
    services.portal_publish(stage=published.stage, title="Weather", visibility=Visibility.GROUPS, groups=[group])
    assert not selectors.listings_visible(user=AnonymousUser()).exists()
    assert not selectors.listings_visible(user=consumer).exists()
    group.members.add(consumer)
    assert list(selectors.listings_visible(user=consumer)) == [published.listing]
    services.portal_publish(stage=published.stage, title="Weather", visibility=Visibility.SIGNED_IN)
    assert not selectors.listings_visible(user=AnonymousUser()).exists()
    services.portal_unpublish(listing=published.listing)
    assert not selectors.listings_visible(user=consumer).exists()


# --- Subscriptions -------------------------------------------------------------------------------------


def test_subscribing_to_an_open_plan_puts_every_key_of_the_consumer_in_it(
    published: Published, consumer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    key, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    with django_capture_on_commit_callbacks(execute=True):
        subscription = services.subscription_create(consumer=consumer, listing=published.listing, plan=published.free)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert plan_key_ids(published.free) == {key.id}
    assert [m.to for m in mail.outbox] == [[consumer.email]]
    second, _ = services.consumer_key_create(consumer=consumer, name="server")
    assert plan_key_ids(published.free) == {key.id, second.id}


def test_a_plan_that_needs_approval_waits_and_tells_both_sides(
    published: Published, consumer: Any, api_owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    PortalSettings.objects.update_or_create(id=1, defaults={"notification_email": "portal-team@example.com"})
    key, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    with django_capture_on_commit_callbacks(execute=True):
        subscription = services.subscription_create(consumer=consumer, listing=published.listing, plan=published.gold)
    assert subscription.status == SubscriptionStatus.PENDING
    assert plan_key_ids(published.gold) == set()
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted([consumer.email, api_owner.email, "portal-team@example.com"])
    assert any("asks to subscribe" in message.subject for message in mail.outbox)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_approve(subscription=subscription, by=api_owner)
    assert plan_key_ids(published.gold) == {key.id}
    assert consumer.email in [address for message in mail.outbox for address in message.to]


def test_a_rejected_request_never_reaches_the_plan(published: Published, consumer: Any) -> None:
    services.consumer_key_create(consumer=consumer, name="laptop")
    subscription = services.subscription_create(consumer=consumer, listing=published.listing, plan=published.gold)
    services.subscription_reject(subscription=subscription, note="Tell us more about your use case")
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.REJECTED
    assert plan_key_ids(published.gold) == set()
    with pytest.raises(ValidationError):
        services.subscription_approve(subscription=subscription)


def test_unsubscribing_takes_the_keys_out_of_the_plan(published: Published, consumer: Any) -> None:
    services.consumer_key_create(consumer=consumer, name="laptop")
    subscription = services.subscription_create(consumer=consumer, listing=published.listing, plan=published.free)
    services.subscription_cancel(subscription=subscription)
    assert plan_key_ids(published.free) == set()
    assert Subscription.objects.get(id=subscription.id).status == SubscriptionStatus.CANCELLED
    # Subscribing again is allowed once the old one has ended.
    again = services.subscription_create(consumer=consumer, listing=published.listing, plan=published.free)
    assert again.status == SubscriptionStatus.ACTIVE


def test_one_plan_per_api_stage_as_in_aws(published: Published, consumer: Any) -> None:
    services.subscription_create(consumer=consumer, listing=published.listing, plan=published.free)
    with pytest.raises(ValidationError, match="already covers this API"):
        services.subscription_create(consumer=consumer, listing=published.listing, plan=published.gold)
    with pytest.raises(ValidationError, match="already have a subscription"):
        services.subscription_create(consumer=consumer, listing=published.listing, plan=published.free)


def test_only_offered_plans_can_be_subscribed(published: Published, consumer: Any, api_owner: Any) -> None:
    hidden = key_services.usage_plan_create(
        owner=api_owner, name="Internal", api_stages=[{"apiId": published.api.id, "stage": "prod"}]
    )
    with pytest.raises(ValidationError, match="not offered"):
        services.subscription_create(consumer=consumer, listing=published.listing, plan=hidden)


# --- Keys ----------------------------------------------------------------------------------------------


def test_a_consumer_key_is_an_enabled_api_key_owned_by_the_consumer(consumer: Any) -> None:
    key, value = services.consumer_key_create(consumer=consumer, name="laptop")
    assert key.owner == consumer and key.enabled and key.name == "laptop"
    assert len(value) >= 20 and value not in key.value_encrypted


def test_rotation_keeps_the_old_key_working_until_the_grace_period_ends(published: Published, consumer: Any) -> None:
    services.subscription_create(consumer=consumer, listing=published.listing, plan=published.free)
    old, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    new, _ = services.consumer_key_rotate(key=old, grace=timedelta(hours=1))
    old.refresh_from_db()
    assert old.enabled and new.enabled and new.name == "laptop" and old.name == "laptop (rotated)"
    assert plan_key_ids(published.free) == {old.id, new.id}
    rotation = KeyRotation.objects.get(old_key=old)
    assert rotation.new_key == new

    assert services.rotated_keys_expire(now=rotation.expires_at - timedelta(seconds=1)) == 0
    old.refresh_from_db()
    assert old.enabled

    assert services.rotated_keys_expire(now=rotation.expires_at) == 1
    old.refresh_from_db()
    new.refresh_from_db()
    assert not old.enabled and new.enabled
    assert not selectors.consumer_key_usable(key=am.ApiKey.objects.get(id=old.id))
    assert services.rotated_keys_expire(now=rotation.expires_at + timedelta(days=1)) == 0


def test_the_beat_task_expires_due_rotations(consumer: Any) -> None:
    old, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    services.consumer_key_rotate(key=old, grace=timedelta(minutes=5))
    KeyRotation.objects.filter(old_key=old).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_rotated_keys() == 1
    assert not am.ApiKey.objects.get(id=old.id).enabled


def test_rotation_without_grace_stops_the_old_key_at_once(consumer: Any) -> None:
    old, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    services.consumer_key_rotate(key=old, grace=timedelta(0))
    assert not am.ApiKey.objects.get(id=old.id).enabled


@pytest.mark.parametrize("grace", [timedelta(days=7, seconds=1), timedelta(seconds=-1)])
def test_the_grace_period_is_at_most_seven_days(consumer: Any, grace: timedelta) -> None:
    key, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    with pytest.raises(ValidationError, match="grace period"):
        services.consumer_key_rotate(key=key, grace=grace)


def test_a_key_is_rotated_once(consumer: Any) -> None:
    key, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    services.consumer_key_rotate(key=key, grace=timedelta(days=1))
    with pytest.raises(ValidationError, match="rotated already"):
        services.consumer_key_rotate(key=key, grace=timedelta(days=1))


def test_revoking_deletes_the_key(consumer: Any) -> None:
    key, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    services.consumer_key_revoke(key=key)
    assert not am.ApiKey.objects.filter(id=key.id).exists()


# --- Accounts ------------------------------------------------------------------------------------------


def test_deleting_an_account_revokes_its_keys(published: Published, consumer: Any) -> None:
    services.subscription_create(consumer=consumer, listing=published.listing, plan=published.free)
    key, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    version = am.ConfigVersion.objects.get(id=1).version
    services.consumer_delete(user=consumer)
    assert not am.ApiKey.objects.filter(id=key.id).exists()
    assert not Subscription.objects.filter(consumer_id=consumer.pk).exists()
    assert am.ConfigVersion.objects.get(id=1).version > version, "gateways must hear of the revoked key"


def test_an_owner_account_is_not_deleted_from_the_portal(api_owner: Any) -> None:
    with pytest.raises(ValidationError):
        services.consumer_delete(user=api_owner)


def test_signup_with_approval_waits_for_an_owner(db: None, django_capture_on_commit_callbacks: Any) -> None:
    PortalSettings.objects.update_or_create(
        id=1, defaults={"signup_mode": SignupMode.APPROVAL, "notification_email": "team@example.com"}
    )
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        consumer = services.consumer_register(user=user)
    assert consumer.status == ConsumerStatus.PENDING
    assert selectors.consumer_status(user=user) == ConsumerStatus.PENDING
    assert mail.outbox[0].to == ["team@example.com"]
    services.consumer_approve(consumer=consumer)
    assert Consumer.objects.get(user=user).status == ConsumerStatus.ACTIVE


def test_a_rejected_signup_is_deactivated(db: None, api_owner: Any) -> None:
    PortalSettings.objects.update_or_create(id=1, defaults={"signup_mode": SignupMode.APPROVAL})
    user = UserFactory()
    consumer = services.consumer_register(user=user)
    services.consumer_reject(consumer=consumer)
    user.refresh_from_db()
    assert not user.is_active


def test_an_api_without_a_listing_is_not_in_the_catalog(api_owner: Any, consumer: Any) -> None:
    build_api(api_owner, "Unlisted")
    assert not selectors.listings_visible(user=consumer).exists()
