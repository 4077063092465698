"""Who may open and change what in the console, checked over every URL of its URL conf."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from apis import models as m
from apis.console.permissions import Role, role_of
from apis.tests.console_support import (
    PASSWORD,
    World,
    allowed_methods,
    client_for,
    console_patterns,
    console_url,
    make_user,
    write_buttons,
)

ADMIN_ONLY_PAGES = {"audit", "domain_create", "domain_delete"}
EDITOR_ONLY_PAGES = {
    "api_create",
    "api_delete",
    "resource_cors",
    "model_create",
    "method_test",
    "deploy",
    "stage_delete",
    "plan_create",
    "plan_delete",
    "key_create",
    "key_import",
    "key_delete",
}


def _urls(world: World, method: str) -> list[tuple[str, str]]:
    return [(p.name, console_url(p, world)) for p in console_patterns() if method in allowed_methods(p)]


@pytest.mark.django_db
def test_role_defaults() -> None:
    assert role_of(make_user("su", superuser=True)) == Role.ADMIN
    assert role_of(make_user("plain-staff")) == Role.READONLY
    assert role_of(make_user("consumer", staff=False)) is None
    inactive = make_user("gone", group="console-admin")
    inactive.is_active = False
    assert role_of(inactive) is None
    both = make_user("both", group="console-readonly")
    both.groups.add(Group.objects.get(name="console-editor"))
    assert role_of(both) == Role.EDITOR


@pytest.mark.django_db
def test_the_data_migration_creates_the_role_groups() -> None:
    assert set(Group.objects.filter(name__startswith="console-").values_list("name", flat=True)) == {
        "console-admin",
        "console-editor",
        "console-readonly",
    }


def test_anonymous_visitors_are_sent_to_login_from_every_url(world: World) -> None:
    anonymous = Client()
    gets, posts = _urls(world, "GET"), _urls(world, "POST")
    assert len(gets) + len(posts) > 60
    responses = [(name, anonymous.get(url)) for name, url in gets] + [
        (name, anonymous.post(url)) for name, url in posts
    ]
    for name, response in responses:
        assert response.status_code == 302, name
        assert response["Location"].startswith("/console/login/?next="), name


def test_non_staff_users_get_403_on_every_url(world: World) -> None:
    consumer = client_for(make_user("consumer", staff=False))
    for name, url in _urls(world, "GET"):
        assert consumer.get(url).status_code == 403, name
    for name, url in _urls(world, "POST"):
        assert consumer.post(url, {"name": "x"}).status_code == 403, name


def test_read_only_owners_see_pages_without_write_buttons(world: World, readonly_console: Client) -> None:
    for name, url in _urls(world, "GET"):
        response = readonly_console.get(url, follow=True)
        if name in ADMIN_ONLY_PAGES | EDITOR_ONLY_PAGES:
            assert response.status_code == 403, name
            continue
        assert response.status_code == 200, name
        assert write_buttons(response.content.decode()) == [], name


def test_read_only_owners_get_403_on_every_post(world: World, readonly_console: Client) -> None:
    before = m.AuditEvent.objects.count()
    for name, url in _urls(world, "POST"):
        assert readonly_console.post(url, {"name": "x", "deployment_id": world.first.id}).status_code == 403, name
    assert m.AuditEvent.objects.count() == before
    assert m.RestApi.objects.filter(id=world.api.id).exists()


def test_editors_may_not_change_domains_or_read_the_audit_log(world: World, editor_console: Client) -> None:
    assert editor_console.get("/console/audit/").status_code == 403
    assert editor_console.get("/console/domains/").status_code == 200
    assert editor_console.post("/console/domains/new/", {"domain_name": "x.example.com"}).status_code == 403
    url = f"/console/domains/{world.domain.domain_name}/delete/"
    assert editor_console.post(url).status_code == 403
    assert m.DomainName.objects.filter(domain_name=world.domain.domain_name).exists()


def test_admins_open_every_page(world: World, admin_console: Client) -> None:
    for name, url in _urls(world, "GET"):
        response = admin_console.get(url)
        assert response.status_code in {200, 302}, (name, response.status_code)
        if response.status_code == 200:
            html = response.content.decode()
            assert '<meta charset="utf-8">' in html, name
            assert 'name="viewport"' in html, name


def test_post_only_urls_refuse_get(world: World, admin_console: Client) -> None:
    post_only = [(p.name, console_url(p, world)) for p in console_patterns() if allowed_methods(p) == ("POST",)]
    assert post_only
    for name, url in post_only:
        assert admin_console.get(url).status_code == 405, name


def test_htmx_requests_carry_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("csrf", group="console-editor"))
    page = client.get("/console/apis/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    refused = client.post("/console/apis/new/", {"mode": "new", "name": "No token", "endpoint_type": "REGIONAL"})
    assert refused.status_code == 403
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/console/apis/new/",
        {"mode": "new", "name": "With token", "endpoint_type": "REGIONAL"},
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 302


def test_server_errors_show_no_stack_trace(world: World, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from apis.console import selectors

    def explode(**_: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "rest_apis_search", explode)
    settings.DEBUG = False
    client = client_for(make_user("boom", group="console-editor"))
    client.raise_request_exception = False
    response = client.get("/console/apis/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "secret internals" not in body
    assert "Traceback" not in body
    assert "Something went wrong" in body


def test_missing_objects_are_404(admin_console: Client) -> None:
    assert admin_console.get("/console/apis/nosuchapi0/resources/").status_code == 404
    assert admin_console.get("/console/usage-plans/nope/").status_code == 404


def test_signing_in_and_out(db: None) -> None:
    make_user("sam", group="console-editor", password=PASSWORD)
    client = Client()
    page = client.get("/console/login/?next=/console/usage-plans/").content.decode()
    assert '<meta charset="utf-8">' in page
    wrong = client.post("/console/login/", {"username": "sam", "password": "nope"})
    assert wrong.status_code == 200
    assert "Please enter a correct username and password" in wrong.content.decode()
    right = client.post("/console/login/", {"username": "sam", "password": PASSWORD, "next": "/console/api-keys/"})
    assert right["Location"] == "/console/api-keys/"
    assert client.get("/console/apis/").status_code == 200
    assert client.post("/console/logout/")["Location"] == "/console/login/"
    assert client.get("/console/apis/").status_code == 302


def test_repeated_failed_sign_ins_are_refused_for_a_while(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.cache import cache

    monkeypatch.setattr("apis.console.views.auth.FAILURE_LIMIT", 3)
    cache.clear()
    make_user("target", group="console-admin", password=PASSWORD)
    client = Client()
    for _ in range(3):
        assert client.post("/console/login/", {"username": "target", "password": "guess"}).status_code == 200
    blocked = client.post("/console/login/", {"username": "target", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.content.decode()
    assert client.get("/console/apis/").status_code == 302
    cache.clear()
