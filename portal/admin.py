"""Django admin for the portal until the console has pages for it: settings, publishing, approvals, invitations.

Every change that has a service goes through it, so admin edits behave like the console and portal ones.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from apis import models as am
from portal import services
from portal.models import (
    Consumer,
    ConsumerGroup,
    ConsumerStatus,
    Invitation,
    KeyRotation,
    Listing,
    PortalSettings,
    Subscription,
    SubscriptionStatus,
)


@admin.register(PortalSettings)
class PortalSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "signup_mode", "notification_email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not PortalSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _each(request: HttpRequest, queryset: QuerySet, action: Any, done: str) -> None:
    count = 0
    for item in queryset:
        try:
            action(item)
            count += 1
        except ValidationError as exc:
            messages.error(request, f"{item}: {' '.join(exc.messages)}")
    if count:
        messages.success(request, f"{done}: {count}.")


@admin.register(Consumer)
class ConsumerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["user__email", "user__username"]
    readonly_fields = ["user", "status", "created_at", "decided_at"]
    actions = ["approve", "reject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Approve the selected signups")
    def approve(self, request: HttpRequest, queryset: QuerySet[Consumer]) -> None:
        _each(request, queryset.select_related("user"), lambda c: services.consumer_approve(consumer=c), "Approved")

    @admin.action(description="Reject the selected signups")
    def reject(self, request: HttpRequest, queryset: QuerySet[Consumer]) -> None:
        pending = queryset.filter(status=ConsumerStatus.PENDING).select_related("user")
        _each(request, pending, lambda c: services.consumer_reject(consumer=c), "Rejected")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "invited_by", "created_at", "accepted_at"]
    search_fields = ["email"]
    fields = ["email"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None

    def save_model(self, request: HttpRequest, obj: Invitation, form: Any, change: bool) -> None:
        created = services.invitation_create(email=obj.email, invited_by=request.user)
        obj.pk = created.pk


@admin.register(ConsumerGroup)
class ConsumerGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    filter_horizontal = ["members"]


class ListingForm(forms.ModelForm):
    tag_names = forms.CharField(required=False, label="Tags", help_text="Comma-separated, e.g. payments, maps")
    offered_plans = forms.ModelMultipleChoiceField(
        queryset=am.UsagePlan.objects.all(), required=False, label="Usage plans on offer"
    )
    approval_plans = forms.ModelMultipleChoiceField(
        queryset=am.UsagePlan.objects.all(),
        required=False,
        label="Plans that need approval",
        help_text="Subscriptions to these wait for an owner; the others start at once.",
    )

    class Meta:
        model = Listing
        fields = ["stage", "slug", "title", "summary", "description", "visibility", "groups", "published"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["stage"].queryset = am.Stage.objects.select_related("rest_api")
        self.fields["stage"].label_from_instance = lambda s: f"{s.rest_api.name} ({s.rest_api_id}) / {s.stage_name}"
        if self.instance.pk:
            self.fields["tag_names"].initial = ", ".join(t.name for t in self.instance.tags.all())
            self.fields["offered_plans"].initial = list(self.instance.plans.all())
            self.fields["approval_plans"].initial = [
                o.usage_plan for o in self.instance.offers.filter(requires_approval=True)
            ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        services.portal_publish_check(
            stage=data["stage"],
            title=data.get("title") or "",
            plans=list(data.get("offered_plans") or []),
            visibility=data.get("visibility") or "",
            groups=list(data.get("groups") or []),
            slug=data.get("slug") or "",
        )
        return data

    def validate_unique(self) -> None:
        """Uniqueness is the service's concern (it reuses a stage's listing and picks free slugs)."""


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    form = ListingForm
    list_display = ["title", "slug", "stage", "visibility", "published", "updated_at"]
    list_filter = ["visibility", "published", "tags"]
    search_fields = ["title", "summary", "slug"]
    filter_horizontal = ["groups"]

    def save_model(self, request: HttpRequest, obj: Listing, form: Any, change: bool) -> None:
        data = form.cleaned_data
        listing = services.portal_publish(
            stage=data["stage"],
            title=data["title"],
            summary=data.get("summary") or "",
            description=data.get("description") or "",
            tags=[t for t in (data.get("tag_names") or "").split(",") if t.strip()],
            plans=list(data.get("offered_plans") or []),
            approval_plans=list(data.get("approval_plans") or []),
            visibility=data["visibility"],
            groups=list(data.get("groups") or []),
            slug=data.get("slug") or "",
        )
        if not data.get("published"):
            services.portal_unpublish(listing=listing)
        obj.pk = listing.pk
        form.instance = listing

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """portal_publish has set tags, groups and plans already."""


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["id", "consumer", "usage_plan", "status", "requested_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["consumer__email", "usage_plan__name", "id"]
    readonly_fields = [f.name for f in Subscription._meta.fields]
    actions = ["approve", "reject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Approve the selected pending subscriptions")
    def approve(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        pending = queryset.filter(status=SubscriptionStatus.PENDING).select_related("consumer", "usage_plan")
        _each(request, pending, lambda s: services.subscription_approve(subscription=s, by=request.user), "Approved")

    @admin.action(description="Reject the selected pending subscriptions")
    def reject(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        pending = queryset.filter(status=SubscriptionStatus.PENDING).select_related("consumer", "usage_plan")
        _each(request, pending, lambda s: services.subscription_reject(subscription=s, by=request.user), "Rejected")


@admin.register(KeyRotation)
class KeyRotationAdmin(admin.ModelAdmin):
    list_display = ["old_key", "new_key", "consumer", "rotated_at", "expires_at", "expired_at"]
    readonly_fields = ["old_key", "new_key", "consumer", "rotated_at", "expires_at", "expired_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
