"""Factories of the portal tests: consumers with a verified email, and a published API built through services."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from apis import models as am
from apis.services import deployments, design, keys
from portal import services
from portal.models import Listing, Visibility

PASSWORD = "Portal-pw-2468!"
JSON = "application/json"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"dev{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        self.save()
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class OwnerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"owner{n}")
    is_staff = True


@dataclass
class Published:
    """A deployed API stage with two plans on offer (Free at once, Gold on approval), published to the portal."""

    api: am.RestApi
    stage: am.Stage
    free: am.UsagePlan
    gold: am.UsagePlan
    listing: Listing


def build_api(owner: Any, name: str = "Weather", backend_url: str | None = None) -> am.RestApi:
    """Create an API with GET /hello (MOCK, key required) and, with a backend, ANY /echo/{proxy+} to it."""
    api = design.rest_api_create(owner=owner, name=name, description=f"{name} as a service")
    root = api.resources.get(parent=None)
    hello = design.resource_create(api=api, parent_id=root.id, path_part="hello")
    components_schema = {"type": "object", "properties": {"hello": {"type": "string"}}, "required": ["hello"]}
    from apis.services import components

    components.model_create(api=api, name="Greeting", content_type=JSON, schema=json.dumps(components_schema))
    method = design.method_put(
        resource=hello,
        http_method="GET",
        authorization_type="NONE",
        api_key_required=True,
        operation_name="SayHello",
        request_parameters={"method.request.querystring.name": False},
    )
    design.method_response_put(method=method, status_code="200", response_models={JSON: "Greeting"})
    integration = design.integration_put(method=method, type="MOCK", request_templates={JSON: '{"statusCode": 200}'})
    design.integration_response_put(
        integration=integration, status_code="200", response_templates={JSON: '{"hello": "world"}'}
    )
    if backend_url:
        echo = design.resource_create(api=api, parent_id=root.id, path_part="echo")
        proxy = design.resource_create(api=api, parent_id=echo.id, path_part="{proxy+}")
        method = design.method_put(
            resource=proxy,
            http_method="ANY",
            authorization_type="NONE",
            api_key_required=True,
            request_parameters={"method.request.path.proxy": True},
        )
        design.integration_put(
            method=method,
            type="HTTP_PROXY",
            http_method="ANY",
            uri=f"{backend_url}/{{proxy}}",
            request_parameters={"integration.request.path.proxy": "method.request.path.proxy"},
        )
    return api


def publish(
    owner: Any,
    *,
    name: str = "Weather",
    visibility: str = Visibility.PUBLIC,
    groups: tuple = (),
    tags: tuple[str, ...] = ("weather", "maps"),
    backend_url: str | None = None,
    summary: str = "",
) -> Published:
    api = build_api(owner, name, backend_url)
    deployments.deployment_create(api=api, stage_name="prod")
    stage = am.Stage.objects.get(rest_api=api, stage_name="prod")
    stages = [{"apiId": api.id, "stage": "prod"}]
    free = keys.usage_plan_create(
        owner=owner,
        name=f"{name} Free",
        api_stages=stages,
        throttle={"rateLimit": 5, "burstLimit": 10},
        quota={"limit": 1000, "period": "DAY"},
    )
    gold = keys.usage_plan_create(owner=owner, name=f"{name} Gold", api_stages=stages, throttle={"rateLimit": 100})
    listing = services.portal_publish(
        stage=stage,
        title=f"{name} API",
        summary=summary or f"Everything about {name}, for your apps.",
        tags=tags,
        plans=[free, gold],
        approval_plans=[gold],
        visibility=visibility,
        groups=groups,
    )
    return Published(api=api, stage=stage, free=free, gold=gold, listing=listing)
