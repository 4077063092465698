"""Console: deploy, deployment history and diff, stages (URLs, rollback, settings, variables, canary, tags)."""

from __future__ import annotations

import pytest
from django.test import Client

from apis import models as m
from apis.patching import PatchOp
from apis.services import deployments, design, scaffolding
from apis.tests.console_support import World, form_errors_in

pytestmark = pytest.mark.django_db


def stage_url(world: World, suffix: str = "") -> str:
    return f"/console/apis/{world.api.id}/stages/dev/{suffix}"


@pytest.fixture
def undeployed(editor) -> m.RestApi:
    api = design.rest_api_create(owner=editor, name="Fresh")
    root = m.Resource.objects.get(rest_api=api, parent=None)
    scaffolding.method_create_with_integration(resource=root, http_method="GET", integration_type="MOCK")
    return api


def test_deploying_to_a_new_stage(editor_console: Client, undeployed: m.RestApi) -> None:
    url = f"/console/apis/{undeployed.id}/deploy/"
    assert "[New stage]" in editor_console.get(url).content.decode()
    response = editor_console.post(
        url, {"stage": "__new__", "stage_name": "dev", "stage_description": "Dev", "description": "v1"}
    )
    assert response["Location"] == f"/console/apis/{undeployed.id}/stages/dev/"
    stage = m.Stage.objects.get(rest_api=undeployed, stage_name="dev")
    assert (stage.description, stage.deployment.description) == ("Dev", "v1")
    assert m.AuditEvent.objects.filter(operation="CreateDeployment", status=200).exists()


def test_a_new_stage_needs_a_name(editor_console: Client, undeployed: m.RestApi) -> None:
    response = editor_console.post(f"/console/apis/{undeployed.id}/deploy/", {"stage": "__new__"})
    assert "Name the new stage." in response.content.decode()


def test_deploying_an_api_without_methods_shows_the_service_error(editor_console: Client, editor) -> None:
    api = design.rest_api_create(owner=editor, name="Empty")
    response = editor_console.post(f"/console/apis/{api.id}/deploy/", {"stage": "__new__", "stage_name": "dev"})
    assert response.status_code == 200
    assert "The REST API doesn&#x27;t contain any methods" in response.content.decode()
    assert not m.Deployment.objects.filter(rest_api=api).exists()


def test_deploying_to_an_existing_stage_moves_it(editor_console: Client, world: World) -> None:
    editor_console.post(f"/console/apis/{world.api.id}/deploy/", {"stage": "dev", "description": "third"})
    world.stage.refresh_from_db()
    assert world.stage.deployment.description == "third"
    assert m.Deployment.objects.filter(rest_api=world.api).count() == 3


