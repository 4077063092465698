"""Tags of APIs, usage plans, API keys and custom domains (stages keep theirs in `stages.py`), by ARN."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apis import selectors
from apis.console.forms.stages import TagForm
from apis.console.permissions import Role, console_view
from apis.console.views.base import form_errors, message_errors, perform, posted
from apis.services import tags
from apis.shapes import api_key_arn, domain_name_arn, rest_api_arn, usage_plan_arn


def _tags_page(
    request: HttpRequest, *, arn: str, page: str, template: str, delete_url: str, context: dict[str, Any]
) -> HttpResponse:
    """Show a resource's tags, or add the posted one (TagResource) and come back to the page."""
    form = TagForm(posted(request))
    if request.method == "POST" and form.is_valid():
        key, value = form.cleaned_data["key"], form.cleaned_data["value"]
        with form_errors(form, "key"):
            perform(request, "TagResource", f"/tags/{arn}", lambda: tags.tags_add(resource_arn=arn, tags={key: value}))
            messages.success(request, f"Added tag {key}.")
            return redirect(page)
    context = {**context, "form": form, "tags": selectors.tags_for(resource_arn=arn), "delete_url": delete_url}
    return render(request, template, context)


def _untag(request: HttpRequest, *, arn: str, page: str) -> HttpResponse:
    key = request.POST.get("key", "")
    with message_errors(request):
        perform(request, "UntagResource", f"/tags/{arn}", lambda: tags.tags_remove(resource_arn=arn, keys=[key]))
        messages.success(request, f"Removed tag {key}.")
    return redirect(page)


@console_view(methods=("GET", "POST"))
def api_tags(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    return _tags_page(
        request,
        arn=rest_api_arn(api.id),
        page=reverse("console:api_tags", args=[api.id]),
        template="console/apis/tags.html",
        delete_url=reverse("console:api_tag_delete", args=[api.id]),
        context={"api": api, "tab": "tags"},
    )


@console_view(methods=("POST",))
def api_tag_delete(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    return _untag(request, arn=rest_api_arn(api.id), page=reverse("console:api_tags", args=[api.id]))


@console_view(methods=("GET", "POST"))
def plan_tags(request: HttpRequest, plan_id: str) -> HttpResponse:
    plan = selectors.usage_plan_get(plan_id=plan_id)
    return _tags_page(
        request,
        arn=usage_plan_arn(plan.id),
        page=reverse("console:plan_tags", args=[plan.id]),
        template="console/plans/tags.html",
        delete_url=reverse("console:plan_tag_delete", args=[plan.id]),
        context={"plan": plan, "nav": "plans"},
    )


@console_view(methods=("POST",))
def plan_tag_delete(request: HttpRequest, plan_id: str) -> HttpResponse:
    plan = selectors.usage_plan_get(plan_id=plan_id)
    return _untag(request, arn=usage_plan_arn(plan.id), page=reverse("console:plan_tags", args=[plan.id]))


@console_view(methods=("GET", "POST"))
def key_tags(request: HttpRequest, key_id: str) -> HttpResponse:
    key = selectors.api_key_get(key_id=key_id)
    return _tags_page(
        request,
        arn=api_key_arn(key.id),
        page=reverse("console:key_tags", args=[key.id]),
        template="console/keys/tags.html",
        delete_url=reverse("console:key_tag_delete", args=[key.id]),
        context={"key": key, "nav": "keys"},
    )


@console_view(methods=("POST",))
def key_tag_delete(request: HttpRequest, key_id: str) -> HttpResponse:
    key = selectors.api_key_get(key_id=key_id)
    return _untag(request, arn=api_key_arn(key.id), page=reverse("console:key_tags", args=[key.id]))


@console_view(methods=("GET", "POST"), write=Role.ADMIN)
def domain_tags(request: HttpRequest, domain_name: str) -> HttpResponse:
    domain = selectors.domain_name_get(domain_name=domain_name)
    return _tags_page(
        request,
        arn=domain_name_arn(domain.domain_name),
        page=reverse("console:domain_tags", args=[domain.domain_name]),
        template="console/domains/tags.html",
        delete_url=reverse("console:domain_tag_delete", args=[domain.domain_name]),
        context={"domain": domain, "nav": "domains"},
    )


@console_view(methods=("POST",), write=Role.ADMIN)
def domain_tag_delete(request: HttpRequest, domain_name: str) -> HttpResponse:
    domain = selectors.domain_name_get(domain_name=domain_name)
    page = reverse("console:domain_tags", args=[domain.domain_name])
    return _untag(request, arn=domain_name_arn(domain.domain_name), page=page)
