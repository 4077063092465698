"""Writes of the developer portal: accounts, publishing, subscriptions, consumer keys and SDK builds.

Consumer keys are ordinary API keys (`apis.services.keys`) owned by the consumer, enabled, and linked to
the usage plan of every active subscription of theirs; the gateway learns of each change from the runtime
config version those services bump.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from apis import models as am
from apis.patching import PatchOp
from apis.services import keys as key_services
from portal import sdks, selectors
from portal.models import (
    MAX_GRACE_DAYS,
    OPEN_STATUSES,
    CatalogTag,
    Consumer,
    ConsumerGroup,
    ConsumerStatus,
    Invitation,
    KeyRotation,
    Listing,
    ListingPlan,
    SdkBuild,
    SdkBuildStatus,
    SignupMode,
    Subscription,
    SubscriptionStatus,
    Visibility,
)
from portal.notifications import notify, owner_recipients, portal_url

logger = logging.getLogger(__name__)

MAX_KEYS_PER_CONSUMER = 20
MAX_GRACE = timedelta(days=MAX_GRACE_DAYS)


def _email(user: Any) -> str:
    return getattr(user, "email", "") or ""


# --- Accounts ------------------------------------------------------------------------------------------


@transaction.atomic
def consumer_register(*, user: Any, invitation: Invitation | None = None) -> Consumer:
    """Record a new portal account; while signup needs approval it waits for an owner before it may act."""
    pending = selectors.portal_settings_get().signup_mode == SignupMode.APPROVAL
    consumer = Consumer.objects.create(user=user, status=ConsumerStatus.PENDING if pending else ConsumerStatus.ACTIVE)
    if pending:
        notify(
            to=owner_recipients(),
            template="signup_pending_owner",
            context={"consumer": user, "admin_url": portal_url("admin:portal_consumer_changelist")},
        )
    if invitation is not None and invitation.accepted_at is None:
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return consumer


@transaction.atomic
def consumer_approve(*, consumer: Consumer) -> Consumer:
    """Let in a consumer who signed up while approval was required, and tell them."""
    if consumer.status == ConsumerStatus.ACTIVE and consumer.user.is_active:
        return consumer
    consumer.status = ConsumerStatus.ACTIVE
    consumer.decided_at = timezone.now()
    consumer.save(update_fields=["status", "decided_at"])
    consumer.user.is_active = True
    consumer.user.save(update_fields=["is_active"])
    notify(
        to=[_email(consumer.user)],
        template="signup_approved",
        context={"consumer": consumer.user, "login_url": portal_url("account_login")},
    )
    return consumer


@transaction.atomic
def consumer_reject(*, consumer: Consumer) -> Consumer:
    """Turn a pending signup down: the account is deactivated and its keys revoked."""
    consumer.status = ConsumerStatus.REJECTED
    consumer.decided_at = timezone.now()
    consumer.save(update_fields=["status", "decided_at"])
    for key in am.ApiKey.objects.filter(owner=consumer.user):
        key_services.api_key_delete(key=key)
    consumer.user.is_active = False
    consumer.user.save(update_fields=["is_active"])
    notify(to=[_email(consumer.user)], template="signup_rejected", context={"consumer": consumer.user})
    return consumer


@transaction.atomic
def invitation_create(*, email: str, invited_by: Any = None) -> Invitation:
    """Invite someone to sign up while the portal is invite-only, and send them the link."""
    invitation = Invitation.objects.create(email=email.strip().lower(), invited_by=invited_by)
    notify(
        to=[invitation.email],
        template="invitation",
        context={"invitation": invitation, "accept_url": portal_url("portal:invitation", invitation.token)},
    )
    return invitation


@transaction.atomic
def consumer_delete(*, user: Any) -> None:
    """Delete a portal account; its keys are revoked first, so they stop working on every gateway."""
    if user.is_staff:
        raise ValidationError("Owner accounts are managed in the console, not deleted from the portal.")
    for key in am.ApiKey.objects.filter(owner=user):
        key_services.api_key_delete(key=key)
    user.delete()


# --- Publishing ----------------------------------------------------------------------------------------


def _unique_slug(text: str, listing_id: int | None) -> str:
    base = slugify(text)[:70] or "api"
    slug, number = base, 1
    while Listing.objects.filter(slug=slug).exclude(id=listing_id).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


def portal_publish_check(
    *,
    stage: am.Stage,
    title: str,
    plans: Sequence[am.UsagePlan] = (),
    visibility: str = Visibility.PUBLIC,
    groups: Sequence[ConsumerGroup] = (),
    slug: str = "",
) -> None:
    """Raise ValidationError when a stage cannot be published like this (forms call it to show why)."""
    if not title.strip():
        raise ValidationError("A published API needs a title.")
    if visibility not in Visibility.values:
        raise ValidationError(f"Unknown visibility {visibility!r}.")
    if visibility == Visibility.GROUPS and not groups:
        raise ValidationError("Choose at least one consumer group to limit the API to.")
    target = (stage.rest_api_id, stage.stage_name)
    for plan in plans:
        if target not in selectors.plan_stage_keys(plan=plan):
            raise ValidationError(f"Usage plan {plan.name} does not include stage {stage.stage_name} of this API.")
    if slug and Listing.objects.filter(slug=slugify(slug)).exclude(stage=stage).exists():
        raise ValidationError(f"The address /apis/{slugify(slug)}/ is taken by another API.")


@transaction.atomic
def portal_publish(
    *,
    stage: am.Stage,
    title: str,
    summary: str = "",
    description: str = "",
    tags: Iterable[str] = (),
    plans: Sequence[am.UsagePlan] = (),
    approval_plans: Iterable[am.UsagePlan] = (),
    visibility: str = Visibility.PUBLIC,
    groups: Iterable[ConsumerGroup] = (),
    slug: str = "",
) -> Listing:
    """Publish an API stage to the catalog, or update its listing, with the usage plans on offer."""
    groups = list(groups)
    portal_publish_check(stage=stage, title=title, plans=plans, visibility=visibility, groups=groups, slug=slug)
    title = title.strip()
    listing = Listing.objects.filter(stage=stage).first() or Listing(stage=stage)
    listing.slug = slugify(slug) if slug else (listing.slug or _unique_slug(title, None))
    listing.title = title
    listing.summary = summary.strip()
    listing.description = description.strip()
    listing.visibility = visibility
    listing.published = True
    listing.save()
    listing.tags.set([CatalogTag.objects.get_or_create(name=slugify(t))[0] for t in tags if slugify(t)])
    listing.groups.set(groups if visibility == Visibility.GROUPS else [])
    approval_ids = {plan.id for plan in approval_plans}
    listing.offers.exclude(usage_plan__in=list(plans)).delete()
    for position, plan in enumerate(plans):
        ListingPlan.objects.update_or_create(
            listing=listing,
            usage_plan=plan,
            defaults={"requires_approval": plan.id in approval_ids, "position": position},
        )
    return listing


@transaction.atomic
def portal_unpublish(*, listing: Listing) -> Listing:
    """Take a listing out of the catalog; existing subscriptions and keys keep working."""
    listing.published = False
    listing.save(update_fields=["published", "updated_at"])
    return listing


# --- Subscriptions -------------------------------------------------------------------------------------


def _usable_keys(consumer: Any) -> list[am.ApiKey]:
    return [key for key in selectors.consumer_keys(consumer=consumer) if selectors.consumer_key_usable(key=key)]


def _link(key: am.ApiKey, plan: am.UsagePlan) -> None:
    if not am.UsagePlanKey.objects.filter(usage_plan=plan, api_key=key).exists():
        key_services.usage_plan_key_create(plan=plan, key_id=key.id)


@transaction.atomic
def subscription_create(*, consumer: Any, listing: Listing, plan: am.UsagePlan) -> Subscription:
    """Subscribe a consumer to a plan a listing offers: at once, or pending an owner's approval."""
    offer = listing.offers.filter(usage_plan=plan).first()
    if offer is None:
        raise ValidationError("This plan is not offered for this API.")
    open_plans = selectors.consumer_open_plan_ids(consumer=consumer)
    if plan.id in open_plans:
        raise ValidationError(f"You already have a subscription to the {plan.name} plan.")
    stages = selectors.plan_stage_keys(plan=plan)
    for other in am.UsagePlan.objects.filter(id__in=open_plans):
        if stages & selectors.plan_stage_keys(plan=other):
            # A key may be in only one usage plan per API stage, as in AWS.
            raise ValidationError(f"Your {other.name} plan already covers this API; unsubscribe from it first.")
    subscription = Subscription.objects.create(
        consumer=consumer,
        usage_plan=plan,
        listing=listing,
        status=SubscriptionStatus.PENDING if offer.requires_approval else SubscriptionStatus.ACTIVE,
    )
    context = {"subscription": subscription, "consumer": consumer, "plan": plan, "listing": listing}
    if subscription.status == SubscriptionStatus.ACTIVE:
        for key in _usable_keys(consumer):
            _link(key, plan)
        notify(to=[_email(consumer)], template="subscription_active", context=context)
    else:
        notify(to=[_email(consumer)], template="subscription_requested", context=context)
        notify(
            to=owner_recipients(plan.owner),
            template="subscription_pending_owner",
            context={**context, "admin_url": portal_url("admin:portal_subscription_changelist")},
        )
    return subscription


