"""Control-plane models, shaped and named like Amazon API Gateway's REST API resources."""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import models

ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id(length: int = 10) -> str:
    """Return an AWS-style identifier of lowercase alphanumerics."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


def new_api_id() -> str:
    return new_id(10)


def new_short_id() -> str:
    return new_id(6)


class ApiKeySource(models.TextChoices):
    HEADER = "HEADER"
    AUTHORIZER = "AUTHORIZER"


class ThrottlingFailMode(models.TextChoices):
    """What gateways do with a stage's requests while the throttle/quota counter store is failing."""

    OPEN = "open"  # serve them, uncounted
    CLOSED = "closed"  # refuse them: 503 with Retry-After
    LOCAL = "local"  # throttle them in each gateway process, at its share of the limits


class RestApi(models.Model):
    id = models.CharField(primary_key=True, max_length=10, default=new_api_id, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="rest_apis"
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    version = models.CharField(max_length=64, blank=True, default="")
    api_key_source = models.CharField(max_length=16, choices=ApiKeySource.choices, default=ApiKeySource.HEADER)
    binary_media_types = models.JSONField(default=list, blank=True)
    minimum_compression_size = models.IntegerField(null=True, blank=True)
    endpoint_configuration = models.JSONField(default=dict, blank=True)
    disable_execute_api_endpoint = models.BooleanField(default=False)
    policy = models.TextField(blank=True, default="")
    created_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_date", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class Resource(models.Model):
    id = models.CharField(primary_key=True, max_length=10, default=new_short_id, editable=False)
    rest_api = models.ForeignKey(RestApi, on_delete=models.CASCADE, related_name="resources")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    path_part = models.CharField(max_length=255, blank=True, default="")
    path = models.CharField(max_length=2048)

    class Meta:
        ordering = ["path", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rest_api", "path"], name="resource_path_unique_per_api"),
        ]

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def is_variable(self) -> bool:
        return self.path_part.startswith("{") and self.path_part.endswith("}")

    @property
    def is_greedy(self) -> bool:
        return self.path_part.endswith("+}")


class RequestValidator(models.Model):
    id = models.CharField(primary_key=True, max_length=10, default=new_short_id, editable=False)
    rest_api = models.ForeignKey(RestApi, on_delete=models.CASCADE, related_name="request_validators")
    name = models.CharField(max_length=255, blank=True, default="")
    validate_request_body = models.BooleanField(default=False)
    validate_request_parameters = models.BooleanField(default=False)

    class Meta:
        ordering = ["name", "id"]


class Authorizer(models.Model):
    id = models.CharField(primary_key=True, max_length=10, default=new_short_id, editable=False)
    rest_api = models.ForeignKey(RestApi, on_delete=models.CASCADE, related_name="authorizers")
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=32)  # TOKEN | REQUEST | COGNITO_USER_POOLS
    provider_arns = models.JSONField(default=list, blank=True)
    auth_type = models.CharField(max_length=64, blank=True, default="")
    authorizer_uri = models.TextField(blank=True, default="")
    authorizer_credentials = models.TextField(blank=True, default="")
    identity_source = models.TextField(blank=True, default="")
    identity_validation_expression = models.TextField(blank=True, default="")
    authorizer_result_ttl_in_seconds = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["rest_api", "name"], name="authorizer_name_unique")]


class Method(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="methods")
    http_method = models.CharField(max_length=10)
    authorization_type = models.CharField(max_length=32, default="NONE")
    authorizer = models.ForeignKey(Authorizer, null=True, blank=True, on_delete=models.SET_NULL)
    api_key_required = models.BooleanField(default=False)
    operation_name = models.CharField(max_length=255, blank=True, default="")
    request_parameters = models.JSONField(default=dict, blank=True)
    request_models = models.JSONField(default=dict, blank=True)
    request_validator = models.ForeignKey(RequestValidator, null=True, blank=True, on_delete=models.SET_NULL)
    authorization_scopes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["http_method"]
        constraints = [models.UniqueConstraint(fields=["resource", "http_method"], name="method_unique")]


class MethodResponse(models.Model):
    method = models.ForeignKey(Method, on_delete=models.CASCADE, related_name="method_responses")
    status_code = models.CharField(max_length=3)
    response_parameters = models.JSONField(default=dict, blank=True)
    response_models = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["status_code"]
        constraints = [models.UniqueConstraint(fields=["method", "status_code"], name="method_response_unique")]


