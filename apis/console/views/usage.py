"""A usage plan's keys with their quota use in the current period, and changing what is left (UpdateUsage)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apis import selectors
from apis.console.forms.metrics import RemainingForm
from apis.console.metrics import plan_usage
from apis.console.permissions import console_view
from apis.console.views.base import message_errors, perform
from apis.patching import PatchOp
from apis.services.usage_limits import usage_remaining_update


@console_view()
def plan_usage_page(request: HttpRequest, plan_id: str) -> HttpResponse:
    plan = selectors.usage_plan_get(plan_id=plan_id)
    context = {"nav": "plans", "plan": plan, "section": "usage", "usage": plan_usage(plan=plan)}
    return render(request, "console/plans/usage.html", context)


@console_view(methods=("POST",))
def plan_key_remaining(request: HttpRequest, plan_id: str, key_id: str) -> HttpResponse:
    plan = selectors.usage_plan_get(plan_id=plan_id)
    form = RemainingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the number of requests left, 0 or more.")
        return redirect("console:plan_usage", plan_id=plan.id)
    remaining = form.cleaned_data["remaining"]
    with message_errors(request):
        usage = perform(
            request,
            "UpdateUsage",
            f"/usageplans/{plan.id}/keys/{key_id}/usage",
            lambda: usage_remaining_update(
                plan=plan,
                key_id=key_id,
                patch_operations=[PatchOp(op="replace", path="/remaining", value=str(remaining))],
            ),
        )
        messages.success(
            request,
            f"Key {key_id} has {usage.remaining} requests left until {usage.end:%Y-%m-%d %H:%M} UTC.",
        )
    return redirect("console:plan_usage", plan_id=plan.id)
