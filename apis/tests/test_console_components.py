"""Console: tags of APIs, plans, keys and domains; authorizers; gateway responses; renaming and moving resources."""

from __future__ import annotations

import pytest
from django.test import Client

from apis import models as m
from apis import selectors
from apis.services import design, scaffolding
from apis.shapes import api_key_arn, domain_name_arn, rest_api_arn, usage_plan_arn
from apis.tests.console_support import AUTHORIZER_URI, World, write_buttons

pytestmark = pytest.mark.django_db


def tag_pages(world: World) -> list[tuple[str, str]]:
    return [
        (f"/console/apis/{world.api.id}/tags/", rest_api_arn(world.api.id)),
        (f"/console/usage-plans/{world.plan.id}/tags/", usage_plan_arn(world.plan.id)),
        (f"/console/api-keys/{world.key.id}/tags/", api_key_arn(world.key.id)),
        (f"/console/domains/{world.domain.domain_name}/tags/", domain_name_arn(world.domain.domain_name)),
    ]


def test_tags_are_added_and_removed_on_apis_plans_keys_and_domains(world: World, admin_console: Client) -> None:
    for url, arn in tag_pages(world):
        added = admin_console.post(url, {"key": "team", "value": "payments"}, follow=True)
        assert selectors.tags_for(resource_arn=arn) == {"team": "payments"}, url
        assert "Added tag team." in added.content.decode()
        assert "<code>team</code>" in admin_console.get(url).content.decode()
        removed = admin_console.post(url + "delete/", {"key": "team"}, follow=True)
        assert selectors.tags_for(resource_arn=arn) == {}, url
        assert removed.redirect_chain[-1][0] == url
    operations = list(m.AuditEvent.objects.values_list("operation", "status", "target"))
    assert operations.count(("TagResource", 200, f"/tags/{rest_api_arn(world.api.id)}")) == 1
    assert sum(1 for op, status, _ in operations if op == "UntagResource" and status == 200) == 4


def test_invalid_tags_show_the_service_error(world: World, editor_console: Client) -> None:
    response = editor_console.post(f"/console/apis/{world.api.id}/tags/", {"key": "aws:reserved", "value": "x"})
    assert "Invalid tag key: aws:reserved" in response.content.decode()
    assert selectors.tags_for(resource_arn=rest_api_arn(world.api.id)) == {}


def test_the_stage_tags_page_still_works_on_the_shared_template(world: World, editor_console: Client) -> None:
    url = f"/console/apis/{world.api.id}/stages/dev/tags/"
    editor_console.post(url, {"key": "env", "value": "dev"})
    page = editor_console.get(url).content.decode()
    assert "<code>env</code>" in page
    assert f'action="/console/apis/{world.api.id}/stages/dev/tags/delete/"' in page


def test_domain_tags_are_for_admins_and_read_only_owners_see_no_buttons(
    world: World, editor_console: Client, readonly_console: Client
) -> None:
    domain_url = tag_pages(world)[3][0]
    assert editor_console.post(domain_url, {"key": "k", "value": "v"}).status_code == 403
    assert write_buttons(editor_console.get(domain_url).content.decode()) == []
    for url, _ in tag_pages(world):
        page = readonly_console.get(url)
        assert page.status_code == 200 and write_buttons(page.content.decode()) == [], url
        assert readonly_console.post(url, {"key": "k", "value": "v"}).status_code == 403, url
        assert readonly_console.post(url + "delete/", {"key": "k"}).status_code == 403, url
    assert not m.Tag.objects.exists()


# -- authorizers ------------------------------------------------------------------------------------------


def test_creating_editing_and_deleting_an_authorizer(world: World, editor_console: Client) -> None:
    base = f"/console/apis/{world.api.id}/authorizers/"
    created = editor_console.post(
        base,
        {
            "name": "pool",
            "type": "COGNITO_USER_POOLS",
            "identity_source": "method.request.header.Authorization",
            "provider_arns": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc",
            "authorizer_result_ttl_in_seconds": "60",
        },
    )
    pool = m.Authorizer.objects.get(rest_api=world.api, name="pool")
    assert created["Location"] == f"{base}{pool.id}/"
    assert (pool.type, pool.authorizer_result_ttl_in_seconds) == ("COGNITO_USER_POOLS", 60)

    edited = editor_console.post(
        f"{base}{pool.id}/",
        {
            "name": "users",
            "type": "COGNITO_USER_POOLS",
            "identity_source": "method.request.header.X-Token",
            "provider_arns": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_new",
            "authorizer_result_ttl_in_seconds": "60",
        },
        follow=True,
    )
    pool.refresh_from_db()
    assert (pool.name, pool.identity_source) == ("users", "method.request.header.X-Token")
    assert pool.provider_arns == ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_new"]
    assert "Authorizer users saved." in edited.content.decode()

    editor_console.post(f"{base}{pool.id}/delete/")
    assert not m.Authorizer.objects.filter(id=pool.id).exists()
    operations = set(m.AuditEvent.objects.values_list("operation", flat=True))
    assert {"CreateAuthorizer", "UpdateAuthorizer", "DeleteAuthorizer"} <= operations


def test_authorizer_errors_are_shown_and_used_authorizers_stay(world: World, editor_console: Client) -> None:
    base = f"/console/apis/{world.api.id}/authorizers/"
    missing_uri = editor_console.post(base, {"name": "lambda", "type": "TOKEN", "identity_source": "x"})
    assert "Authorizer URI is required" in missing_uri.content.decode()
    duplicate = editor_console.post(
        base, {"name": "tokens", "type": "TOKEN", "authorizer_uri": AUTHORIZER_URI, "identity_source": "x"}
    )
    assert "Authorizer name already exists" in duplicate.content.decode()
    world.method.authorization_type, world.method.authorizer = "CUSTOM", world.authorizer
    world.method.save()

    page = editor_console.get(f"{base}{world.authorizer.id}/").content.decode()
    refused = editor_console.post(f"{base}{world.authorizer.id}/delete/", follow=True)

    assert "GET /items/{id}" in page
    assert "Cannot delete authorizer, is referenced in method" in refused.content.decode()
    assert m.Authorizer.objects.filter(id=world.authorizer.id).exists()