@transaction.atomic
def subscription_approve(*, subscription: Subscription, by: Any = None) -> Subscription:
    """Approve a pending subscription: the consumer's keys join the plan, and both sides are told."""
    if subscription.status != SubscriptionStatus.PENDING:
        raise ValidationError("Only a subscription waiting for approval can be approved.")
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.decided_at = timezone.now()
    subscription.decided_by = by
    subscription.save(update_fields=["status", "decided_at", "decided_by"])
    for key in _usable_keys(subscription.consumer):
        _link(key, subscription.usage_plan)
    context = {"subscription": subscription, "consumer": subscription.consumer, "plan": subscription.usage_plan}
    notify(to=[_email(subscription.consumer)], template="subscription_active", context=context)
    notify(to=owner_recipients(subscription.usage_plan.owner), template="subscription_decided_owner", context=context)
    return subscription


@transaction.atomic
def subscription_reject(*, subscription: Subscription, by: Any = None, note: str = "") -> Subscription:
    """Turn a pending subscription down, telling the consumer why when a note is given."""
    if subscription.status != SubscriptionStatus.PENDING:
        raise ValidationError("Only a subscription waiting for approval can be rejected.")
    subscription.status = SubscriptionStatus.REJECTED
    subscription.decided_at = timezone.now()
    subscription.decided_by = by
    subscription.note = note[:500]
    subscription.save(update_fields=["status", "decided_at", "decided_by", "note"])
    context = {"subscription": subscription, "consumer": subscription.consumer, "plan": subscription.usage_plan}
    notify(to=[_email(subscription.consumer)], template="subscription_rejected", context=context)
    notify(to=owner_recipients(subscription.usage_plan.owner), template="subscription_decided_owner", context=context)
    return subscription


