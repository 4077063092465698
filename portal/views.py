"""Portal pages: catalog, API docs, SDKs, subscriptions, keys, usage, the account. The try-it proxy is in proxy.py.

Every consumer-scoped page looks its object up through a selector filtered by the signed-in consumer, so
another consumer's id is a 404 that says nothing about it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apis.openapi import invoke_origin
from portal import selectors, services
from portal.adapter import INVITATION_SESSION_KEY
from portal.forms import AccountDeleteForm, CatalogSearchForm, KeyCreateForm, KeyRotateForm, SubscribeForm
from portal.models import ConsumerStatus, Invitation, SdkBuildStatus, SubscriptionStatus
from portal.sdks import SDK_TYPES

View = Callable[..., HttpResponse]


def consumer_view(*, approved: bool = False) -> Callable[[View], View]:
    """Require a signed-in user (sent to the portal's login); with `approved`, one an owner has let in."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("account_login"))
            if approved and selectors.consumer_status(user=request.user) != ConsumerStatus.ACTIVE:
                messages.error(request, "Your account is waiting for an owner's approval.")
                return redirect("portal:home")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _shown_once(request: HttpRequest, key: Any, value: str, heading: str) -> HttpResponse:
    """Render a key's value, the only time it is ever shown; nothing may cache the page."""
    response = render(
        request, "portal/keys/created.html", {"key": key, "value": value, "heading": heading, "nav": "keys"}
    )
    response["Cache-Control"] = "no-store"
    return response


# --- Catalog and docs ----------------------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    form = CatalogSearchForm(request.GET)
    query = tag = ""
    if form.is_valid():
        query, tag = form.cleaned_data["q"], form.cleaned_data["tag"]
    context = {
        "form": form,
        "query": query,
        "tag": tag,
        "listings": selectors.catalog_search(user=request.user, query=query, tag=tag),
        "tags": selectors.catalog_tags(user=request.user),
        "nav": "catalog",
        "pending": request.user.is_authenticated
        and selectors.consumer_status(user=request.user) == ConsumerStatus.PENDING,
    }
    return render(request, "portal/catalog.html", context)


@require_GET
def api_detail(request: HttpRequest, slug: str) -> HttpResponse:
    listing = selectors.listing_get(user=request.user, slug=slug)
    subscribed = selectors.consumer_open_plan_ids(consumer=request.user) if request.user.is_authenticated else {}
    offers = [(offer, subscribed.get(offer.usage_plan_id)) for offer in listing.offers.all()]
    context = {
        "nav": "catalog",
        "listing": listing,
        "offers": offers,
        "invoke_url": f"{invoke_origin(listing.stage.rest_api_id)}/{listing.stage.stage_name}/",
    }
    return render(request, "portal/api/detail.html", context)


@require_GET
def api_reference(request: HttpRequest, slug: str) -> HttpResponse:
    listing = selectors.listing_get(user=request.user, slug=slug)
    return render(request, "portal/api/reference.html", {"listing": listing, "nav": "catalog"})


@require_GET
def api_openapi(request: HttpRequest, slug: str) -> HttpResponse:
    listing = selectors.listing_get(user=request.user, slug=slug)
    response = JsonResponse(selectors.listing_openapi(listing=listing), json_dumps_params={"indent": 2})
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{listing.slug}-openapi.json"'
    return response


@require_GET
@consumer_view()
def api_try(request: HttpRequest, slug: str) -> HttpResponse:
    listing = selectors.listing_get(user=request.user, slug=slug)
    proxy_base = reverse("portal:api_proxy_root", args=[listing.slug]).rstrip("/")
    spec = selectors.listing_openapi(listing=listing, server_url=proxy_base)
    # The proxy sets the key the consumer picks above the explorer; Swagger UI's own Authorize is not used.
    spec.get("components", {}).pop("securitySchemes", None)
    for item in spec["paths"].values():
        for operation in item.values():
            operation.pop("security", None)
    keys = [key for key in selectors.consumer_keys(consumer=request.user) if selectors.consumer_key_usable(key=key)]
    return render(request, "portal/api/try.html", {"listing": listing, "spec": spec, "keys": keys, "nav": "catalog"})


# --- Subscriptions -------------------------------------------------------------------------------------


@require_POST
@consumer_view(approved=True)
def api_subscribe(request: HttpRequest, slug: str) -> HttpResponse:
    listing = selectors.listing_get(user=request.user, slug=slug)
    form = SubscribeForm(request.POST, listing=listing)
    if not form.is_valid():
        messages.error(request, "Choose one of the plans on offer.")
        return redirect("portal:api_detail", slug=listing.slug)
    try:
        subscription = services.subscription_create(
            consumer=request.user, listing=listing, plan=form.cleaned_data["plan"]
        )
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("portal:api_detail", slug=listing.slug)
    if subscription.status == SubscriptionStatus.ACTIVE:
        messages.success(request, f"You are subscribed to the {subscription.usage_plan.name} plan.")
    else:
        messages.info(request, f"Your request for the {subscription.usage_plan.name} plan waits for the owner.")
    return redirect("portal:subscriptions")


@require_GET
@consumer_view()
def subscriptions(request: HttpRequest) -> HttpResponse:
    found = selectors.consumer_subscriptions(consumer=request.user)
    return render(request, "portal/subscriptions.html", {"subscriptions": found, "nav": "subscriptions"})


@require_POST
@consumer_view()
def subscription_cancel(request: HttpRequest, subscription_id: str) -> HttpResponse:
    subscription = selectors.consumer_subscription_get(consumer=request.user, subscription_id=subscription_id)
    try:
        services.subscription_cancel(subscription=subscription)
        messages.success(request, f"You unsubscribed from the {subscription.usage_plan.name} plan.")
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("portal:subscriptions")


# --- Keys ----------------------------------------------------------------------------------------------


@require_GET
@consumer_view()
def keys(request: HttpRequest) -> HttpResponse:
    found = [(key, selectors.consumer_key_usable(key=key)) for key in selectors.consumer_keys(consumer=request.user)]
    return render(request, "portal/keys/list.html", {"keys": found, "form": KeyCreateForm(), "nav": "keys"})


@require_POST
@consumer_view(approved=True)
def key_create(request: HttpRequest) -> HttpResponse:
    form = KeyCreateForm(request.POST)
    if form.is_valid():
        try:
            key, value = services.consumer_key_create(consumer=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            _errors(request, exc)
        else:
            return _shown_once(request, key, value, "Your new API key")
    found = [(key, selectors.consumer_key_usable(key=key)) for key in selectors.consumer_keys(consumer=request.user)]
    return render(request, "portal/keys/list.html", {"keys": found, "form": form, "nav": "keys"}, status=400)


@require_GET
@consumer_view()
def key_detail(request: HttpRequest, key_id: str) -> HttpResponse:
    key = selectors.consumer_key_get(consumer=request.user, key_id=key_id)
    context = {
        "key": key,
        "usable": selectors.consumer_key_usable(key=key),
        "rotation": selectors.key_rotation(key=key),
        "plans": key.plan_links.select_related("usage_plan"),
        "rotate_form": KeyRotateForm(),
        "nav": "keys",
    }
    return render(request, "portal/keys/detail.html", context)


@require_POST
@consumer_view(approved=True)
def key_rotate(request: HttpRequest, key_id: str) -> HttpResponse:
    key = selectors.consumer_key_get(consumer=request.user, key_id=key_id)
    form = KeyRotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a grace period of at most 7 days.")
        return redirect("portal:key_detail", key_id=key.id)
    try:
        new_key, value = services.consumer_key_rotate(key=key, grace=form.grace)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("portal:key_detail", key_id=key.id)
    return _shown_once(request, new_key, value, "Your rotated API key")


@require_POST
@consumer_view()
def key_revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    key = selectors.consumer_key_get(consumer=request.user, key_id=key_id)
    name = key.name
    services.consumer_key_revoke(key=key)
    messages.success(request, f"Revoked the key {name}; it stops working within seconds.")
    return redirect("portal:keys")


# --- Account -------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@consumer_view()
def account_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.consumer_delete(user=request.user)
        except ValidationError as exc:
            _errors(request, exc)
            return redirect("portal:account_delete")
        logout(request)
        messages.success(request, "Your account is deleted and its keys are revoked.")
        return redirect("portal:home")
    return render(request, "portal/account/delete.html", {"form": form, "nav": "account"})


@require_GET
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    found = Invitation.objects.filter(token=token, accepted_at__isnull=True).first()
    if found is None or request.user.is_authenticated:
        return render(request, "portal/account/invitation_invalid.html", status=404)
    request.session[INVITATION_SESSION_KEY] = found.token
    # The link came to this address, so allauth may treat it as verified when the signup uses it.
    get_adapter(request).stash_verified_email(request, found.email)
    return redirect("account_signup")


# --- Usage ---------------------------------------------------------------------------------------------


@require_GET
@consumer_view()
def usage(request: HttpRequest) -> HttpResponse:
    pairs = selectors.consumer_usage_pairs(consumer=request.user)
    return render(request, "portal/usage/list.html", {"pairs": pairs, "nav": "usage"})


def _usage_report(request: HttpRequest, key_id: str, plan_id: str) -> selectors.UsageReport:
    key = selectors.consumer_key_get(consumer=request.user, key_id=key_id)
    plan = selectors.consumer_usage_plan_get(key=key, plan_id=plan_id)
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    days = days if days in selectors.USAGE_DAY_CHOICES else 30
    return selectors.key_usage_report(key=key, plan=plan, days=days)


@require_GET
@consumer_view()
def key_usage(request: HttpRequest, key_id: str, plan_id: str) -> HttpResponse:
    report = _usage_report(request, key_id, plan_id)
    context = {
        "report": report,
        "chart": report.chart_data(),
        "day_choices": selectors.USAGE_DAY_CHOICES,
        "days": len(report.days),
        "plans": selectors.consumer_usage_plans(key=report.key),
        "nav": "usage",
    }
    return render(request, "portal/usage/detail.html", context)


@require_GET
@consumer_view()
def key_usage_csv(request: HttpRequest, key_id: str, plan_id: str) -> HttpResponse:
    report = _usage_report(request, key_id, plan_id)
    response = HttpResponse(selectors.key_usage_csv(report=report), content_type="text/csv; charset=utf-8")
    last = report.days[-1].start.date().isoformat()
    name = f"usage-{report.key.id}-{report.plan.id}-{len(report.days)}d-{last}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- SDKs ----------------------------------------------------------------------------------------------


def _sdk_type(sdk_type: str) -> str:
    if sdk_type not in SDK_TYPES:
        raise Http404("No such SDK type.")
    return sdk_type


def _sdk_card(request: HttpRequest, listing: Any, sdk_type: str, build: Any) -> HttpResponse:
    context = {"listing": listing, "sdk_type": SDK_TYPES[sdk_type], "build": build}
    return render(request, "portal/api/sdk_card.html", context)


@require_GET
def api_sdks(request: HttpRequest, slug: str) -> HttpResponse:
    listing = selectors.listing_get(user=request.user, slug=slug)
    context = {"listing": listing, "builds": selectors.stage_sdk_builds(stage=listing.stage), "nav": "catalog"}
    return render(request, "portal/api/sdks.html", context)


@require_GET
def api_sdk_status(request: HttpRequest, slug: str, sdk_type: str) -> HttpResponse:
    listing = selectors.listing_get(user=request.user, slug=slug)
    sdk_type = _sdk_type(sdk_type)
    return _sdk_card(request, listing, sdk_type, selectors.stage_sdk_build(stage=listing.stage, sdk_type=sdk_type))


@require_POST
@consumer_view()
def api_sdk_build(request: HttpRequest, slug: str, sdk_type: str) -> HttpResponse:
    listing = selectors.listing_get(user=request.user, slug=slug)
    sdk_type = _sdk_type(sdk_type)
    build = services.sdk_build_request(stage=listing.stage, sdk_type=sdk_type, retry_failed=True)
    if request.headers.get("HX-Request"):
        build.refresh_from_db()
        return _sdk_card(request, listing, sdk_type, build)
    return redirect("portal:api_sdks", slug=listing.slug)


@require_GET
def api_sdk_download(request: HttpRequest, slug: str, sdk_type: str) -> HttpResponse:
    listing = selectors.listing_get(user=request.user, slug=slug)
    build = selectors.stage_sdk_build(stage=listing.stage, sdk_type=_sdk_type(sdk_type))
    path = selectors.sdk_build_path(build=build) if build else None
    if build is None or build.status != SdkBuildStatus.READY or path is None or not path.is_file():
        raise Http404("This SDK is not built yet.")
    name = selectors.sdk_download_name(build=build, api_name=listing.slug)
    return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="application/zip")