# -- gateway responses ------------------------------------------------------------------------------------


def test_customising_and_resetting_a_gateway_response(world: World, editor_console: Client) -> None:
    base = f"/console/apis/{world.api.id}/gateway-responses/"
    listing = editor_console.get(base).content.decode()
    assert "INVALID_API_KEY" in listing and "customised</span>" not in listing

    editor_console.post(
        f"{base}THROTTLED/",
        {
            "status_code": "503",
            "response_parameters": "header.Retry-After = '10'",
            "response_templates": '{"message": "slow down"}',
        },
    )

    response = m.GatewayResponse.objects.get(rest_api=world.api, response_type="THROTTLED")
    assert response.status_code == "503"
    assert response.response_parameters == {"gatewayresponse.header.Retry-After": "'10'"}
    assert response.response_templates == {"application/json": '{"message": "slow down"}'}
    page = editor_console.get(f"{base}THROTTLED/").content.decode()
    assert "header.Retry-After = &#x27;10&#x27;" in page and "Customised for this API." in page
    assert "customised</span>" in editor_console.get(base).content.decode()

    editor_console.post(f"{base}THROTTLED/delete/")
    assert not m.GatewayResponse.objects.filter(rest_api=world.api).exists()
    assert {"PutGatewayResponse", "DeleteGatewayResponse"} <= set(
        m.AuditEvent.objects.values_list("operation", flat=True)
    )


def test_gateway_response_errors(world: World, editor_console: Client) -> None:
    base = f"/console/apis/{world.api.id}/gateway-responses/"
    bad_parameter = editor_console.post(f"{base}DEFAULT_4XX/", {"response_parameters": "body.x = 'y'"})
    assert "Invalid gateway response parameter specified: gatewayresponse.body.x" in bad_parameter.content.decode()
    assert editor_console.post(f"{base}DEFAULT_4XX/", {"status_code": "99"}).status_code == 200
    assert editor_console.get(f"{base}NOT_A_TYPE/").status_code == 404
    assert editor_console.post(f"{base}DEFAULT_5XX/delete/").status_code == 404
    assert not m.GatewayResponse.objects.exists()


# -- resources --------------------------------------------------------------------------------------------


def test_renaming_a_resource_repaths_its_children(world: World, editor_console: Client) -> None:
    items = world.item.parent
    url = f"/console/apis/{world.api.id}/resources/{items.id}/update/"
    response = editor_console.post(url, {"move-path_part": "products", "move-parent": world.root.id}, follow=True)

    items.refresh_from_db()
    world.item.refresh_from_db()
    assert (items.path, world.item.path) == ("/products", "/products/{id}")
    assert "The resource is now /products." in response.content.decode()
    event = m.AuditEvent.objects.get(operation="UpdateResource")
    assert (event.status, event.target) == (200, f"/restapis/{world.api.id}/resources/{items.id}")


def test_moving_a_resource_under_another_parent(world: World, editor_console: Client) -> None:
    orders = m.Resource.objects.get(rest_api=world.api, path="/orders")
    scaffolding.method_create_with_integration(resource=orders, http_method="POST", integration_type="MOCK")
    page = editor_console.get(f"/console/apis/{world.api.id}/resources/{orders.id}/").content.decode()
    assert "Rename or move" in page

    editor_console.post(
        f"/console/apis/{world.api.id}/resources/{orders.id}/update/",
        {"move-path_part": "orders", "move-parent": world.item.id},
    )

    orders.refresh_from_db()
    assert orders.path == "/items/{id}/orders"
    assert orders.methods.get().http_method == "POST"


def test_moves_the_service_refuses_are_shown(world: World, editor_console: Client) -> None:
    items = world.item.parent
    design.resource_create(api=world.api, parent_id=world.root.id, path_part="{name}")
    url = f"/console/apis/{world.api.id}/resources/{world.item.id}/update/"
    page = editor_console.get(f"/console/apis/{world.api.id}/resources/{items.id}/").content.decode()
    assert f'<option value="{world.item.id}"' not in page, "a resource is never offered as its own parent's child"

    clash = editor_console.post(url, {"move-path_part": "orders", "move-parent": world.root.id})
    variable = editor_console.post(url, {"move-path_part": "{id}", "move-parent": world.root.id})
    bad_name = editor_console.post(url, {"move-path_part": "a b", "move-parent": items.id})

    assert "Another resource with the same parent already has this name: orders" in clash.content.decode()
    assert "already has a variable path part" in variable.content.decode()
    assert "path part only allow" in bad_name.content.decode()
    world.item.refresh_from_db()
    assert world.item.path == "/items/{id}"


def test_the_root_resource_has_no_rename_form_and_read_only_owners_cannot_move(
    world: World, editor_console: Client, readonly_console: Client
) -> None:
    assert "Rename or move" not in editor_console.get(f"/console/apis/{world.api.id}/resources/").content.decode()
    assert (
        "Rename or move"
        not in readonly_console.get(f"/console/apis/{world.api.id}/resources/{world.item.id}/").content.decode()
    )
    url = f"/console/apis/{world.api.id}/resources/{world.item.id}/update/"
    assert readonly_console.post(url, {"move-path_part": "x", "move-parent": world.root.id}).status_code == 403
    world.item.refresh_from_db()
    assert world.item.path_part == "{id}"