@transaction.atomic
def subscription_cancel(*, subscription: Subscription) -> Subscription:
    """Unsubscribe: the consumer's keys leave the plan and stop reaching its APIs."""
    if subscription.status not in OPEN_STATUSES:
        raise ValidationError("This subscription has already ended.")
    was_active = subscription.status == SubscriptionStatus.ACTIVE
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.decided_at = timezone.now()
    subscription.save(update_fields=["status", "decided_at"])
    if was_active:
        links = am.UsagePlanKey.objects.filter(usage_plan=subscription.usage_plan, api_key__owner=subscription.consumer)
        for link in links:
            key_services.usage_plan_key_delete(link=link)
    return subscription


# --- Keys ----------------------------------------------------------------------------------------------


@transaction.atomic
def consumer_key_create(*, consumer: Any, name: str) -> tuple[am.ApiKey, str]:
    """Create an enabled key for a consumer, in every plan they have an active subscription to."""
    name = name.strip()
    if not name:
        raise ValidationError("Give the key a name.")
    if am.ApiKey.objects.filter(owner=consumer).count() >= MAX_KEYS_PER_CONSUMER:
        raise ValidationError(f"You can hold at most {MAX_KEYS_PER_CONSUMER} keys; revoke one first.")
    key, value = key_services.api_key_create(
        owner=consumer,
        name=name[:200],
        description=f"Developer portal key of {_email(consumer) or consumer.get_username()}",
        enabled=True,
    )
    for plan in selectors.consumer_active_plans(consumer=consumer):
        _link(key, plan)
    return key, value


@transaction.atomic
def consumer_key_rotate(*, key: am.ApiKey, grace: timedelta) -> tuple[am.ApiKey, str]:
    """Replace a key with a new one; the old one keeps working for the grace period, then is disabled."""
    if not timedelta(0) <= grace <= MAX_GRACE:
        raise ValidationError(f"The grace period must be between 0 and {MAX_GRACE_DAYS} days.")
    if not selectors.consumer_key_usable(key=key) or KeyRotation.objects.filter(old_key=key).exists():
        raise ValidationError("Only a working key that was not rotated already can be rotated.")
    consumer = key.owner
    new_key, value = consumer_key_create(consumer=consumer, name=key.name)
    key_services.api_key_update(
        key=key, patch_operations=[PatchOp(op="replace", path="/name", value=f"{key.name} (rotated)"[:1024])]
    )
    now = timezone.now()
    KeyRotation.objects.create(old_key=key, new_key=new_key, consumer=consumer, expires_at=now + grace)
    if grace == timedelta(0):
        rotated_keys_expire(now=now)
    return new_key, value