class Integration(models.Model):
    method = models.OneToOneField(Method, on_delete=models.CASCADE, related_name="integration")
    type = models.CharField(max_length=16)  # HTTP | HTTP_PROXY | AWS | AWS_PROXY | MOCK
    http_method = models.CharField(max_length=10, blank=True, default="")
    uri = models.TextField(blank=True, default="")
    connection_type = models.CharField(max_length=16, default="INTERNET")
    connection_id = models.CharField(max_length=255, blank=True, default="")
    credentials = models.TextField(blank=True, default="")
    request_parameters = models.JSONField(default=dict, blank=True)
    request_templates = models.JSONField(default=dict, blank=True)
    passthrough_behavior = models.CharField(max_length=32, default="WHEN_NO_MATCH")
    content_handling = models.CharField(max_length=32, blank=True, default="")
    timeout_in_millis = models.IntegerField(default=29000)
    cache_namespace = models.CharField(max_length=255, blank=True, default="")
    cache_key_parameters = models.JSONField(default=list, blank=True)
    tls_config = models.JSONField(null=True, blank=True)


class IntegrationResponse(models.Model):
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="integration_responses")
    status_code = models.CharField(max_length=3)
    selection_pattern = models.TextField(null=True, blank=True)
    response_parameters = models.JSONField(default=dict, blank=True)
    response_templates = models.JSONField(default=dict, blank=True)
    content_handling = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["status_code"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "status_code"], name="integration_response_unique")
        ]


class Model(models.Model):
    id = models.CharField(primary_key=True, max_length=10, default=new_short_id, editable=False)
    rest_api = models.ForeignKey(RestApi, on_delete=models.CASCADE, related_name="models")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    content_type = models.CharField(max_length=255, default="application/json")
    schema = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["rest_api", "name"], name="model_name_unique")]


class GatewayResponse(models.Model):
    rest_api = models.ForeignKey(RestApi, on_delete=models.CASCADE, related_name="gateway_responses")
    response_type = models.CharField(max_length=64)
    status_code = models.CharField(max_length=3, blank=True, default="")
    response_parameters = models.JSONField(default=dict, blank=True)
    response_templates = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["response_type"]
        constraints = [models.UniqueConstraint(fields=["rest_api", "response_type"], name="gateway_response_unique")]


class Deployment(models.Model):
    """An immutable snapshot of a whole API, as stages serve it."""

    id = models.CharField(primary_key=True, max_length=10, default=new_short_id, editable=False)
    rest_api = models.ForeignKey(RestApi, on_delete=models.CASCADE, related_name="deployments")
    description = models.TextField(blank=True, default="")
    created_date = models.DateTimeField(auto_now_add=True)
    snapshot = models.JSONField()

    class Meta:
        ordering = ["created_date", "id"]


class Stage(models.Model):
    rest_api = models.ForeignKey(RestApi, on_delete=models.CASCADE, related_name="stages")
    stage_name = models.CharField(max_length=128)
    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="stages")
    description = models.TextField(blank=True, default="")
    variables = models.JSONField(default=dict, blank=True)
    method_settings = models.JSONField(default=dict, blank=True)
    cache_cluster_enabled = models.BooleanField(default=False)
    cache_cluster_size = models.CharField(max_length=8, blank=True, default="")
    tracing_enabled = models.BooleanField(default=False)
    access_log_settings = models.JSONField(null=True, blank=True)
    canary_settings = models.JSONField(null=True, blank=True)
    client_certificate_id = models.CharField(max_length=32, blank=True, default="")
    documentation_version = models.CharField(max_length=64, blank=True, default="")
    created_date = models.DateTimeField(auto_now_add=True)
    last_updated_date = models.DateTimeField(auto_now=True)
    # Grows on every change the gateway must see; gateways reload a stage when it moves.
    revision = models.BigIntegerField(default=1)
    # Portico's own setting (DESIGN §5), patched at /throttlingFailMode.
    throttling_fail_mode = models.CharField(
        max_length=8, choices=ThrottlingFailMode.choices, default=ThrottlingFailMode.OPEN
    )

    class Meta:
        ordering = ["stage_name"]
        constraints = [models.UniqueConstraint(fields=["rest_api", "stage_name"], name="stage_name_unique")]


