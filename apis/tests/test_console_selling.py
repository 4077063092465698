"""Console: usage plans (throttle, quota, API stages, per-method throttles, keys) and API keys."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apis import models as m
from apis.secrets import api_key_digest
from apis.services import keys
from apis.tests.console_support import World, form_errors_in

pytestmark = pytest.mark.django_db


def test_creating_a_plan_with_a_stage(editor_console: Client, world: World, editor) -> None:
    assert editor_console.get("/console/usage-plans/new/").status_code == 200
    response = editor_console.post(
        "/console/usage-plans/new/",
        {
            "name": "Silver",
            "rate_limit": "5",
            "burst_limit": "10",
            "quota_limit": "500",
            "quota_period": "DAY",
            "quota_offset": "0",
            "api_stage": f"{world.api.id}:dev",
        },
    )
    plan = m.UsagePlan.objects.get(name="Silver")
    assert response["Location"] == f"/console/usage-plans/{plan.id}/"
    assert plan.owner == editor
    assert plan.throttle == {"rateLimit": 5.0, "burstLimit": 10}
    assert plan.quota == {"limit": 500, "offset": 0, "period": "DAY"}
    assert plan.api_stages.get().stage_name == "dev"
    assert "Silver" in editor_console.get("/console/usage-plans/").content.decode()


def test_plan_errors_show_in_place(editor_console: Client) -> None:
    response = editor_console.post("/console/usage-plans/new/", {"name": "Half", "rate_limit": "5"})
    assert "Set both rate and burst, or neither." in response.content.decode()
    response = editor_console.post(
        "/console/usage-plans/new/", {"name": "Odd", "quota_limit": "5", "quota_period": "DAY", "quota_offset": "3"}
    )
    assert "Quota offset for period DAY must be between 0 and 0" in response.content.decode()
    assert not m.UsagePlan.objects.exists()


def test_editing_a_plan(editor_console: Client, world: World) -> None:
    url = f"/console/usage-plans/{world.plan.id}/"
    assert "Acme key" in editor_console.get(url).content.decode()
    editor_console.post(
        url,
        {"name": "Gold+", "rate_limit": "", "burst_limit": "", "quota_limit": "2000", "quota_period": "WEEK"},
    )
    world.plan.refresh_from_db()
    assert world.plan.name == "Gold+"
    assert world.plan.throttle is None
    assert world.plan.quota == {"limit": 2000, "offset": 0, "period": "WEEK"}
    editor_console.post(url, {"name": "Gold+", "rate_limit": "1", "burst_limit": "2", "quota_period": "WEEK"})
    world.plan.refresh_from_db()
    assert world.plan.throttle == {"rateLimit": 1.0, "burstLimit": 2}
    assert world.plan.quota is None


def test_adding_a_quota_to_a_plan_without_one(editor_console: Client, world: World) -> None:
    keys.usage_plan_update(plan=world.plan, patch_operations=[keys.PatchOp(op="remove", path="/quota")])
    url = f"/console/usage-plans/{world.plan.id}/"
    editor_console.post(url, {"name": "Gold", "quota_limit": "10", "quota_period": "DAY", "quota_offset": "0"})
    world.plan.refresh_from_db()
    assert world.plan.quota == {"limit": 10, "offset": 0, "period": "DAY"}


def test_plan_stages_and_method_throttles(editor_console: Client, world: World) -> None:
    base = f"/console/usage-plans/{world.plan.id}/stages/"
    link = world.plan_stage
    editor_console.post(
        f"{base}{link.pk}/throttles/", {"method": "GET /items/{id}", "rate_limit": "2", "burst_limit": "4"}
    )
    link.refresh_from_db()
    assert link.throttle == {"/items/{id}/GET": {"rateLimit": 2.0, "burstLimit": 4}}
    page = editor_console.get(f"/console/usage-plans/{world.plan.id}/").content.decode()
    assert "GET /items/{id}" in page
    editor_console.post(f"{base}{link.pk}/throttles/delete/", {"path": "/items/{id}", "verb": "GET"})
    link.refresh_from_db()
    assert link.throttle == {}
    editor_console.post(f"{base}remove/", {"api_stage": f"{world.api.id}:dev"})
    assert not world.plan.api_stages.exists()
    editor_console.post(base, {"api_stage": f"{world.api.id}:dev"})
    assert world.plan.api_stages.filter(stage_name="dev").exists()
    taken = editor_console.post(base, {"api_stage": f"{world.api.id}:dev"})
    assert form_errors_in(taken.content.decode())


def test_attaching_and_detaching_keys(editor_console: Client, world: World) -> None:
    other, _ = keys.api_key_create(name="Other", enabled=True)
    base = f"/console/usage-plans/{world.plan.id}/keys/"
    editor_console.post(base, {"key_id": other.id})
    assert world.plan.plan_keys.filter(api_key=other).exists()
    editor_console.post(f"{base}{other.id}/remove/")
    assert not world.plan.plan_keys.filter(api_key=other).exists()
    assert m.AuditEvent.objects.filter(operation="DeleteUsagePlanKey", status=200).exists()


def test_deleting_a_plan(editor_console: Client, world: World) -> None:
    url = f"/console/usage-plans/{world.plan.id}/delete/"
    assert "1 API key(s) lose the access" in editor_console.get(url).content.decode()
    editor_console.post(url)
    assert not m.UsagePlan.objects.filter(pk=world.plan.pk).exists()


def test_a_created_key_shows_its_value_once(editor_console: Client, world: World) -> None:
    assert editor_console.get("/console/api-keys/new/").status_code == 200
    response = editor_console.post(
        "/console/api-keys/new/",
        {"name": "Partner", "enabled": "on", "customer_id": "c-1", "usage_plan": world.plan.id},
    )
    assert response.status_code == 200
    key = m.ApiKey.objects.get(name="Partner")
    value = response.context["value"]
    assert key.value_digest == api_key_digest(value)
    assert value in response.content.decode()
    assert 'data-copy="#copy-key-value"' in response.content.decode()
    assert world.plan.plan_keys.filter(api_key=key).exists()
    assert value not in editor_console.get(f"/console/api-keys/{key.id}/").content.decode()
    assert value not in editor_console.get("/console/api-keys/").content.decode()


def test_a_key_value_that_is_too_short_is_a_field_error(editor_console: Client) -> None:
    response = editor_console.post("/console/api-keys/new/", {"name": "Short", "value": "abc"})
    assert form_errors_in(response.content.decode())
    assert not m.ApiKey.objects.filter(name="Short").exists()


def test_a_duplicate_key_value_is_reported(editor_console: Client, world: World) -> None:
    response = editor_console.post("/console/api-keys/new/", {"name": "Copy", "value": world.key_value})
    assert "API Key already exists" in response.content.decode()


def test_importing_keys_from_csv(editor_console: Client, world: World) -> None:
    csv = (
        "name,key,description,enabled,usageplanIds\n"
        f"Imported,{'k' * 30},from csv,true,{world.plan.id}\n"
        "Broken,short,,true,\n"
    )
    upload = SimpleUploadedFile("keys.csv", csv.encode(), content_type="text/csv")
    response = editor_console.post("/console/api-keys/import/", {"file": upload})
    page = response.content.decode()
    assert "Imported 1 key(s)." in page
    assert "Line 3:" in page
    imported = m.ApiKey.objects.get(name="Imported")
    assert world.plan.plan_keys.filter(api_key=imported).exists()
    strict = SimpleUploadedFile("keys.csv", b"name,key\nX,short\n", content_type="text/csv")
    response = editor_console.post("/console/api-keys/import/", {"file": strict, "fail_on_warnings": "on"})
    assert "Line 2: API Key value should be at least 20" in response.content.decode()
    assert not m.ApiKey.objects.filter(name="X").exists()


def test_enabling_disabling_and_editing_keys(editor_console: Client, world: World) -> None:
    editor_console.post(f"/console/api-keys/{world.key.id}/enabled/", {"enabled": "false"})
    world.key.refresh_from_db()
    assert world.key.enabled is False
    response = editor_console.post(
        f"/console/api-keys/{world.key.id}/enabled/", {"enabled": "true", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/console/api-keys/"
    world.key.refresh_from_db()
    assert world.key.enabled is True
    editor_console.post(f"/console/api-keys/{world.key.id}/", {"name": "Acme", "description": "d", "customer_id": "c9"})
    world.key.refresh_from_db()
    assert (world.key.name, world.key.description, world.key.customer_id, world.key.enabled) == (
        "Acme",
        "d",
        "c9",
        False,
    )
    assert "Acme" in editor_console.get("/console/api-keys/", {"q": "acm"}).content.decode()


def test_deleting_a_key(editor_console: Client, world: World) -> None:
    url = f"/console/api-keys/{world.key.id}/delete/"
    assert "403 Forbidden" in editor_console.get(url).content.decode()
    editor_console.post(url)
    assert not m.ApiKey.objects.filter(pk=world.key.pk).exists()
