"""Forms of the metrics dashboard and of a plan's per-key usage: the range picker and UpdateUsage."""

from __future__ import annotations

from typing import Any

from django import forms

from apis import models as m
from apis.console.forms.fields import ConsoleForm
from apis.console.metrics import DEFAULT_RANGE, RANGE_LABELS


class DashboardForm(ConsoleForm):
    """Which stage and time range the dashboard shows (a GET form; anything unknown falls back to defaults)."""

    stage = forms.ChoiceField(required=False, label="Stage")
    range = forms.ChoiceField(choices=list(RANGE_LABELS.items()), required=False, label="Time range")

    def __init__(self, data: Any, *, api: m.RestApi) -> None:
        super().__init__(data)
        names = m.Stage.objects.filter(rest_api=api).order_by("stage_name").values_list("stage_name", flat=True)
        self.fields["stage"].choices = [("", "All stages"), *((n, n) for n in names)]

    def choice(self) -> tuple[str, str]:
        """Return (stage name or "", range name), dropping values that are not offered."""
        if self.is_valid():
            return self.cleaned_data["stage"] or "", self.cleaned_data["range"] or DEFAULT_RANGE
        return "", DEFAULT_RANGE


class RemainingForm(ConsoleForm):
    remaining = forms.IntegerField(min_value=0, label="Remaining requests")