class ApiKey(models.Model):
    """A consumer credential; only a keyed digest and an encrypted copy of the value are stored."""

    id = models.CharField(primary_key=True, max_length=10, default=new_api_id, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="api_keys"
    )
    name = models.CharField(max_length=1024)
    description = models.TextField(blank=True, default="")
    enabled = models.BooleanField(default=False)
    customer_id = models.CharField(max_length=255, blank=True, default="")
    value_digest = models.CharField(max_length=64, unique=True)
    value_encrypted = models.TextField()
    stage_keys = models.JSONField(default=list, blank=True)
    created_date = models.DateTimeField(auto_now_add=True)
    last_updated_date = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]


class UsagePlan(models.Model):
    id = models.CharField(primary_key=True, max_length=10, default=new_short_id, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="usage_plans"
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    throttle = models.JSONField(null=True, blank=True)  # {"burstLimit": int, "rateLimit": float}
    quota = models.JSONField(null=True, blank=True)  # {"limit": int, "offset": int, "period": DAY|WEEK|MONTH}
    product_code = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["name", "id"]


class UsagePlanStage(models.Model):
    usage_plan = models.ForeignKey(UsagePlan, on_delete=models.CASCADE, related_name="api_stages")
    rest_api = models.ForeignKey(RestApi, on_delete=models.CASCADE, related_name="usage_plan_stages")
    stage_name = models.CharField(max_length=128)
    # Per-method limits keyed "{resourcePath}/{httpMethod}": {"burstLimit": int, "rateLimit": float}.
    throttle = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["usage_plan", "rest_api", "stage_name"], name="usage_plan_stage_unique")
        ]


class UsagePlanKey(models.Model):
    usage_plan = models.ForeignKey(UsagePlan, on_delete=models.CASCADE, related_name="plan_keys")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="plan_links")
    created_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["usage_plan", "api_key"], name="usage_plan_key_unique")]


class QuotaAdjustment(models.Model):
    """An UpdateUsage change of what is left of a key's quota in one period.

    GetUsage, the console and the portal count down from it. With Redis the control plane has also changed
    the shared counter; in the embedded mode the gateway reads these through the runtime config and applies
    each one once to its own counters.
    """

    usage_plan = models.ForeignKey(UsagePlan, on_delete=models.CASCADE, related_name="quota_adjustments")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="quota_adjustments")
    period_start = models.DateTimeField()
    remaining = models.BigIntegerField()
    created_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class DomainName(models.Model):
    domain_name = models.CharField(primary_key=True, max_length=253)
    certificate_name = models.CharField(max_length=255, blank=True, default="")
    certificate_arn = models.CharField(max_length=2048, blank=True, default="")
    regional_certificate_name = models.CharField(max_length=255, blank=True, default="")
    regional_certificate_arn = models.CharField(max_length=2048, blank=True, default="")
    endpoint_configuration = models.JSONField(default=dict, blank=True)
    security_policy = models.CharField(max_length=16, default="TLS_1_2")
    created_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain_name"]


class BasePathMapping(models.Model):
    domain_name = models.ForeignKey(DomainName, on_delete=models.CASCADE, related_name="mappings")
    base_path = models.CharField(max_length=1024, blank=True, default="")  # "" is AWS's "(none)"
    rest_api = models.ForeignKey(RestApi, on_delete=models.CASCADE, related_name="base_path_mappings")
    stage = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["base_path"]
        constraints = [models.UniqueConstraint(fields=["domain_name", "base_path"], name="base_path_unique_per_domain")]


class Tag(models.Model):
    resource_arn = models.CharField(max_length=2048, db_index=True)
    key = models.CharField(max_length=128)
    value = models.CharField(max_length=256, blank=True, default="")

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["resource_arn", "key"], name="tag_key_unique")]


class AccessKey(models.Model):
    """A SigV4 credential an owner uses with boto3 or the AWS CLI against the management API."""

    access_key_id = models.CharField(primary_key=True, max_length=128)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_keys")
    secret_encrypted = models.TextField()
    description = models.CharField(max_length=255, blank=True, default="")
    created_date = models.DateTimeField(auto_now_add=True)
    last_used_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_date"]


class AuditEvent(models.Model):
    """One management change: who, when, what, on which target, and how it ended."""

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    access_key_id = models.CharField(max_length=128, blank=True, default="")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    operation = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=2048, blank=True, default="")
    status = models.PositiveSmallIntegerField()
    error_type = models.CharField(max_length=64, blank=True, default="")
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-time", "-id"]


class ConfigVersion(models.Model):
    """A single row whose number grows whenever the runtime config the gateways serve changes."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)
