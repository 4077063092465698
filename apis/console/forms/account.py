"""Forms of account-wide things: custom domains, base path mappings, access keys and the audit log filter."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from apis import models as m
from apis.console.forms.design import ENDPOINT_TYPES
from apis.console.forms.fields import ConsoleForm
from apis.console.forms.selling import api_stage_choices
from apis.services.domains import SECURITY_POLICIES


class DomainNameForm(ConsoleForm):
    domain_name = forms.CharField(max_length=253, help_text="e.g. <code>api.example.com</code>")
    endpoint_type = forms.ChoiceField(choices=ENDPOINT_TYPES[:2], initial="REGIONAL", label="Endpoint type")
    certificate_name = forms.CharField(required=False, max_length=255)
    certificate_arn = forms.CharField(required=False, max_length=2048, label="Certificate ARN")
    security_policy = forms.ChoiceField(choices=[(p, p) for p in sorted(SECURITY_POLICIES)], initial="TLS_1_2")


class BasePathMappingForm(ConsoleForm):
    base_path = forms.CharField(required=False, max_length=1024, help_text="Blank maps the domain's root.")
    target = forms.ChoiceField(label="API stage")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = api_stage_choices()

    def target_parts(self) -> tuple[str, str]:
        api_id, _, stage = self.cleaned_data["target"].partition(":")
        return api_id, stage


class AccessKeyForm(ConsoleForm):
    description = forms.CharField(required=False, max_length=255, help_text="Where the key is used, e.g. “CI”.")


class AuditFilterForm(forms.Form):
    user = forms.ModelChoiceField(queryset=None, required=False, empty_label="Anyone")
    api = forms.CharField(required=False, label="API id")
    operation = forms.ChoiceField(required=False)
    since = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user_ids = m.AuditEvent.objects.exclude(user=None).order_by().values_list("user_id", flat=True).distinct()
        self.fields["user"].queryset = get_user_model().objects.filter(pk__in=user_ids).order_by("username")
        operations = m.AuditEvent.objects.values_list("operation", flat=True).distinct().order_by("operation")
        self.fields["operation"].choices = [("", "Any")] + [(o, o) for o in operations]
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = f"{css} form-control-sm" if css == "form-control" else f"{css} form-select-sm"

    def selector_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        api = (data.get("api") or "").strip()
        return {
            "user_id": data["user"].pk if data.get("user") else None,
            "operation": data.get("operation") or None,
            "target_contains": f"/restapis/{api}" if api else None,
            "since": data.get("since"),
            "until": data.get("until"),
        }
