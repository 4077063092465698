"""Developer portal data: settings, consumers and their groups, published API stages, subscriptions, key rotations."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from apis.models import new_api_id

MAX_GRACE_DAYS = 7


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


class SignupMode(models.TextChoices):
    OPEN = "open", "Open: anyone may sign up"
    INVITE = "invite", "Invite only"
    APPROVAL = "approval", "Open, with owner approval"


class PortalSettings(models.Model):
    """The portal's one row of owner-editable settings."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    signup_mode = models.CharField(max_length=16, choices=SignupMode.choices, default=SignupMode.OPEN)
    notification_email = models.EmailField(
        blank=True,
        default="",
        help_text="Also told about signups and subscription requests waiting for approval (besides the plan owner).",
    )

    class Meta:
        verbose_name = verbose_name_plural = "portal settings"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="portal_settings_single_row")]

    def __str__(self) -> str:
        return "Portal settings"


class ConsumerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PENDING = "pending", "Waiting for approval"
    REJECTED = "rejected", "Rejected"


class Consumer(models.Model):
    """A developer's portal account, beside their user: whether an owner has let them in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consumer")
    status = models.CharField(max_length=16, choices=ConsumerStatus.choices, default=ConsumerStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.user.email or self.user.get_username()


class Invitation(models.Model):
    """An invitation to sign up while the portal is invite-only."""

    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True, default=new_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email


class ConsumerGroup(models.Model):
    """Consumers a listing may be limited to."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True, default="")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="consumer_groups")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CatalogTag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Visibility(models.TextChoices):
    PUBLIC = "public", "Everyone"
    SIGNED_IN = "signed_in", "Signed-in consumers"
    GROUPS = "groups", "Members of the chosen consumer groups"


class Listing(models.Model):
    """An API stage published to the catalog, with the usage plans on offer."""

    stage = models.OneToOneField("apis.Stage", on_delete=models.CASCADE, related_name="listing")
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True, default="")
    description = models.TextField(blank=True, default="")
    tags = models.ManyToManyField(CatalogTag, blank=True, related_name="listings")
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    groups = models.ManyToManyField(ConsumerGroup, blank=True, related_name="listings")
    plans = models.ManyToManyField("apis.UsagePlan", through="ListingPlan", related_name="listings")
    published = models.BooleanField(default=True)
    published_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "slug"]

    def __str__(self) -> str:
        return self.title


class ListingPlan(models.Model):
    """A usage plan offered on a listing; subscribing may need an owner's approval."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="offers")
    usage_plan = models.ForeignKey("apis.UsagePlan", on_delete=models.CASCADE, related_name="offers")
    requires_approval = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["listing", "usage_plan"], name="listing_plan_unique")]


class SubscriptionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    ACTIVE = "active", "Active"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (SubscriptionStatus.PENDING, SubscriptionStatus.ACTIVE)


class Subscription(models.Model):
    """A consumer's subscription to a usage plan; while active, every key of theirs is in the plan."""

    id = models.CharField(primary_key=True, max_length=10, default=new_api_id, editable=False)
    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    usage_plan = models.ForeignKey("apis.UsagePlan", on_delete=models.CASCADE, related_name="subscriptions")
    listing = models.ForeignKey(Listing, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.PENDING)
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["consumer", "usage_plan"],
                condition=Q(status__in=OPEN_STATUSES),
                name="one_open_subscription_per_plan",
            )
        ]

    def __str__(self) -> str:
        return f"{self.consumer} → {self.usage_plan.name}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class KeyRotation(models.Model):
    """A rotated key's grace period: the old key keeps working until `expires_at`, then is disabled."""

    old_key = models.OneToOneField("apis.ApiKey", on_delete=models.CASCADE, related_name="rotation")
    new_key = models.ForeignKey("apis.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rotated_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expires_at"]


class SdkLanguage(models.TextChoices):
    """The SDK types Portico generates; the ids are AWS's GetSdk `sdkType` where AWS has the language."""

    PYTHON = "python", "Python"
    TYPESCRIPT = "typescript", "TypeScript"
    JAVA = "java", "Java"
    RUBY = "ruby", "Ruby"
    GO = "go", "Go"


class SdkBuildStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class SdkBuild(models.Model):
    """One generated client SDK of a stage's deployment in one language; the zip lies under VAR_DIR/sdks/."""

    deployment = models.ForeignKey("apis.Deployment", on_delete=models.CASCADE, related_name="sdk_builds")
    # The stage names the SDK's default base URL, so two stages on one deployment get builds of their own.
    stage_name = models.CharField(max_length=128)
    sdk_type = models.CharField(max_length=16, choices=SdkLanguage.choices)
    status = models.CharField(max_length=16, choices=SdkBuildStatus.choices, default=SdkBuildStatus.QUEUED)
    # The generator and templates a build was made with; a ready build of an older recipe is built again.
    recipe = models.CharField(max_length=200, blank=True, default="")
    error = models.TextField(blank=True, default="")
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deployment_id", "stage_name", "sdk_type"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "stage_name", "sdk_type"], name="sdk_build_unique")
        ]

    def __str__(self) -> str:
        return f"{self.sdk_type} SDK of {self.deployment_id}/{self.stage_name} ({self.status})"

    @property
    def error_summary(self) -> str:
        """The first line of the error: what consumers see (the tool's output may name server paths)."""
        return self.error.strip().splitlines()[0] if self.error.strip() else ""
