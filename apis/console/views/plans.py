"""Usage plans: create and edit (throttle, quota), API stages with per-method throttles, keys, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apis import models as m
from apis import selectors
from apis.console.forms.selling import (
    PlanKeyForm,
    PlanMethodThrottleForm,
    PlanStageForm,
    UsagePlanForm,
    plan_method_throttle_path,
)
from apis.console.permissions import Role, console_view
from apis.console.views.base import form_errors, message_errors, perform, posted
from apis.errors import NotFound
from apis.patching import PatchOp
from apis.services import keys


def _target(plan: m.UsagePlan, *parts: str) -> str:
    return "/".join([f"/usageplans/{plan.id}", *parts])


def _update(request: HttpRequest, plan: m.UsagePlan, ops: list[PatchOp]) -> m.UsagePlan:
    return perform(
        request, "UpdateUsagePlan", _target(plan), lambda: keys.usage_plan_update(plan=plan, patch_operations=ops)
    )


@console_view()
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = m.UsagePlan.objects.prefetch_related("api_stages__rest_api", "plan_keys").order_by("name")
    return render(request, "console/plans/list.html", {"plans": plans, "nav": "plans"})


@console_view(methods=("GET", "POST"), read=Role.EDITOR)
def plan_create(request: HttpRequest) -> HttpResponse:
    form = UsagePlanForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with form_errors(form):
            plan = perform(
                request,
                "CreateUsagePlan",
                "/usageplans",
                lambda: keys.usage_plan_create(
                    owner=request.user,
                    name=data["name"],
                    description=data["description"],
                    throttle=form.throttle(),
                    quota=form.quota(),
                    api_stages=form.api_stages(),
                ),
            )
            messages.success(request, f"Created usage plan {plan.name}.")
            return redirect("console:plan", plan_id=plan.id)
    return render(request, "console/plans/create.html", {"form": form, "nav": "plans"})


def _plan_page(request: HttpRequest, plan: m.UsagePlan, **forms: Any) -> HttpResponse:
    api_stages = []
    for api_stage in plan.api_stages.select_related("rest_api"):
        throttle_form = forms.get(f"throttle_{api_stage.pk}") or PlanMethodThrottleForm(api_stage=api_stage)
        throttles = [
            {"path": key.rsplit("/", 1)[0], "verb": key.rsplit("/", 1)[1], **limits}
            for key, limits in sorted((api_stage.throttle or {}).items())
        ]
        api_stages.append({"link": api_stage, "throttles": throttles, "form": throttle_form})
    context = {
        "nav": "plans",
        "plan": plan,
        "form": forms.get("form") or UsagePlanForm.for_plan(plan),
        "stage_form": forms.get("stage_form") or PlanStageForm(plan=plan),
        "key_form": forms.get("key_form") or PlanKeyForm(plan=plan),
        "api_stages": api_stages,
        "plan_keys": plan.plan_keys.select_related("api_key").order_by("api_key__name"),
    }
    return render(request, "console/plans/detail.html", context)


@console_view(methods=("GET", "POST"))
def plan_detail(request: HttpRequest, plan_id: str) -> HttpResponse:
    plan = selectors.usage_plan_get(plan_id=plan_id)
    form = UsagePlanForm.for_plan(plan, posted(request))
    if request.method == "POST" and form.is_valid():
        ops = form.patch_operations()
        with form_errors(form):
            if ops:
                _update(request, plan, ops)
            messages.success(request, "Usage plan saved." if ops else "Nothing changed.")
            return redirect("console:plan", plan_id=plan.id)
    return _plan_page(request, plan, form=form)


@console_view(methods=("POST",))
def plan_stage_add(request: HttpRequest, plan_id: str) -> HttpResponse:
    plan = selectors.usage_plan_get(plan_id=plan_id)
    form = PlanStageForm(request.POST, plan=plan)
    if form.is_valid():
        value = form.cleaned_data["api_stage"]
        with form_errors(form, "api_stage"):
            _update(request, plan, [PatchOp(op="add", path="/apiStages", value=value)])
            messages.success(request, f"Added API stage {value}.")
            return redirect("console:plan", plan_id=plan.id)
    return _plan_page(request, plan, stage_form=form)


@console_view(methods=("POST",))
def plan_stage_remove(request: HttpRequest, plan_id: str) -> HttpResponse:
    plan = selectors.usage_plan_get(plan_id=plan_id)
    value = request.POST.get("api_stage", "")
    with message_errors(request):
        _update(request, plan, [PatchOp(op="remove", path="/apiStages", value=value)])
        messages.success(request, f"Removed API stage {value}.")
    return redirect("console:plan", plan_id=plan.id)


def _api_stage(plan: m.UsagePlan, link_id: str) -> m.UsagePlanStage:
    link = plan.api_stages.filter(pk=link_id).first() if link_id.isdigit() else None
    if link is None:
        raise NotFound("Invalid API stage specified for usage plan")
    return link


@console_view(methods=("POST",))
def plan_method_throttle(request: HttpRequest, plan_id: str, link_id: str) -> HttpResponse:
    plan = selectors.usage_plan_get(plan_id=plan_id)
    api_stage = _api_stage(plan, link_id)
    form = PlanMethodThrottleForm(request.POST, api_stage=api_stage)
    if form.is_valid():
        with form_errors(form):
            _update(request, plan, form.patch_operations())
            messages.success(request, "Method throttle saved.")
            return redirect("console:plan", plan_id=plan.id)
    return _plan_page(request, plan, **{f"throttle_{api_stage.pk}": form})


@console_view(methods=("POST",))
def plan_method_throttle_delete(request: HttpRequest, plan_id: str, link_id: str) -> HttpResponse:
    plan = selectors.usage_plan_get(plan_id=plan_id)
    api_stage = _api_stage(plan, link_id)
    path, verb = request.POST.get("path", ""), request.POST.get("verb", "")
    with message_errors(request):
        _update(request, plan, [PatchOp(op="remove", path=plan_method_throttle_path(api_stage, path, verb))])
        messages.success(request, f"Removed the throttle of {verb} {path}.")
    return redirect("console:plan", plan_id=plan.id)


@console_view(methods=("POST",))
def plan_key_add(request: HttpRequest, plan_id: str) -> HttpResponse:
    plan = selectors.usage_plan_get(plan_id=plan_id)
    form = PlanKeyForm(request.POST, plan=plan)
    if form.is_valid():
        key_id = form.cleaned_data["key_id"]
        with form_errors(form, "key_id"):
            perform(
                request,
                "CreateUsagePlanKey",
                _target(plan, "keys"),
                lambda: keys.usage_plan_key_create(plan=plan, key_id=key_id),
            )
            messages.success(request, f"Attached API key {key_id}.")
            return redirect("console:plan", plan_id=plan.id)
    return _plan_page(request, plan, key_form=form)


@console_view(methods=("POST",))
def plan_key_remove(request: HttpRequest, plan_id: str, key_id: str) -> HttpResponse:
    plan = selectors.usage_plan_get(plan_id=plan_id)
    link = selectors.usage_plan_key_get(plan=plan, key_id=key_id)
    with message_errors(request):
        perform(
            request,
            "DeleteUsagePlanKey",
            _target(plan, "keys", key_id),
            lambda: keys.usage_plan_key_delete(link=link),
        )
        messages.success(request, f"Detached API key {link.api_key.name}.")
    return redirect("console:plan", plan_id=plan.id)


@console_view(methods=("GET", "POST"), read=Role.EDITOR)
def plan_delete(request: HttpRequest, plan_id: str) -> HttpResponse:
    plan = selectors.usage_plan_get(plan_id=plan_id)
    if request.method == "POST":
        with message_errors(request):
            perform(request, "DeleteUsagePlan", _target(plan), lambda: keys.usage_plan_delete(plan=plan))
            messages.success(request, f"Deleted usage plan {plan.name}.")
            return redirect("console:plans")
    context = {
        "nav": "plans",
        "title": f"Delete usage plan {plan.name}",
        "consequences": [
            f"Its {plan.plan_keys.count()} API key(s) lose the access this plan gives, "
            "on every gateway within seconds.",
        ],
        "cancel_url": reverse("console:plan", args=[plan.id]),
    }
    return render(request, "console/confirm_delete.html", context)
