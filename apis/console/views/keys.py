"""API keys: list, create (value shown once), import from CSV, edit, enable/disable, delete."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apis import models as m
from apis import selectors
from apis.console.forms.fields import bool_text
from apis.console.forms.selling import ApiKeyCreateForm, ApiKeyEditForm, ApiKeyImportForm
from apis.console.permissions import Role, console_view
from apis.console.views.base import form_errors, message_errors, perform, posted, safe_next
from apis.patching import PatchOp
from apis.services import keys


def _target(key_id: str) -> str:
    return f"/apikeys/{key_id}"


@console_view()
def key_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    found = m.ApiKey.objects.prefetch_related("plan_links__usage_plan").order_by("name", "id")
    if query:
        found = found.filter(Q(name__icontains=query) | Q(id__icontains=query))
    return render(request, "console/keys/list.html", {"keys": found, "query": query, "nav": "keys"})


@console_view(methods=("GET", "POST"), read=Role.EDITOR)
def key_create(request: HttpRequest) -> HttpResponse:
    form = ApiKeyCreateForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def create() -> tuple[m.ApiKey, str]:
            key, value = keys.api_key_create(
                owner=request.user,
                name=data["name"] or None,
                description=data["description"],
                enabled=data["enabled"],
                value=data["value"] or None,
                customer_id=data["customer_id"],
            )
            if data["usage_plan"]:
                plan = selectors.usage_plan_get(plan_id=data["usage_plan"])
                keys.usage_plan_key_create(plan=plan, key_id=key.id)
            return key, value

        with form_errors(form):
            key, value = perform(request, "CreateApiKey", "/apikeys", create)
            # The value is shown on this response only; it is never shown again.
            return render(request, "console/keys/created.html", {"key": key, "value": value, "nav": "keys"})
    return render(request, "console/keys/create.html", {"form": form, "nav": "keys"})


@console_view(methods=("GET", "POST"), read=Role.EDITOR)
def key_import(request: HttpRequest) -> HttpResponse:
    form = ApiKeyImportForm(posted(request), request.FILES if request.method == "POST" else None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        body = form.cleaned_data["file"].read()
        with form_errors(form, "file"):
            ids, warnings = perform(
                request,
                "ImportApiKeys",
                "/apikeys?mode=import",
                lambda: keys.api_keys_import(
                    owner=request.user, body=body, fail_on_warnings=form.cleaned_data["fail_on_warnings"]
                ),
            )
            outcome = {"keys": m.ApiKey.objects.filter(id__in=ids), "warnings": warnings}
    return render(request, "console/keys/import.html", {"form": form, "outcome": outcome, "nav": "keys"})


@console_view(methods=("GET", "POST"))
def key_detail(request: HttpRequest, key_id: str) -> HttpResponse:
    key = selectors.api_key_get(key_id=key_id)
    form = ApiKeyEditForm.for_key(key, posted(request))
    if request.method == "POST" and form.is_valid():
        ops = form.patch_operations()
        with form_errors(form):
            if ops:
                perform(
                    request, "UpdateApiKey", _target(key.id), lambda: keys.api_key_update(key=key, patch_operations=ops)
                )
            messages.success(request, "API key saved." if ops else "Nothing changed.")
            return redirect("console:key", key_id=key.id)
    context = {
        "nav": "keys",
        "key": key,
        "form": form,
        "plans": m.UsagePlan.objects.filter(plan_keys__api_key=key).order_by("name"),
    }
    return render(request, "console/keys/detail.html", context)


@console_view(methods=("POST",))
def key_enable(request: HttpRequest, key_id: str) -> HttpResponse:
    key = selectors.api_key_get(key_id=key_id)
    enabled = request.POST.get("enabled") == "true"
    with message_errors(request):
        perform(
            request,
            "UpdateApiKey",
            _target(key.id),
            lambda: keys.api_key_update(
                key=key, patch_operations=[PatchOp(op="replace", path="/enabled", value=bool_text(enabled))]
            ),
        )
        messages.success(request, f"{'Enabled' if enabled else 'Disabled'} API key {key.name}.")
    return redirect(safe_next(request, reverse("console:keys")))


@console_view(methods=("GET", "POST"), read=Role.EDITOR)
def key_delete(request: HttpRequest, key_id: str) -> HttpResponse:
    key = selectors.api_key_get(key_id=key_id)
    if request.method == "POST":
        with message_errors(request):
            perform(request, "DeleteApiKey", _target(key.id), lambda: keys.api_key_delete(key=key))
            messages.success(request, f"Deleted API key {key.name}.")
            return redirect("console:keys")
    context = {
        "nav": "keys",
        "title": f"Delete API key {key.name}",
        "consequences": ["Clients using it get 403 Forbidden on every gateway within seconds."],
        "cancel_url": reverse("console:key", args=[key.id]),
    }
    return render(request, "console/confirm_delete.html", context)