@transaction.atomic
def consumer_key_revoke(*, key: am.ApiKey) -> None:
    """Revoke a key: it is deleted and stops working on every gateway within seconds."""
    key_services.api_key_delete(key=key)


def rotated_keys_expire(*, now: Any = None) -> int:
    """Disable each rotated key whose grace period has ended; running it again changes nothing."""
    now = now or timezone.now()
    expired = 0
    due = KeyRotation.objects.filter(expired_at__isnull=True, expires_at__lte=now).values_list("id", flat=True)
    for rotation_id in list(due):
        with transaction.atomic():
            rotation = (
                KeyRotation.objects.select_for_update()
                .select_related("old_key")
                .filter(id=rotation_id, expired_at__isnull=True)
                .first()
            )
            if rotation is None:
                continue  # another worker got there first
            if rotation.old_key.enabled:
                key_services.api_key_update(
                    key=rotation.old_key, patch_operations=[PatchOp(op="replace", path="/enabled", value="false")]
                )
            rotation.expired_at = now
            rotation.save(update_fields=["expired_at"])
            expired += 1
    return expired


# --- SDK builds ----------------------------------------------------------------------------------------


def _enqueue_sdk_build(build_id: int) -> None:
    from portal.tasks import build_sdk

    build_sdk.delay(build_id)


@transaction.atomic
def sdk_build_request(*, stage: am.Stage, sdk_type: str, retry_failed: bool = False) -> SdkBuild:
    """Return the build of a stage's SDK; queue one (after commit) when there is none or it must run again."""
    if sdk_type not in sdks.SDK_TYPES:
        raise ValidationError(f"Unknown SDK type {sdk_type!r}.")
    build, created = SdkBuild.objects.select_for_update().get_or_create(
        deployment=stage.deployment,
        stage_name=stage.stage_name,
        sdk_type=sdk_type,
        defaults={"status": SdkBuildStatus.QUEUED},
    )
    if not created and not selectors.sdk_build_needs_run(build=build, retry_failed=retry_failed):
        return build
    if not created:
        build.status = SdkBuildStatus.QUEUED
        build.error = ""
        build.requested_at = timezone.now()
        build.started_at = build.finished_at = None
        build.save(update_fields=["status", "error", "requested_at", "started_at", "finished_at"])
    transaction.on_commit(partial(_enqueue_sdk_build, build.id))
    return build


def _sdk_build_finish(build_id: int, **fields: Any) -> None:
    SdkBuild.objects.filter(id=build_id).update(finished_at=timezone.now(), **fields)


def sdk_build_run(*, build_id: int) -> str:
    """Generate and store one SDK zip; a ready, failed or running build is left alone (the task is idempotent)."""
    with transaction.atomic():
        build = SdkBuild.objects.select_for_update().select_related("deployment").filter(id=build_id).first()
        if build is None:
            return "gone"
        if build.status == SdkBuildStatus.READY and not selectors.sdk_build_needs_run(build=build):
            return SdkBuildStatus.READY
        if build.status == SdkBuildStatus.FAILED:
            return SdkBuildStatus.FAILED  # a new request queues it again
        if build.status == SdkBuildStatus.BUILDING and not selectors.sdk_build_is_stale(build=build):
            return SdkBuildStatus.BUILDING  # another worker has it
        build.status = SdkBuildStatus.BUILDING
        build.started_at = timezone.now()
        build.recipe = sdks.sdk_recipe(build.sdk_type)
        build.save(update_fields=["status", "started_at", "recipe"])
    deployment = build.deployment
    snapshot, stage_name = deployment.snapshot, build.stage_name
    target = selectors.sdk_build_path(build=build)
    try:
        sdks.build_archive(
            sdk_type=build.sdk_type,
            document=sdks.sdk_document(snapshot=snapshot, stage_name=stage_name, deployed_at=deployment.created_date),
            names=sdks.sdk_names(snapshot=snapshot, stage_name=stage_name, deployed_at=deployment.created_date),
            target=target,
        )
    except sdks.SdkBuildError as exc:
        _sdk_build_finish(build.id, status=SdkBuildStatus.FAILED, error=str(exc)[:8000])
        return SdkBuildStatus.FAILED
    except Exception:
        logger.exception("SDK build %s failed", build.id)
        _sdk_build_finish(build.id, status=SdkBuildStatus.FAILED, error="Internal error while generating the SDK.")
        return SdkBuildStatus.FAILED
    _sdk_build_finish(
        build.id,
        status=SdkBuildStatus.READY,
        error="",
        size=target.stat().st_size,
        sha256=sdks.file_sha256(target),
    )
    return SdkBuildStatus.READY
