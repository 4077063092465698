"""Portal forms. Each takes only what a consumer may choose; ownership, status and key values are set by services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth.hashers import check_password

from apis import models as am

GRACE_CHOICES = [
    (0, "None: the old key stops at once"),
    (1, "1 hour"),
    (24, "1 day"),
    (72, "3 days"),
    (168, "7 days"),
]


class CatalogSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    tag = forms.SlugField(required=False, max_length=50)


class SubscribeForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=am.UsagePlan.objects.none(), widget=forms.HiddenInput)

    def __init__(self, *args: Any, listing: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = am.UsagePlan.objects.filter(offers__listing=listing)


class KeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, label="Key name", help_text="For example the app or machine that uses it.")


class KeyRotateForm(forms.Form):
    grace_hours = forms.TypedChoiceField(
        choices=GRACE_CHOICES,
        coerce=int,
        initial=24,
        label="Grace period",
        help_text="How long the old key keeps working beside the new one.",
    )

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.cleaned_data["grace_hours"])


class AccountDeleteForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    confirm = forms.BooleanField(label="I understand that my keys stop working and my subscriptions end.")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not check_password(password, self.user.password):
            raise forms.ValidationError("That is not your password.")
        return password
