"""Stages: invoke URLs, rollback, settings and throttles, variables, canary, tags, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apis import models as m
from apis import selectors
from apis.console import selectors as console_selectors
from apis.console.forms.stages import (
    DEFAULT_SETTINGS_KEY,
    CanaryForm,
    MethodThrottleForm,
    StageSettingsForm,
    StageVariableForm,
    TagForm,
    method_setting_path,
    method_setting_target,
    snapshot_methods,
)
from apis.console.permissions import Role, console_view
from apis.console.views.base import api_target, form_errors, message_errors, perform, posted
from apis.patching import PatchOp
from apis.services import deployments, tags
from apis.shapes import stage_arn


def _load(api_id: str, stage_name: str) -> tuple[m.RestApi, m.Stage]:
    api = selectors.rest_api_get(api_id=api_id)
    return api, selectors.stage_get(api=api, stage_name=stage_name)


def _target(stage: m.Stage) -> str:
    return api_target(stage.rest_api_id, "stages", stage.stage_name)


def _update(request: HttpRequest, stage: m.Stage, ops: list[PatchOp]) -> m.Stage:
    return perform(
        request, "UpdateStage", _target(stage), lambda: deployments.stage_update(stage=stage, patch_operations=ops)
    )


def _page(request: HttpRequest, api: m.RestApi, stage: m.Stage, section: str, **extra: Any) -> HttpResponse:
    context = {"api": api, "tab": "stages", "stage": stage, "section": section, **extra}
    return render(request, f"console/stages/{section}.html", context)


def _back(stage: m.Stage, view: str = "console:stage") -> HttpResponse:
    return redirect(view, api_id=stage.rest_api_id, stage_name=stage.stage_name)


@console_view()
def stage_list(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    stages = [
        (stage, console_selectors.stage_invoke_urls(api_id=api.id, stage_name=stage.stage_name)[0][1])
        for stage in m.Stage.objects.filter(rest_api=api).select_related("deployment")
    ]
    return render(request, "console/stages/list.html", {"api": api, "tab": "stages", "stages": stages})


@console_view()
def stage_detail(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    api, stage = _load(api_id, stage_name)
    return _page(
        request,
        api,
        stage,
        "overview",
        urls=console_selectors.stage_invoke_urls(api_id=api.id, stage_name=stage.stage_name),
        deployments=console_selectors.deployments_of(api=api),
        methods=snapshot_methods(stage.deployment.snapshot),
    )


@console_view(methods=("POST",))
def stage_rollback(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    stage = _load(api_id, stage_name)[1]
    deployment_id = request.POST.get("deployment_id", "")
    with message_errors(request):
        _update(request, stage, [PatchOp(op="replace", path="/deploymentId", value=deployment_id)])
        messages.success(request, f"Stage {stage.stage_name} now serves deployment {deployment_id}.")
    return _back(stage)


def _method_settings(stage: m.Stage) -> list[dict[str, Any]]:
    rows = []
    for key, values in sorted((stage.method_settings or {}).items()):
        if key == DEFAULT_SETTINGS_KEY:
            continue
        path, verb = method_setting_target(key)
        rows.append({"key": key, "path": path, "verb": verb, **values})
    return rows


@console_view(methods=("GET", "POST"))
def stage_settings(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    api, stage = _load(api_id, stage_name)
    form = StageSettingsForm.for_stage(stage, posted(request))
    if request.method == "POST" and form.is_valid():
        ops = form.patch_operations()
        with form_errors(form):
            if ops:
                _update(request, stage, ops)
            messages.success(request, "Stage settings saved." if ops else "Nothing changed.")
            return _back(stage, "console:stage_settings")
    return _settings_page(request, api, stage, form=form)


def _settings_page(
    request: HttpRequest,
    api: m.RestApi,
    stage: m.Stage,
    *,
    form: StageSettingsForm | None = None,
    throttle_form: MethodThrottleForm | None = None,
) -> HttpResponse:
    methods = snapshot_methods(stage.deployment.snapshot)
    return _page(
        request,
        api,
        stage,
        "settings",
        form=form or StageSettingsForm.for_stage(stage),
        throttle_form=throttle_form or MethodThrottleForm(methods=methods),
        method_settings=_method_settings(stage),
    )


@console_view(methods=("POST",))
def stage_method_throttle(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    api, stage = _load(api_id, stage_name)
    form = MethodThrottleForm(request.POST, methods=snapshot_methods(stage.deployment.snapshot))
    if form.is_valid():
        with form_errors(form):
            _update(request, stage, form.stage_operations())
            messages.success(request, "Method throttling saved.")
            return _back(stage, "console:stage_settings")
    return _settings_page(request, api, stage, throttle_form=form)


@console_view(methods=("POST",))
def stage_method_setting_delete(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    stage = _load(api_id, stage_name)[1]
    path, verb = method_setting_target(request.POST.get("key", ""))
    with message_errors(request):
        _update(request, stage, [PatchOp(op="remove", path=method_setting_path(path, verb))])
        messages.success(request, f"Removed the settings of {verb} {path}.")
    return _back(stage, "console:stage_settings")


@console_view(methods=("GET", "POST"))
def stage_variables(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    api, stage = _load(api_id, stage_name)
    form = StageVariableForm(posted(request))
    if request.method == "POST" and form.is_valid():
        name, value = form.cleaned_data["name"], form.cleaned_data["value"]
        with form_errors(form, "value"):
            _update(request, stage, [PatchOp(op="replace", path=f"/variables/{name}", value=value)])
            messages.success(request, f"Saved stage variable {name}.")
            return _back(stage, "console:stage_variables")
    return _page(request, api, stage, "variables", form=form)


@console_view(methods=("POST",))
def stage_variable_delete(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    stage = _load(api_id, stage_name)[1]
    name = request.POST.get("name", "")
    with message_errors(request):
        _update(request, stage, [PatchOp(op="remove", path=f"/variables/{name}")])
        messages.success(request, f"Removed stage variable {name}.")
    return _back(stage, "console:stage_variables")


@console_view(methods=("GET", "POST"))
def stage_canary(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    api, stage = _load(api_id, stage_name)
    form = CanaryForm.for_stage(stage, posted(request))
    if request.method == "POST" and form.is_valid():
        ops = form.patch_operations()
        with form_errors(form):
            if ops:
                _update(request, stage, ops)
            messages.success(request, "Canary settings saved.")
            return _back(stage, "console:stage_canary")
    return _page(request, api, stage, "canary", form=form)


@console_view(methods=("POST",))
def stage_canary_delete(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    stage = _load(api_id, stage_name)[1]
    with message_errors(request):
        _update(request, stage, [PatchOp(op="remove", path="/canarySettings")])
        messages.success(request, "Removed the canary; the stage's deployment serves all traffic.")
    return _back(stage, "console:stage_canary")


@console_view(methods=("GET", "POST"))
def stage_tags(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    api, stage = _load(api_id, stage_name)
    arn = stage_arn(api.id, stage.stage_name)
    form = TagForm(posted(request))
    if request.method == "POST" and form.is_valid():
        key, value = form.cleaned_data["key"], form.cleaned_data["value"]
        with form_errors(form, "key"):
            perform(request, "TagResource", f"/tags/{arn}", lambda: tags.tags_add(resource_arn=arn, tags={key: value}))
            messages.success(request, f"Tagged the stage with {key}.")
            return _back(stage, "console:stage_tags")
    return _page(request, api, stage, "tags", form=form, tags=selectors.tags_for(resource_arn=arn))


@console_view(methods=("POST",))
def stage_tag_delete(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    api, stage = _load(api_id, stage_name)
    arn = stage_arn(api.id, stage.stage_name)
    key = request.POST.get("key", "")
    with message_errors(request):
        perform(request, "UntagResource", f"/tags/{arn}", lambda: tags.tags_remove(resource_arn=arn, keys=[key]))
        messages.success(request, f"Removed tag {key}.")
    return _back(stage, "console:stage_tags")


@console_view(methods=("GET", "POST"), read=Role.EDITOR)
def stage_delete(request: HttpRequest, api_id: str, stage_name: str) -> HttpResponse:
    api, stage = _load(api_id, stage_name)
    if request.method == "POST":
        with message_errors(request):
            perform(request, "DeleteStage", _target(stage), lambda: deployments.stage_delete(stage=stage))
            messages.success(request, f"Deleted stage {stage.stage_name}.")
            return redirect("console:stages", api_id=api.id)
    context = {
        "api": api,
        "tab": "stages",
        "title": f"Delete stage {stage.stage_name}",
        "consequences": [
            "Its invoke URLs stop answering at once.",
            "Usage plans stop covering it, and base path mappings to it are removed.",
        ],
        "cancel_url": reverse("console:stage", args=[api.id, stage.stage_name]),
    }
    return render(request, "console/confirm_delete.html", context)
