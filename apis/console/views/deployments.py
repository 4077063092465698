"""Deploy an API, the deployment history, and the diff between two deployments."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apis import selectors
from apis.console import selectors as console_selectors
from apis.console.forms.stages import DeployForm, DiffForm
from apis.console.permissions import Role, console_view
from apis.console.views.base import api_target, form_errors, is_htmx, perform, posted
from apis.diffing import snapshot_diff
from apis.services import deployments


@console_view(methods=("GET", "POST"), read=Role.EDITOR)
def deploy(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    form = DeployForm(posted(request), api=api)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        stage_name = form.target_stage
        with form_errors(form):
            perform(
                request,
                "CreateDeployment",
                api_target(api.id, "deployments"),
                lambda: deployments.deployment_create(
                    api=api,
                    description=data["description"],
                    stage_name=stage_name,
                    stage_description=data["stage_description"],
                ),
            )
            messages.success(request, f"Deployed to stage {stage_name}.")
            return redirect("console:stage", api_id=api.id, stage_name=stage_name)
    return render(request, "console/deploy/deploy.html", {"api": api, "tab": "deploy", "form": form})


@console_view()
def deployment_list(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    serving = console_selectors.stages_by_deployment(api=api)
    rows = [(d, serving.get(d.id, [])) for d in console_selectors.deployments_of(api=api)]
    context = {"api": api, "tab": "deployments", "rows": rows, "diff_form": DiffForm(api=api)}
    return render(request, "console/deploy/deployments.html", context)


@console_view()
def deployment_diff(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    form = DiffForm(request.GET, api=api)
    diff = base = target = None
    if form.is_valid():
        base = selectors.deployment_get(api=api, deployment_id=form.cleaned_data["base"])
        target = selectors.deployment_get(api=api, deployment_id=form.cleaned_data["target"])
        diff = snapshot_diff(old=base.snapshot, new=target.snapshot)
    context = {
        "api": api,
        "tab": "deployments",
        "diff_form": form,
        "diff": diff,
        "base": base,
        "target": target,
    }
    template = "console/deploy/_diff.html" if is_htmx(request) else "console/deploy/diff.html"
    return render(request, template, context)
