"""Forms of usage plans and API keys."""

from __future__ import annotations

from typing import Any

from django import forms

from apis import models as m
from apis.console.forms.fields import ConsoleForm, bool_text, pointer
from apis.console.forms.stages import snapshot_methods
from apis.patching import PatchOp
from apis.services.keys import QUOTA_PERIODS


def api_stage_choices() -> list[tuple[str, str]]:
    stages = m.Stage.objects.select_related("rest_api").order_by("rest_api__name", "stage_name")
    return [
        (f"{s.rest_api_id}:{s.stage_name}", f"{s.rest_api.name} ({s.rest_api_id}) — {s.stage_name}") for s in stages
    ]


class UsagePlanForm(ConsoleForm):
    name = forms.CharField(max_length=255)
    description = forms.CharField(required=False)
    rate_limit = forms.FloatField(min_value=0, required=False, label="Rate (requests/s)")
    burst_limit = forms.IntegerField(min_value=0, required=False, label="Burst")
    quota_limit = forms.IntegerField(min_value=1, required=False, label="Quota (requests)")
    quota_period = forms.ChoiceField(choices=[(p, p) for p in QUOTA_PERIODS], initial="MONTH", label="per")
    quota_offset = forms.IntegerField(min_value=0, initial=0, required=False, label="Offset (days)")
    api_stage = forms.ChoiceField(required=False, label="Add an API stage")

    def __init__(self, *args: Any, creating: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if creating:
            self.fields["api_stage"].choices = [("", "—"), *api_stage_choices()]
        else:
            del self.fields["api_stage"]

    @classmethod
    def for_plan(cls, plan: m.UsagePlan, data: Any = None) -> UsagePlanForm:
        throttle, quota = plan.throttle or {}, plan.quota or {}
        initial = {
            "name": plan.name,
            "description": plan.description,
            "rate_limit": throttle.get("rateLimit"),
            "burst_limit": throttle.get("burstLimit"),
            "quota_limit": quota.get("limit"),
            "quota_period": quota.get("period", "MONTH"),
            "quota_offset": quota.get("offset", 0),
        }
        return cls(data, initial=initial, creating=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (data.get("rate_limit") is None) != (data.get("burst_limit") is None):
            self.add_error("burst_limit", "Set both rate and burst, or neither.")
        data["quota_offset"] = data.get("quota_offset") or 0
        return data

    def throttle(self) -> dict | None:
        data = self.cleaned_data
        if data["rate_limit"] is None:
            return None
        return {"rateLimit": data["rate_limit"], "burstLimit": data["burst_limit"]}

    def quota(self) -> dict | None:
        data = self.cleaned_data
        if data["quota_limit"] is None:
            return None
        return {"limit": data["quota_limit"], "period": data["quota_period"], "offset": data["quota_offset"]}

    def api_stages(self) -> list[dict]:
        api_id, _, stage = (self.cleaned_data.get("api_stage") or "").partition(":")
        return [{"apiId": api_id, "stage": stage}] if stage else []

    def patch_operations(self) -> list[PatchOp]:
        old, new = self.initial, self.cleaned_data
        ops = []
        for field, path in (("name", "/name"), ("description", "/description")):
            if new[field] != old[field]:
                ops.append(PatchOp(op="replace", path=path, value=new[field]))
        if new["rate_limit"] is None:
            if old["rate_limit"] is not None:
                ops.append(PatchOp(op="remove", path="/throttle"))
        else:
            for field, path in (("rate_limit", "rateLimit"), ("burst_limit", "burstLimit")):
                if new[field] != old[field]:
                    ops.append(PatchOp(op="replace", path=f"/throttle/{path}", value=str(new[field])))
        if new["quota_limit"] is None:
            if old["quota_limit"] is not None:
                ops.append(PatchOp(op="remove", path="/quota"))
        else:
            # Period first, so the limit and offset are checked against the new period.
            for field, path in (("quota_period", "period"), ("quota_limit", "limit"), ("quota_offset", "offset")):
                if old["quota_limit"] is None or new[field] != old[field]:
                    ops.append(PatchOp(op="replace", path=f"/quota/{path}", value=str(new[field])))
        return ops


class PlanStageForm(ConsoleForm):
    api_stage = forms.ChoiceField(label="API stage")

    def __init__(self, *args: Any, plan: m.UsagePlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        taken = {f"{s.rest_api_id}:{s.stage_name}" for s in plan.api_stages.all()}
        self.fields["api_stage"].choices = [c for c in api_stage_choices() if c[0] not in taken]


class PlanMethodThrottleForm(ConsoleForm):
    method = forms.ChoiceField(label="Method")
    rate_limit = forms.FloatField(min_value=0, label="Rate (requests/s)")
    burst_limit = forms.IntegerField(min_value=0, label="Burst")

    def __init__(self, *args: Any, api_stage: m.UsagePlanStage, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_stage = api_stage
        stage = m.Stage.objects.filter(rest_api_id=api_stage.rest_api_id, stage_name=api_stage.stage_name).first()
        methods = snapshot_methods(stage.deployment.snapshot) if stage else []
        self.fields["method"].choices = [(f"{verb} {path}", f"{verb} {path}") for path, verb in methods]
        self.auto_id = f"id_{api_stage.pk}_%s"

    def patch_operations(self) -> list[PatchOp]:
        verb, _, path = self.cleaned_data["method"].partition(" ")
        base = plan_method_throttle_path(self.api_stage, path, verb)
        return [
            PatchOp(op="replace", path=f"{base}/rateLimit", value=str(self.cleaned_data["rate_limit"])),
            PatchOp(op="replace", path=f"{base}/burstLimit", value=str(self.cleaned_data["burst_limit"])),
        ]


def plan_method_throttle_path(api_stage: m.UsagePlanStage, resource_path: str, verb: str) -> str:
    return f"/apiStages/{api_stage.rest_api_id}:{api_stage.stage_name}/throttle/{pointer(resource_path)}/{verb}"


class PlanKeyForm(ConsoleForm):
    key_id = forms.ChoiceField(label="API key")

    def __init__(self, *args: Any, plan: m.UsagePlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keys = m.ApiKey.objects.exclude(plan_links__usage_plan=plan).order_by("name")
        self.fields["key_id"].choices = [(k.id, f"{k.name} ({k.id})") for k in keys]


class ApiKeyCreateForm(ConsoleForm):
    name = forms.CharField(max_length=1024, required=False, help_text="Blank: the key's id.")
    description = forms.CharField(required=False)
    customer_id = forms.CharField(required=False, label="Customer id")
    value = forms.CharField(
        required=False,
        min_length=20,
        max_length=128,
        label="Value",
        help_text="Blank: a random 40-character value is generated.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    enabled = forms.BooleanField(required=False, initial=True)
    usage_plan = forms.ChoiceField(required=False, label="Add to usage plan")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plans = m.UsagePlan.objects.order_by("name")
        self.fields["usage_plan"].choices = [("", "—")] + [(p.id, f"{p.name} ({p.id})") for p in plans]


class ApiKeyEditForm(ConsoleForm):
    name = forms.CharField(max_length=1024)
    description = forms.CharField(required=False)
    customer_id = forms.CharField(required=False, label="Customer id")
    enabled = forms.BooleanField(required=False)

    @classmethod
    def for_key(cls, key: m.ApiKey, data: Any = None) -> ApiKeyEditForm:
        initial = {
            "name": key.name,
            "description": key.description,
            "customer_id": key.customer_id,
            "enabled": key.enabled,
        }
        return cls(data, initial=initial)

    def patch_operations(self) -> list[PatchOp]:
        old, new = self.initial, self.cleaned_data
        ops = []
        for field, path in (("name", "/name"), ("description", "/description"), ("customer_id", "/customerId")):
            if new[field] != old[field]:
                ops.append(PatchOp(op="replace", path=path, value=new[field]))
        if new["enabled"] != old["enabled"]:
            ops.append(PatchOp(op="replace", path="/enabled", value=bool_text(new["enabled"])))
        return ops


class ApiKeyImportForm(ConsoleForm):
    file = forms.FileField(
        label="CSV file",
        help_text="AWS's format: a header row with <code>name,key,description,enabled,usageplanIds</code>.",
    )
    fail_on_warnings = forms.BooleanField(required=False, label="Import nothing if any line has a problem")
