"""Console: custom domains and base path mappings, management access keys, and the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from apis import models as m
from apis.secrets import decrypt
from apis.services.access import audit_record
from apis.tests.console_support import World, client_for, make_user

pytestmark = pytest.mark.django_db


def test_admins_add_domains_and_mappings(admin_console: Client, world: World) -> None:
    assert admin_console.get("/console/domains/new/").status_code == 200
    response = admin_console.post(
        "/console/domains/new/",
        {"domain_name": "Pets.Example.com", "endpoint_type": "REGIONAL", "security_policy": "TLS_1_2"},
    )
    assert response["Location"] == "/console/domains/pets.example.com/"
    domain = m.DomainName.objects.get(domain_name="pets.example.com")
    assert domain.endpoint_configuration == {"types": ["REGIONAL"]}
    admin_console.post("/console/domains/pets.example.com/", {"base_path": "v1", "target": f"{world.api.id}:dev"})
    mapping = domain.mappings.get()
    assert (mapping.base_path, mapping.rest_api_id, mapping.stage) == ("v1", world.api.id, "dev")
    clash = admin_console.post(
        "/console/domains/pets.example.com/", {"base_path": "v1", "target": f"{world.api.id}:dev"}
    )
    assert "Base path already exists for this domain name" in clash.content.decode()
    admin_console.post("/console/domains/pets.example.com/mappings/delete/", {"base_path": "v1"})
    assert not domain.mappings.exists()
    assert "pets.example.com" in admin_console.get("/console/domains/").content.decode()


def test_an_invalid_domain_name_is_shown_on_the_field(admin_console: Client) -> None:
    response = admin_console.post(
        "/console/domains/new/", {"domain_name": "not a domain", "endpoint_type": "EDGE", "security_policy": "TLS_1_2"}
    )
    assert "Invalid domain name specified: not a domain" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


def test_deleting_a_domain(admin_console: Client, world: World) -> None:
    url = f"/console/domains/{world.domain.domain_name}/delete/"
    assert "This cannot be undone" in admin_console.get(url).content.decode()
    admin_console.post(url)
    assert not m.DomainName.objects.exists()
    assert m.AuditEvent.objects.filter(operation="DeleteDomainName", target="/domainnames/api.example.com").exists()


def test_access_keys_show_the_secret_once(editor_console: Client, editor) -> None:
    response = editor_console.post("/console/access-keys/", {"description": "laptop"})
    assert response.status_code == 200
    key = m.AccessKey.objects.get(user=editor)
    secret = response.context["secret"]
    assert decrypt(key.secret_encrypted) == secret
    assert secret in response.content.decode()
    page = editor_console.get("/console/access-keys/").content.decode()
    assert key.access_key_id in page
    assert secret not in page
    editor_console.post(f"/console/access-keys/{key.access_key_id}/delete/")
    assert not m.AccessKey.objects.filter(pk=key.pk).exists()


def test_owners_see_and_delete_only_their_own_access_keys(editor_console: Client, world: World) -> None:
    foreign = world.access_key  # belongs to the admin
    assert foreign.access_key_id not in editor_console.get("/console/access-keys/").content.decode()
    assert editor_console.post(f"/console/access-keys/{foreign.access_key_id}/delete/").status_code == 404
    assert m.AccessKey.objects.filter(pk=foreign.pk).exists()


def test_admins_see_every_access_key(admin_console: Client, world: World, editor) -> None:
    from apis.services.access import access_key_create

    theirs, _ = access_key_create(user=editor)
    assert theirs.access_key_id in admin_console.get("/console/access-keys/").content.decode()


def test_console_writes_and_failures_land_in_the_audit_log(editor_console: Client, world: World) -> None:
    editor_console.post(f"/console/apis/{world.api.id}/stages/dev/variables/", {"name": "a", "value": "b"})
    editor_console.post(f"/console/apis/{world.api.id}/stages/dev/rollback/", {"deployment_id": "nope"})
    events = m.AuditEvent.objects.filter(operation="UpdateStage").order_by("time", "id")
    assert [(e.status, e.error_type) for e in events] == [(200, ""), (400, "BadRequestException")]
    assert str(events[0].source_ip) == "127.0.0.1"


def test_the_audit_log_filters(admin_console: Client, admin, world: World) -> None:
    other = make_user("otto", group="console-editor")
    audit_record(user=admin, operation="CreateRestApi", target=f"/restapis/{world.api.id}", status=201)
    audit_record(user=other, operation="DeleteApiKey", target="/apikeys/k1", status=202)
    old = audit_record(user=other, operation="DeleteApiKey", target="/apikeys/k0", status=202)
    m.AuditEvent.objects.filter(pk=old.pk).update(time=timezone.now() - dt.timedelta(days=3))

    page = admin_console.get("/console/audit/").content.decode()
    assert "/apikeys/k1" in page and f"/restapis/{world.api.id}" in page
    by_user = admin_console.get("/console/audit/", {"user": other.pk}).content.decode()
    assert "/apikeys/k1" in by_user and f"/restapis/{world.api.id}" not in by_user
    by_api = admin_console.get("/console/audit/", {"api": world.api.id}).content.decode()
    assert f"/restapis/{world.api.id}" in by_api and "/apikeys/k1" not in by_api
    by_operation = admin_console.get("/console/audit/", {"operation": "DeleteApiKey"}).content.decode()
    assert "/apikeys/k0" in by_operation and f"/restapis/{world.api.id}" not in by_operation
    since = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    recent = admin_console.get("/console/audit/", {"since": since, "operation": "DeleteApiKey"}).content.decode()
    assert "/apikeys/k1" in recent and "/apikeys/k0" not in recent
    bad = admin_console.get("/console/audit/", {"since": "yesterday"}).content.decode()
    assert "Enter a valid date/time." in bad


def test_the_audit_log_pages(admin, world: World) -> None:
    for number in range(60):
        audit_record(user=admin, operation="UpdateApiKey", target=f"/apikeys/n{number}", status=200)
    client = client_for(admin)
    first = client.get("/console/audit/", {"operation": "UpdateApiKey"}).content.decode()
    assert "Page 1 of 2" in first
    assert "operation=UpdateApiKey&amp;page=2" in first
    second = client.get("/console/audit/", {"operation": "UpdateApiKey", "page": 2}).content.decode()
    assert "/apikeys/n0<" in second