def test_history_and_diff(editor_console: Client, world: World) -> None:
    page = editor_console.get(f"/console/apis/{world.api.id}/deployments/").content.decode()
    assert world.first.id in page and world.second.id in page
    assert ">dev</span>" in page
    diff = editor_console.get(
        f"/console/apis/{world.api.id}/deployments/diff/", {"base": world.first.id, "target": world.second.id}
    )
    html = diff.content.decode()
    assert "<html" in html
    assert "/orders" in html
    assert "1 added" in html
    partial = editor_console.get(
        f"/console/apis/{world.api.id}/deployments/diff/",
        {"base": world.second.id, "target": world.first.id},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "<html" not in partial
    assert "1 removed" in partial
    bad = editor_console.get(f"/console/apis/{world.api.id}/deployments/diff/", {"base": "nope", "target": "x"})
    assert "Choose two deployments" in bad.content.decode()


def test_the_stage_page_shows_both_invoke_urls(editor_console: Client, world: World, settings) -> None:
    page = editor_console.get(stage_url(world)).content.decode()
    port = settings.GATEWAY_PORT
    assert f"http://{world.api.id}.execute-api.localhost:{port}/dev/" in page
    assert f"http://127.0.0.1:{port}/_aws/execute-api/{world.api.id}/dev/" in page
    assert 'data-copy="#copy-1"' in page
    assert "Roll back to this" in page
    stages = editor_console.get(f"/console/apis/{world.api.id}/stages/").content.decode()
    assert f"http://{world.api.id}.execute-api.localhost:{port}/dev/" in stages


def test_rollback_points_the_stage_at_an_earlier_deployment(editor_console: Client, world: World) -> None:
    revision = world.stage.revision
    response = editor_console.post(stage_url(world, "rollback/"), {"deployment_id": world.first.id})
    assert response["Location"] == stage_url(world)
    world.stage.refresh_from_db()
    assert world.stage.deployment_id == world.first.id
    assert world.stage.revision > revision
    event = m.AuditEvent.objects.get(operation="UpdateStage")
    assert event.target == f"/restapis/{world.api.id}/stages/dev"


def test_rolling_back_to_an_unknown_deployment_is_reported(editor_console: Client, world: World) -> None:
    response = editor_console.post(stage_url(world, "rollback/"), {"deployment_id": "nope"}, follow=True)
    assert "Invalid deployment identifier specified" in response.content.decode()
    world.stage.refresh_from_db()
    assert world.stage.deployment_id == world.second.id


def test_stage_settings_become_patch_operations(editor_console: Client, world: World) -> None:
    url = stage_url(world, "settings/")
    assert editor_console.get(url).status_code == 200
    editor_console.post(
        url,
        {
            "description": "Development",
            "throttling_rate_limit": "50",
            "throttling_burst_limit": "100",
            "logging_level": "INFO",
            "data_trace_enabled": "on",
            "access_log_format": '{"id":"$context.requestId"}',
            "access_log_destination_arn": "file:///var/log/portico/dev.log",
            "cache_cluster_enabled": "on",
            "cache_cluster_size": "1.6",
            "caching_enabled": "on",
            "cache_ttl_in_seconds": "60",
            "throttling_fail_mode": "closed",
        },
    )
    stage = m.Stage.objects.get(pk=world.stage.pk)
    defaults = stage.method_settings["*/*"]
    assert stage.description == "Development"
    assert (defaults["throttlingRateLimit"], defaults["throttlingBurstLimit"]) == (50.0, 100)
    assert (defaults["loggingLevel"], defaults["dataTraceEnabled"]) == ("INFO", True)
    assert (defaults["cachingEnabled"], defaults["cacheTtlInSeconds"]) == (True, 60)
    assert stage.access_log_settings == {
        "format": '{"id":"$context.requestId"}',
        "destinationArn": "file:///var/log/portico/dev.log",
    }
    assert (stage.cache_cluster_enabled, stage.cache_cluster_size) == (True, "1.6")
    assert stage.throttling_fail_mode == "closed"
    invalid = editor_console.post(url, {"throttling_rate_limit": "-1", "throttling_burst_limit": "x"})
    assert form_errors_in(invalid.content.decode())


def test_per_method_throttling(editor_console: Client, world: World) -> None:
    response = editor_console.post(
        stage_url(world, "throttles/"), {"method": "GET /items/{id}", "rate_limit": "5", "burst_limit": "10"}
    )
    assert response.status_code == 302
    stage = m.Stage.objects.get(pk=world.stage.pk)
    assert stage.method_settings["items/{id}/GET"]["throttlingRateLimit"] == 5.0
    assert "GET /items/{id}" in editor_console.get(stage_url(world, "settings/")).content.decode()
    editor_console.post(stage_url(world, "throttles/delete/"), {"key": "items/{id}/GET"})
    stage.refresh_from_db()
    assert "items/{id}/GET" not in stage.method_settings


def test_stage_variables(editor_console: Client, world: World) -> None:
    editor_console.post(stage_url(world, "variables/"), {"name": "host", "value": "backend.example:8080"})
    world.stage.refresh_from_db()
    assert world.stage.variables == {"host": "backend.example:8080"}
    bad = editor_console.post(stage_url(world, "variables/"), {"name": "host", "value": "no spaces allowed"})
    assert "Stage variable value for &#x27;host&#x27;" in bad.content.decode()
    editor_console.post(stage_url(world, "variables/delete/"), {"name": "host"})
    world.stage.refresh_from_db()
    assert world.stage.variables == {}


def test_canary_create_and_remove(editor_console: Client, world: World) -> None:
    assert "No canary is set" in editor_console.get(stage_url(world, "canary/")).content.decode()
    editor_console.post(
        stage_url(world, "canary/"),
        {"percent_traffic": "12.5", "deployment_id": world.first.id, "stage_variable_overrides": "color = blue"},
    )
    world.stage.refresh_from_db()
    assert world.stage.canary_settings == {
        "percentTraffic": 12.5,
        "deploymentId": world.first.id,
        "stageVariableOverrides": {"color": "blue"},
        "useStageCache": False,
    }
    editor_console.post(stage_url(world, "canary/delete/"))
    world.stage.refresh_from_db()
    assert world.stage.canary_settings is None


def test_stage_tags(editor_console: Client, world: World) -> None:
    editor_console.post(stage_url(world, "tags/"), {"key": "team", "value": "payments"})
    assert "payments" in editor_console.get(stage_url(world, "tags/")).content.decode()
    bad = editor_console.post(stage_url(world, "tags/"), {"key": "aws:reserved", "value": "x"})
    assert "Invalid tag key: aws:reserved" in bad.content.decode()
    editor_console.post(stage_url(world, "tags/delete/"), {"key": "team"})
    assert "payments" not in editor_console.get(stage_url(world, "tags/")).content.decode()


def test_deleting_a_stage_confirms_first(editor_console: Client, world: World) -> None:
    assert "This cannot be undone" in editor_console.get(stage_url(world, "delete/")).content.decode()
    response = editor_console.post(stage_url(world, "delete/"))
    assert response["Location"] == f"/console/apis/{world.api.id}/stages/"
    assert not m.Stage.objects.filter(pk=world.stage.pk).exists()
    assert not m.UsagePlanStage.objects.filter(rest_api=world.api).exists()


def test_the_deployed_method_can_be_rolled_forward_again(editor_console: Client, world: World) -> None:
    deployments.stage_update(stage=world.stage, patch_operations=[PatchOp("replace", "/deploymentId", world.first.id)])
    page = editor_console.get(stage_url(world)).content.decode()
    assert "Activate" in page
