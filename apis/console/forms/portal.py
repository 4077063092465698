"""Forms of the developer portal's administration: publishing a stage, and deciding on requests."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from apis import models as m
from apis.console.forms.fields import ConsoleForm
from portal import services
from portal.models import ConsumerGroup, Listing, Visibility


def _plans_for(stage: m.Stage) -> Any:
    return m.UsagePlan.objects.filter(api_stages__rest_api=stage.rest_api, api_stages__stage_name=stage.stage_name)


def _plan_label(plan: m.UsagePlan) -> str:
    quota = plan.quota or {}
    return f"{plan.name} ({quota['limit']} a {quota['period'].lower()})" if quota.get("limit") else plan.name


class PublishForm(ConsoleForm):
    published = forms.BooleanField(required=False, initial=True, label="Listed in the portal's catalog")
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=80, required=False, label="Address", help_text="The catalog page is /apis/<em>address</em>/."
    )
    summary = forms.CharField(max_length=300, required=False, help_text="One line, shown in the catalog.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. <code>payments, maps</code>.")
    plans = forms.ModelMultipleChoiceField(
        queryset=m.UsagePlan.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Usage plans on offer",
    )
    approval_plans = forms.ModelMultipleChoiceField(
        queryset=m.UsagePlan.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Subscriptions that wait for an owner's approval",
    )
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.PUBLIC, widget=forms.RadioSelect)
    groups = forms.ModelMultipleChoiceField(
        queryset=ConsumerGroup.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Consumer groups",
        help_text="Only with the visibility “Members of the chosen consumer groups”.",
    )

    def __init__(self, data: Any = None, *, stage: m.Stage, listing: Listing | None = None) -> None:
        initial: dict[str, Any] = {"title": f"{stage.rest_api.name}", "published": True}
        if listing is not None:
            initial = {
                "published": listing.published,
                "title": listing.title,
                "slug": listing.slug,
                "summary": listing.summary,
                "description": listing.description,
                "tags": ", ".join(listing.tags.values_list("name", flat=True)),
                "plans": list(listing.plans.all()),
                "approval_plans": [o.usage_plan for o in listing.offers.filter(requires_approval=True)],
                "visibility": listing.visibility,
                "groups": list(listing.groups.all()),
            }
        super().__init__(data, initial=initial)
        self.stage = stage
        for name in ("plans", "approval_plans"):
            self.fields[name].queryset = _plans_for(stage).order_by("name")
            self.fields[name].label_from_instance = _plan_label
        if not ConsumerGroup.objects.exists():
            del self.fields["groups"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        if set(data["approval_plans"]) - set(data["plans"]):
            self.add_error("approval_plans", "Only plans on offer can need approval.")
            return data
        try:
            services.portal_publish_check(
                stage=self.stage,
                title=data["title"],
                plans=list(data["plans"]),
                visibility=data["visibility"],
                groups=list(data.get("groups") or []),
                slug=data["slug"],
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        return data

    def tag_names(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]


class DecisionForm(forms.Form):
    """Approve or reject one pending request (a subscription or a signup), by id."""

    id = forms.CharField(max_length=32)
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    note = forms.CharField(max_length=500, required=False)
