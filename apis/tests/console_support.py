"""Fixtures and helpers of the console tests: users per role, signed-in clients, and a world built via services."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, get_resolver

from apis import models as m
from apis.console.permissions import ADMIN_GROUP, EDITOR_GROUP, READONLY_GROUP
from apis.services import access, components, deployments, design, domains, keys, scaffolding

PASSWORD = "pw-console-123"
AUTHORIZER_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:123456789012:function:auth/invocations"
)


def make_user(
    username: str,
    *,
    staff: bool = True,
    group: str | None = None,
    superuser: bool = False,
    password: str | None = None,
) -> Any:
    """Create a user; without `password` it cannot sign in with one (tests use force_login, which is fast)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username, f"{username}@example.com", password, is_staff=staff, is_superuser=superuser
    )
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(db: None) -> Any:
    return make_user("ada", group=ADMIN_GROUP)


@pytest.fixture
def editor(db: None) -> Any:
    return make_user("eddie", group=EDITOR_GROUP)


@pytest.fixture
def readonly(db: None) -> Any:
    return make_user("rita", group=READONLY_GROUP)


@pytest.fixture
def admin_console(admin: Any) -> Client:
    return client_for(admin)


@pytest.fixture
def editor_console(editor: Any) -> Client:
    return client_for(editor)


@pytest.fixture
def readonly_console(readonly: Any) -> Client:
    return client_for(readonly)


@dataclass
class World:
    """One of everything the console shows, so every URL of the console can be filled in."""

    api: m.RestApi
    root: m.Resource
    item: m.Resource  # /items/{id} with a GET MOCK method
    method: m.Method
    stage: m.Stage
    first: m.Deployment
    second: m.Deployment
    validator: m.RequestValidator
    plan: m.UsagePlan
    plan_stage: m.UsagePlanStage
    key: m.ApiKey
    key_value: str
    domain: m.DomainName
    access_key: m.AccessKey
    authorizer: m.Authorizer

    def url_kwargs(self) -> dict[str, str]:
        return {
            "api_id": self.api.id,
            "resource_id": self.item.id,
            "http_method": "GET",
            "status_code": "200",
            "name": "Empty",
            "validator_id": self.validator.id,
            "stage_name": self.stage.stage_name,
            "plan_id": self.plan.id,
            "link_id": str(self.plan_stage.pk),
            "key_id": self.key.id,
            "domain_name": self.domain.domain_name,
            "access_key_id": self.access_key.access_key_id,
            "authorizer_id": self.authorizer.id,
            "response_type": "DEFAULT_4XX",
        }


def build_world(owner: Any) -> World:
    api = design.rest_api_create(owner=owner, name="Shop", description="Shop API")
    root = m.Resource.objects.get(rest_api=api, parent=None)
    items = design.resource_create(api=api, parent_id=root.id, path_part="items")
    item = design.resource_create(api=api, parent_id=items.id, path_part="{id}")
    method = scaffolding.method_create_with_integration(resource=item, http_method="GET", integration_type="MOCK")
    validator = components.request_validator_create(api=api, name="body", validate_request_body=True)
    first = deployments.deployment_create(api=api, description="first", stage_name="dev")
    design.resource_create(api=api, parent_id=root.id, path_part="orders")
    second = deployments.deployment_create(api=api, description="second", stage_name="dev")
    stage = m.Stage.objects.get(rest_api=api, stage_name="dev")
    key, value = keys.api_key_create(owner=owner, name="Acme key", enabled=True)
    plan = keys.usage_plan_create(
        owner=owner,
        name="Gold",
        api_stages=[{"apiId": api.id, "stage": "dev"}],
        throttle={"rateLimit": 10, "burstLimit": 20},
        quota={"limit": 1000, "period": "MONTH"},
    )
    keys.usage_plan_key_create(plan=plan, key_id=key.id)
    domain = domains.domain_name_create(domain_name="api.example.com")
    domains.base_path_mapping_create(domain=domain, rest_api_id=api.id, base_path="shop", stage="dev")
    access_key, _secret = access.access_key_create(user=owner, description="ci")
    authorizer = components.authorizer_create(
        api=api,
        name="tokens",
        type="TOKEN",
        authorizer_uri=AUTHORIZER_URI,
        identity_source="method.request.header.Authorization",
    )
    return World(
        api=api,
        root=root,
        item=item,
        method=method,
        stage=stage,
        first=first,
        second=second,
        validator=validator,
        plan=plan,
        plan_stage=plan.api_stages.get(),
        key=key,
        key_value=value,
        domain=domain,
        access_key=access_key,
        authorizer=authorizer,
    )


@pytest.fixture
def world(admin: Any) -> World:
    return build_world(admin)


def console_patterns() -> list[URLPattern]:
    """Return every URL pattern of the console except login and logout."""
    resolver = get_resolver()
    patterns: list[URLPattern] = []
    for entry in resolver.url_patterns:
        if getattr(entry, "namespace", None) == "console":
            patterns = [p for p in entry.url_patterns if p.name not in {"login", "logout"}]
    assert patterns, "the console's URLs are not mounted"
    return patterns


def console_url(pattern: URLPattern, world: World) -> str:
    from django.urls import reverse

    names = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))
    kwargs = world.url_kwargs()
    return reverse(f"console:{pattern.name}", kwargs={name: kwargs[name] for name in names})


def allowed_methods(pattern: URLPattern) -> tuple[str, ...]:
    return pattern.callback.console_methods


class _WriteButtons(HTMLParser):
    """Collect submit buttons inside POST forms, except the sign-out form."""

    def __init__(self) -> None:
        super().__init__()
        self.form: dict[str, str] | None = None
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.form = values
        elif self.form is not None and self.form.get("method", "get").lower() == "post":
            if "/logout/" in self.form.get("action", ""):
                return
            is_submit = (tag == "button" and values.get("type", "submit") == "submit") or (
                tag == "input" and values.get("type") == "submit"
            )
            if is_submit:
                self.found.append(self.form.get("action", "(this page)"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None


def write_buttons(html: str) -> list[str]:
    parser = _WriteButtons()
    parser.feed(html)
    return parser.found


def form_errors_in(html: str) -> bool:
    return "invalid-feedback" in html or 'class="alert alert-danger"' in html
