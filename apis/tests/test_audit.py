"""The audit log of the management API: every change, who made it, when, on what, and how it ended."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apis import models as m
from apis.selectors import audit_events
from apis.tests.aws_calls import aws_error, build_pets_api, deploy_stage, raw_call


def oldest_first(**filters) -> list[m.AuditEvent]:
    return list(reversed(audit_events(**filters)))


def test_a_change_is_recorded_with_who_when_what_and_outcome(apigw, owner, credentials):
    before = timezone.now() - dt.timedelta(seconds=1)

    api = apigw.create_rest_api(name="audited")

    [event] = audit_events(operation="CreateRestApi")
    assert event.user == owner
    assert event.access_key_id == credentials["aws_access_key_id"]
    assert event.source_ip == "127.0.0.1"
    assert before <= event.time <= timezone.now()
    assert event.target == f"/restapis/{api['id']}"
    assert (event.status, event.error_type, event.message) == (201, "", "")


def test_updates_and_deletes_name_their_target(apigw):
    pets = build_pets_api(apigw)
    apigw.update_rest_api(restApiId=pets.api_id, patchOperations=[{"op": "replace", "path": "/name", "value": "x"}])
    apigw.delete_resource(restApiId=pets.api_id, resourceId=pets.pets_id)
    apigw.delete_rest_api(restApiId=pets.api_id)

    [update] = audit_events(operation="UpdateRestApi")
    [delete_resource] = audit_events(operation="DeleteResource")
    [delete_api] = audit_events(operation="DeleteRestApi")
    assert (update.target, update.status) == (f"/restapis/{pets.api_id}", 200)
    assert (delete_resource.target, delete_resource.status) == (
        f"/restapis/{pets.api_id}/resources/{pets.pets_id}",
        202,
    )
    assert (delete_api.target, delete_api.status) == (f"/restapis/{pets.api_id}", 202)


def test_creates_name_what_they_created(apigw):
    pets = build_pets_api(apigw)
    deployment = deploy_stage(apigw, pets.api_id, "prod")
    key = apigw.create_api_key(name="k")["id"]
    plan = apigw.create_usage_plan(name="p")["id"]
    apigw.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")
    apigw.create_domain_name(domainName="api.example.com")
    apigw.create_base_path_mapping(domainName="api.example.com", restApiId=pets.api_id, stage="prod")
    apigw.create_stage(restApiId=pets.api_id, stageName="beta", deploymentId=deployment)
    imported = apigw.import_api_keys(body=b"name,key\nimp,imported-key-value-0000000\n", format="csv")["ids"]

    targets = {event.operation: event.target for event in audit_events()}

    assert targets["CreateResource"].endswith(f"/{pets.pets_id}")
    assert targets["CreateDeployment"] == f"/restapis/{pets.api_id}/deployments/{deployment}"
    assert targets["CreateStage"] == f"/restapis/{pets.api_id}/stages/beta"
    assert targets["CreateApiKey"] == f"/apikeys/{key}"
    assert targets["CreateUsagePlan"] == f"/usageplans/{plan}"
    assert targets["CreateUsagePlanKey"] == f"/usageplans/{plan}/keys/{key}"
    assert targets["CreateDomainName"] == "/domainnames/api.example.com"
    assert targets["CreateBasePathMapping"] == "/domainnames/api.example.com/basepathmappings/(none)"
    assert imported[0] in targets["ImportApiKeys"]


def test_a_refused_change_is_recorded_with_its_error(apigw, owner):
    api = apigw.create_rest_api(name="kept")
    apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="pets")

    with aws_error(409, "ConflictException"):
        apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="pets")
    with aws_error(400, "BadRequestException"):
        apigw.update_rest_api(
            restApiId=api["id"],
            patchOperations=[
                {"op": "replace", "path": "/name", "value": "changed"},
                {"op": "replace", "path": "/nothing", "value": "x"},
            ],
        )

    conflict, bad_patch = oldest_first(target_contains=api["id"])[-2:]
    assert (conflict.operation, conflict.status, conflict.error_type) == ("CreateResource", 409, "ConflictException")
    assert "Another resource with the same parent already has this name: pets" in conflict.message
    assert (bad_patch.operation, bad_patch.status, bad_patch.error_type) == (
        "UpdateRestApi",
        400,
        "BadRequestException",
    )
    assert "Invalid patch path" in bad_patch.message
    assert bad_patch.user == owner
    assert apigw.get_rest_api(restApiId=api["id"])["name"] == "kept"


def test_a_change_refused_for_an_unknown_target_is_recorded(apigw):
    with aws_error(404, "NotFoundException"):
        apigw.delete_usage_plan(usagePlanId="nosuch")

    [event] = audit_events(operation="DeleteUsagePlan")
    assert (event.target, event.status, event.error_type) == ("/usageplans/nosuch", 404, "NotFoundException")


def test_a_malformed_write_is_recorded(live_web, credentials, apigw):
    response = raw_call(live_web.url, "POST", "/apikeys", credentials=credentials, body=b"{oops")

    assert response.status == 400
    [event] = audit_events(operation="CreateApiKey")
    assert (event.status, event.error_type, event.message) == (
        400,
        "BadRequestException",
        "Invalid JSON in request body",
    )


def test_every_change_of_a_session_is_recorded_in_order(apigw):
    pets = build_pets_api(apigw)
    deploy_stage(apigw, pets.api_id)
    apigw.update_stage(
        restApiId=pets.api_id,
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/variables/backend", "value": "b.example"}],
    )
    apigw.delete_stage(restApiId=pets.api_id, stageName="prod")

    operations = [event.operation for event in oldest_first()]

    assert operations == [
        "CreateRestApi",
        "CreateResource",
        "PutMethod",
        "PutMethodResponse",
        "PutIntegration",
        "PutIntegrationResponse",
        "CreateDeployment",
        "UpdateStage",
        "DeleteStage",
    ]
    assert all(event.status in {200, 201, 202} for event in audit_events())


def test_reads_are_not_recorded(apigw):
    pets = build_pets_api(apigw)
    deploy_stage(apigw, pets.api_id)
    recorded = m.AuditEvent.objects.count()

    apigw.get_rest_apis()
    apigw.get_rest_api(restApiId=pets.api_id)
    apigw.get_resources(restApiId=pets.api_id, embed=["methods"])
    apigw.get_method(restApiId=pets.api_id, resourceId=pets.pets_id, httpMethod="GET")
    apigw.get_stages(restApiId=pets.api_id)
    apigw.get_deployments(restApiId=pets.api_id)
    apigw.get_api_keys()
    apigw.get_usage_plans()
    apigw.get_domain_names()
    apigw.test_invoke_method(restApiId=pets.api_id, resourceId=pets.pets_id, httpMethod="GET")
    with aws_error(404, "NotFoundException"):
        apigw.get_rest_api(restApiId="nosuchapi0")

    assert m.AuditEvent.objects.count() == recorded


def test_requests_that_fail_authentication_change_nothing_and_record_nothing(live_web, credentials, apigw):
    forged = {**credentials, "aws_secret_access_key": "x" * 40}

    response = raw_call(live_web.url, "POST", "/restapis", credentials=forged, body=b'{"name": "forged"}')

    assert response.status == 403
    assert not m.AuditEvent.objects.exists()
    assert apigw.get_rest_apis()["items"] == []


def test_the_audit_selector_filters_by_user_operation_target_and_time(apigw, owner):
    first = apigw.create_rest_api(name="first")["id"]
    second = apigw.create_rest_api(name="second")["id"]
    apigw.delete_rest_api(restApiId=first)
    later = timezone.now() + dt.timedelta(seconds=1)

    assert [e.operation for e in oldest_first(target_contains=first)] == ["CreateRestApi", "DeleteRestApi"]
    assert [e.target for e in audit_events(operation="CreateRestApi")] == [f"/restapis/{second}", f"/restapis/{first}"]
    assert audit_events(user_id=owner.pk).count() == 3
    assert audit_events(user_id=owner.pk + 1000).count() == 0
    assert audit_events(since=later).count() == 0
    assert audit_events(until=later).count() == 3
