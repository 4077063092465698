"""Console: the API list with search, create (new, clone, example), settings and delete."""

from __future__ import annotations

import pytest
from django.test import Client

from apis import models as m
from apis.services import design
from apis.tests.console_support import form_errors_in

pytestmark = pytest.mark.django_db


def test_the_console_root_opens_the_api_list(editor_console: Client) -> None:
    response = editor_console.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/console/apis/"


def test_the_api_list_searches_by_name_and_id(editor_console: Client, editor) -> None:
    shop = design.rest_api_create(owner=editor, name="Shop")
    design.rest_api_create(owner=editor, name="Billing")
    page = editor_console.get("/console/apis/", {"q": "sho"}).content.decode()
    assert "Shop" in page
    assert "Billing" not in page
    assert "Billing" in editor_console.get("/console/apis/").content.decode()
    assert "Shop" in editor_console.get("/console/apis/", {"q": shop.id}).content.decode()
    assert "No API matches" in editor_console.get("/console/apis/", {"q": "zzz"}).content.decode()


def test_creating_an_empty_api_writes_through_the_service_and_the_audit_log(editor_console: Client, editor) -> None:
    assert editor_console.get("/console/apis/new/").status_code == 200
    response = editor_console.post(
        "/console/apis/new/", {"mode": "new", "name": "Orders", "description": "d", "endpoint_type": "EDGE"}
    )
    api = m.RestApi.objects.get(name="Orders")
    assert response["Location"] == f"/console/apis/{api.id}/resources/"
    assert api.owner == editor
    assert api.endpoint_configuration == {"types": ["EDGE"]}
    assert set(api.models.values_list("name", flat=True)) == {"Empty", "Error"}
    event = m.AuditEvent.objects.get(operation="CreateRestApi")
    assert (event.user, event.status, event.access_key_id) == (editor, 200, "")


def test_cloning_copies_resources_and_methods(editor_console: Client, editor) -> None:
    from apis.services import scaffolding

    source = scaffolding.rest_api_create_example(owner=editor, name="Pets")
    editor_console.post(
        "/console/apis/new/", {"mode": "clone", "name": "Pets v2", "clone_from": source.id, "endpoint_type": "EDGE"}
    )
    clone = m.RestApi.objects.get(name="Pets v2")
    assert sorted(clone.resources.values_list("path", flat=True)) == ["/", "/pets", "/pets/{petId}"]
    assert m.Method.objects.filter(resource__rest_api=clone).count() == 3


def test_clone_without_a_source_shows_the_error_in_place(editor_console: Client) -> None:
    response = editor_console.post("/console/apis/new/", {"mode": "clone", "name": "X", "endpoint_type": "EDGE"})
    assert response.status_code == 200
    assert "Choose the API to clone." in response.content.decode()
    assert not m.RestApi.objects.exists()


def test_the_example_api_is_built_by_services(editor_console: Client) -> None:
    editor_console.post("/console/apis/new/", {"mode": "example", "name": "Example", "endpoint_type": "REGIONAL"})
    api = m.RestApi.objects.get(name="Example")
    assert {"Pet", "Pets"} <= set(api.models.values_list("name", flat=True))
    assert m.Integration.objects.filter(method__resource__rest_api=api, type="MOCK").count() == 3


def test_a_blank_name_is_a_field_error(editor_console: Client) -> None:
    response = editor_console.post("/console/apis/new/", {"mode": "new", "name": "", "endpoint_type": "EDGE"})
    assert response.status_code == 200
    assert form_errors_in(response.content.decode())


def test_settings_become_patch_operations(editor_console: Client, editor) -> None:
    api = design.rest_api_create(owner=editor, name="Shop", binary_media_types=["image/png"])
    url = f"/console/apis/{api.id}/settings/"
    assert "image/png" in editor_console.get(url).content.decode()
    response = editor_console.post(
        url,
        {
            "name": "Shop 2",
            "description": "new",
            "endpoint_type": "REGIONAL",
            "api_key_source": "AUTHORIZER",
            "binary_media_types": "image/jpeg\n*/*",
            "disable_execute_api_endpoint": "on",
        },
    )
    assert response.status_code == 302
    api.refresh_from_db()
    assert api.name == "Shop 2"
    assert api.description == "new"
    assert api.endpoint_configuration["types"] == ["REGIONAL"]
    assert api.api_key_source == "AUTHORIZER"
    assert sorted(api.binary_media_types) == ["*/*", "image/jpeg"]
    assert api.disable_execute_api_endpoint is True
    assert m.AuditEvent.objects.filter(operation="UpdateRestApi", target=f"/restapis/{api.id}").exists()


def test_a_blank_name_in_settings_is_shown_in_place(editor_console: Client, editor) -> None:
    api = design.rest_api_create(owner=editor, name="Shop")
    response = editor_console.post(
        f"/console/apis/{api.id}/settings/",
        {"name": "   ", "endpoint_type": "EDGE", "api_key_source": "HEADER", "binary_media_types": ""},
    )
    assert response.status_code == 200
    assert form_errors_in(response.content.decode())
    api.refresh_from_db()
    assert api.name == "Shop"


def test_deleting_an_api_asks_for_its_name(editor_console: Client, editor) -> None:
    api = design.rest_api_create(owner=editor, name="Doomed")
    url = f"/console/apis/{api.id}/delete/"
    page = editor_console.get(url).content.decode()
    assert "This cannot be undone" in page
    wrong = editor_console.post(url, {"confirm": "doomed"})
    assert wrong.status_code == 200
    assert "Type Doomed exactly" in wrong.content.decode()
    assert m.RestApi.objects.filter(id=api.id).exists()
    assert editor_console.post(url, {"confirm": "Doomed"})["Location"] == "/console/apis/"
    assert not m.RestApi.objects.filter(id=api.id).exists()
    assert m.AuditEvent.objects.filter(operation="DeleteRestApi", status=200).exists()
