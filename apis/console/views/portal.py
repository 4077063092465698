"""The developer portal from the owner's side: publish a stage to the catalog, and decide on pending requests.

Every change goes through `portal.services`, as the portal and Django admin do. Portal services raise
ValidationError for refusals; `_portal` turns them into the console's ApiError so they are shown and audited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apis import models as m
from apis import selectors
from apis.console.forms.portal import DecisionForm, PublishForm
from apis.console.permissions import Role, console_view
from apis.console.views.base import form_errors, message_errors, perform, posted
from apis.errors import BadRequest, NotFound
from portal import services
from portal.models import Consumer, ConsumerStatus, Listing, Subscription, SubscriptionStatus
from portal.selectors import portal_settings_get

T = TypeVar("T")
RECENT = 20


def _portal(call: Callable[[], T]) -> Callable[[], T]:
    """Wrap a portal service call so that its ValidationError reads as a 400 ApiError."""

    def run() -> T:
        try:
            return call()
        except ValidationError as exc:
            raise BadRequest(" ".join(exc.messages)) from None

    return run


def _pending_counts() -> dict[str, int]:
    return {
        "subscriptions": Subscription.objects.filter(status=SubscriptionStatus.PENDING).count(),
        "signups": Consumer.objects.filter(status=ConsumerStatus.PENDING).count(),
    }


@console_view()
def portal_overview(request: HttpRequest) -> HttpResponse:
    listings = list(
        Listing.objects.select_related("stage__rest_api").annotate(plan_count=Count("plans")).order_by("title")
    )
    active = (
        Subscription.objects.filter(listing__in=listings, status=SubscriptionStatus.ACTIVE)
        .values("listing")
        .annotate(n=Count("id"))
    )
    subscribers = {row["listing"]: row["n"] for row in active}
    for listing in listings:
        listing.subscriber_count = subscribers.get(listing.id, 0)  # type: ignore[attr-defined]
    unlisted = m.Stage.objects.filter(listing__isnull=True).select_related("rest_api").order_by("rest_api__name")
    context = {
        "nav": "portal",
        "section": "listings",
        "listings": listings,
        "unlisted": unlisted,
        "pending": _pending_counts(),
    }
    return render(request, "console/portal/listings.html", context)


def _stage(api_id: str, stage_name: str) -> tuple[m.RestApi, m.Stage]:
    api = selectors.rest_api_get(api_id=api_id)
    return api, selectors.stage_get(api=api, stage_name=stage_name)


@console_view(methods=("GET", "POST"))
def stage_portal(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    api, stage = _stage(api_id, stage_name)
    listing = Listing.objects.filter(stage=stage).first()
    form = PublishForm(posted(request), stage=stage, listing=listing)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def publish() -> Listing:
            published = services.portal_publish(
                stage=stage,
                title=data["title"],
                summary=data["summary"],
                description=data["description"],
                tags=form.tag_names(),
                plans=list(data["plans"]),
                approval_plans=list(data["approval_plans"]),
                visibility=data["visibility"],
                groups=list(data.get("groups") or []),
                slug=data["slug"],
            )
            return published if data["published"] else services.portal_unpublish(listing=published)

        with form_errors(form):
            saved = perform(request, "PublishToPortal", f"/portal/stages/{api.id}/{stage.stage_name}", _portal(publish))
            where = f"listed at /apis/{saved.slug}/" if saved.published else "saved, not listed in the catalog"
            messages.success(request, f"{saved.title} is {where}.")
            return redirect("console:stage_portal", api_id=api.id, stage_name=stage.stage_name)
    context = {"api": api, "tab": "stages", "stage": stage, "section": "portal", "form": form, "listing": listing}
    return render(request, "console/stages/portal.html", context)


@console_view(methods=("POST",))
def stage_unpublish(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    api, stage = _stage(api_id, stage_name)
    listing = Listing.objects.filter(stage=stage).first()
    if listing is None:
        raise NotFound("This stage is not published to the portal")
    with message_errors(request):
        perform(
            request,
            "UnpublishFromPortal",
            f"/portal/stages/{api.id}/{stage.stage_name}",
            _portal(lambda: services.portal_unpublish(listing=listing)),
        )
        messages.success(
            request, f"{listing.title} is no longer in the catalog; its subscriptions and keys still work."
        )
    return redirect("console:stage_portal", api_id=api.id, stage_name=stage.stage_name)


@console_view()
def subscription_list(request: HttpRequest) -> HttpResponse:
    subscriptions = Subscription.objects.select_related("consumer", "usage_plan", "listing", "decided_by")
    context = {
        "nav": "portal",
        "section": "subscriptions",
        "pending_subscriptions": subscriptions.filter(status=SubscriptionStatus.PENDING).order_by("requested_at"),
        "decided": subscriptions.exclude(status=SubscriptionStatus.PENDING).order_by("-decided_at")[:RECENT],
        "pending": _pending_counts(),
    }
    return render(request, "console/portal/subscriptions.html", context)


@console_view(methods=("POST",))
def subscription_decide(request: HttpRequest) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a subscription and a decision.")
        return redirect("console:portal_subscriptions")
    data = form.cleaned_data
    subscription = Subscription.objects.select_related("consumer", "usage_plan").filter(id=data["id"]).first()
    if subscription is None:
        raise NotFound("No such subscription")
    approve = data["decision"] == "approve"

    def decide() -> Subscription:
        if approve:
            return services.subscription_approve(subscription=subscription, by=request.user)
        return services.subscription_reject(subscription=subscription, by=request.user, note=data["note"])

    with message_errors(request):
        operation = "ApproveSubscription" if approve else "RejectSubscription"
        perform(request, operation, f"/portal/subscriptions/{subscription.id}", _portal(decide))
        verb = "Approved" if approve else "Rejected"
        messages.success(
            request, f"{verb} {subscription.consumer.email}'s subscription to {subscription.usage_plan.name}."
        )
    return redirect("console:portal_subscriptions")


@console_view()
def signup_list(request: HttpRequest) -> HttpResponse:
    consumers = Consumer.objects.select_related("user")
    context = {
        "nav": "portal",
        "section": "signups",
        "signup_mode": portal_settings_get().get_signup_mode_display(),
        "pending_signups": consumers.filter(status=ConsumerStatus.PENDING).order_by("created_at"),
        "decided": consumers.exclude(decided_at=None).order_by("-decided_at")[:RECENT],
        "pending": _pending_counts(),
    }
    return render(request, "console/portal/signups.html", context)


@console_view(methods=("POST",), write=Role.ADMIN)
def signup_decide(request: HttpRequest) -> HttpResponse:
    """Let a pending signup in, or turn it down (the account is deactivated and its keys revoked)."""
    form = DecisionForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["id"].isdigit():
        messages.error(request, "Choose a signup and a decision.")
        return redirect("console:portal_signups")
    data = form.cleaned_data
    consumer = Consumer.objects.select_related("user").filter(id=int(data["id"])).first()
    if consumer is None:
        raise NotFound("No such signup")
    if consumer.status != ConsumerStatus.PENDING:
        messages.error(request, f"The signup of {consumer} has been decided already.")
        return redirect("console:portal_signups")
    approve = data["decision"] == "approve"
    with message_errors(request):
        perform(
            request,
            "ApproveSignup" if approve else "RejectSignup",
            f"/portal/consumers/{consumer.id}",
            _portal(
                (lambda: services.consumer_approve(consumer=consumer))
                if approve
                else (lambda: services.consumer_reject(consumer=consumer))
            ),
        )
        messages.success(request, f"{'Approved' if approve else 'Rejected'} the signup of {consumer}.")
    return redirect("console:portal_signups")
