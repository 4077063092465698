"""Forms of deployments and stages: deploy, roll back, diff, stage settings, variables, throttles, canary, tags."""

from __future__ import annotations

from typing import Any

from django import forms

from apis import models as m
from apis.console.forms.fields import ConsoleForm, MappingField, bool_text, map_ops, pointer
from apis.patching import PatchOp
from apis.services.deployments import CACHE_SIZES, LOGGING_LEVELS, METHOD_SETTING_DEFAULTS

NEW_STAGE = "__new__"
DEFAULT_SETTINGS_KEY = "*/*"


def deployment_choices(api: m.RestApi) -> list[tuple[str, str]]:
    deployments = m.Deployment.objects.filter(rest_api=api).defer("snapshot").order_by("-created_date", "-id")
    return [(d.id, f"{d.id} — {d.created_date:%Y-%m-%d %H:%M} {d.description}".strip()) for d in deployments]


def snapshot_methods(snapshot: dict) -> list[tuple[str, str]]:
    """Return (resource path, verb) of every method in a deployment snapshot."""
    return sorted(
        (resource["path"], verb)
        for resource in snapshot.get("resources", [])
        for verb in (resource.get("resourceMethods") or {})
    )


class DeployForm(ConsoleForm):
    stage = forms.ChoiceField(label="Stage")
    stage_name = forms.RegexField(
        regex=r"^[A-Za-z0-9_\-]{1,128}$", required=False, label="New stage name", help_text="Letters, digits, - and _."
    )
    stage_description = forms.CharField(required=False, label="Stage description")
    description = forms.CharField(required=False, label="Deployment description")

    def __init__(self, *args: Any, api: m.RestApi, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = list(m.Stage.objects.filter(rest_api=api).values_list("stage_name", flat=True))
        self.fields["stage"].choices = [(n, n) for n in names] + [(NEW_STAGE, "[New stage]")]
        self.fields["stage"].initial = names[0] if names else NEW_STAGE

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("stage") == NEW_STAGE and not data.get("stage_name"):
            self.add_error("stage_name", "Name the new stage.")
        return data

    @property
    def target_stage(self) -> str:
        data = self.cleaned_data
        return data["stage_name"] if data["stage"] == NEW_STAGE else data["stage"]


class DiffForm(forms.Form):
    base = forms.ChoiceField(label="From")
    target = forms.ChoiceField(label="To")

    def __init__(self, *args: Any, api: m.RestApi, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = deployment_choices(api)
        for name in ("base", "target"):
            self.fields[name].choices = choices
            self.fields[name].widget.attrs["class"] = "form-select"
        if len(choices) >= 2:
            self.fields["base"].initial, self.fields["target"].initial = choices[1][0], choices[0][0]


class StageSettingsForm(ConsoleForm):
    description = forms.CharField(required=False)
    throttling_rate_limit = forms.FloatField(min_value=0, label="Default rate (requests/s)")
    throttling_burst_limit = forms.IntegerField(min_value=0, label="Default burst")
    logging_level = forms.ChoiceField(choices=[(x, x) for x in sorted(LOGGING_LEVELS)], label="Execution log level")
    data_trace_enabled = forms.BooleanField(required=False, label="Log full requests and responses")
    metrics_enabled = forms.BooleanField(required=False, label="Detailed metrics")
    access_log_format = forms.CharField(
        required=False,
        label="Access log format",
        widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
        help_text='e.g. <code>{"requestId":"$context.requestId","status":"$context.status"}</code>',
    )
    access_log_destination_arn = forms.CharField(required=False, label="Access log destination")
    cache_cluster_enabled = forms.BooleanField(required=False, label="Provision a stage cache")
    cache_cluster_size = forms.ChoiceField(
        choices=[(s, f"{s} GB") for s in sorted(CACHE_SIZES, key=float)], label="Cache capacity"
    )
    caching_enabled = forms.BooleanField(required=False, label="Cache responses of every method")
    cache_ttl_in_seconds = forms.IntegerField(min_value=0, max_value=3600, label="Cache TTL (s)")
    tracing_enabled = forms.BooleanField(required=False, label="Tracing")
    throttling_fail_mode = forms.ChoiceField(
        choices=m.ThrottlingFailMode.choices,
        label="When the counter store fails",
        help_text="Open: serve uncounted. Closed: refuse with 503. Local: throttle in each gateway process.",
    )

    @classmethod
    def for_stage(cls, stage: m.Stage, data: Any = None) -> StageSettingsForm:
        defaults = {**METHOD_SETTING_DEFAULTS, **(stage.method_settings or {}).get(DEFAULT_SETTINGS_KEY, {})}
        access = stage.access_log_settings or {}
        initial = {
            "description": stage.description,
            "throttling_rate_limit": float(defaults["throttlingRateLimit"]),
            "throttling_burst_limit": int(defaults["throttlingBurstLimit"]),
            "logging_level": defaults["loggingLevel"],
            "data_trace_enabled": defaults["dataTraceEnabled"],
            "metrics_enabled": defaults["metricsEnabled"],
            "access_log_format": access.get("format", ""),
            "access_log_destination_arn": access.get("destinationArn", ""),
            "cache_cluster_enabled": stage.cache_cluster_enabled,
            "cache_cluster_size": stage.cache_cluster_size or "0.5",
            "caching_enabled": defaults["cachingEnabled"],
            "cache_ttl_in_seconds": int(defaults["cacheTtlInSeconds"]),
            "tracing_enabled": stage.tracing_enabled,
            "throttling_fail_mode": stage.throttling_fail_mode,
        }
        return cls(data, initial=initial)

    def patch_operations(self) -> list[PatchOp]:
        old, new = self.initial, self.cleaned_data
        changed = {name for name in new if new[name] != old.get(name)}
        ops = []
        if "description" in changed:
            ops.append(PatchOp(op="replace", path="/description", value=new["description"]))
        if "cache_cluster_enabled" in changed:
            ops.append(
                PatchOp(op="replace", path="/cacheClusterEnabled", value=bool_text(new["cache_cluster_enabled"]))
            )
        if "cache_cluster_size" in changed and new["cache_cluster_enabled"]:
            ops.append(PatchOp(op="replace", path="/cacheClusterSize", value=new["cache_cluster_size"]))
        if "throttling_fail_mode" in changed:
            ops.append(PatchOp(op="replace", path="/throttlingFailMode", value=new["throttling_fail_mode"]))
        if "tracing_enabled" in changed:
            ops.append(PatchOp(op="replace", path="/tracingEnabled", value=bool_text(new["tracing_enabled"])))
        defaults = (
            ("throttling_rate_limit", "throttling/rateLimit", str),
            ("throttling_burst_limit", "throttling/burstLimit", str),
            ("logging_level", "logging/loglevel", str),
            ("data_trace_enabled", "logging/dataTrace", bool_text),
            ("metrics_enabled", "metrics/enabled", bool_text),
            ("caching_enabled", "caching/enabled", bool_text),
            ("cache_ttl_in_seconds", "caching/ttlInSeconds", str),
        )
        for name, path, render in defaults:
            if name in changed:
                ops.append(PatchOp(op="replace", path=f"/*/*/{path}", value=render(new[name])))
        log_fields = {"access_log_format", "access_log_destination_arn"}
        if changed & log_fields:
            if not new["access_log_format"] and not new["access_log_destination_arn"]:
                ops.append(PatchOp(op="remove", path="/accessLogSettings"))
            else:
                ops.append(PatchOp(op="replace", path="/accessLogSettings/format", value=new["access_log_format"]))
                ops.append(
                    PatchOp(
                        op="replace", path="/accessLogSettings/destinationArn", value=new["access_log_destination_arn"]
                    )
                )
        return ops


class StageVariableForm(ConsoleForm):
    name = forms.RegexField(regex=r"^[A-Za-z0-9_]{1,64}$", help_text="Letters, digits and _.")
    value = forms.CharField(max_length=512, required=False)


def method_setting_path(resource_path: str, verb: str) -> str:
    return f"/{pointer(resource_path)}/{verb}"


def method_setting_target(key: str) -> tuple[str, str]:
    """Split a stage's method-settings key (`items/{id}/GET`) into resource path and verb."""
    path, _, verb = key.rpartition("/")
    return f"/{path}", verb


class MethodThrottleForm(ConsoleForm):
    method = forms.ChoiceField(label="Method")
    rate_limit = forms.FloatField(min_value=0, label="Rate (requests/s)")
    burst_limit = forms.IntegerField(min_value=0, label="Burst")

    def __init__(self, *args: Any, methods: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = [(f"{verb} {path}", f"{verb} {path}") for path, verb in methods]

    def target(self) -> tuple[str, str]:
        verb, _, path = self.cleaned_data["method"].partition(" ")
        return path, verb

    def stage_operations(self) -> list[PatchOp]:
        base = method_setting_path(*self.target())
        return [
            PatchOp(op="replace", path=f"{base}/throttling/rateLimit", value=str(self.cleaned_data["rate_limit"])),
            PatchOp(op="replace", path=f"{base}/throttling/burstLimit", value=str(self.cleaned_data["burst_limit"])),
        ]


class CanaryForm(ConsoleForm):
    percent_traffic = forms.FloatField(min_value=0, max_value=100, label="Requests to the canary (%)")
    deployment_id = forms.ChoiceField(label="Canary deployment")
    use_stage_cache = forms.BooleanField(required=False, label="Canary uses the stage cache")
    stage_variable_overrides = MappingField(
        label="Stage variable overrides", help_text="One a line: <code>name = value</code>"
    )

    @classmethod
    def for_stage(cls, stage: m.Stage, data: Any = None) -> CanaryForm:
        canary = stage.canary_settings or {}
        form = cls(
            data,
            initial={
                "percent_traffic": canary.get("percentTraffic", 10.0),
                "deployment_id": canary.get("deploymentId") or stage.deployment_id,
                "use_stage_cache": canary.get("useStageCache", False),
                "stage_variable_overrides": dict(canary.get("stageVariableOverrides") or {}),
            },
        )
        form.fields["deployment_id"].choices = deployment_choices(stage.rest_api)
        form.had_canary = bool(canary)
        return form

    def patch_operations(self) -> list[PatchOp]:
        old, new = self.initial, self.cleaned_data
        ops = []
        if not self.had_canary or new["percent_traffic"] != old["percent_traffic"]:
            ops.append(PatchOp(op="replace", path="/canarySettings/percentTraffic", value=str(new["percent_traffic"])))
        if not self.had_canary or new["deployment_id"] != old["deployment_id"]:
            ops.append(PatchOp(op="replace", path="/canarySettings/deploymentId", value=new["deployment_id"]))
        if not self.had_canary or new["use_stage_cache"] != old["use_stage_cache"]:
            ops.append(
                PatchOp(op="replace", path="/canarySettings/useStageCache", value=bool_text(new["use_stage_cache"]))
            )
        old_overrides = old["stage_variable_overrides"] if self.had_canary else {}
        ops += map_ops("/canarySettings/stageVariableOverrides", old_overrides, new["stage_variable_overrides"])
        return ops


class TagForm(ConsoleForm):
    key = forms.CharField(max_length=128)
    value = forms.CharField(max_length=256, required=False)
