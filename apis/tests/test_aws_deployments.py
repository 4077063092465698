"""boto3 against the live management API: deployments, stages, stage patches, canaries and rollback."""

from __future__ import annotations

import copy

import pytest

from apis import models as m
from apis.tests.aws_calls import (
    add_mock_method,
    all_pages,
    aws_error,
    build_pets_api,
    deploy_stage,
    raw_call,
    status_of,
)


def stage_patch(apigw, pets, *operations: dict, stage: str = "prod") -> dict:
    return apigw.update_stage(restApiId=pets.api_id, stageName=stage, patchOperations=list(operations))


def replace(path: str, value: str) -> dict:
    return {"op": "replace", "path": path, "value": value}


# --- Deployments ---------------------------------------------------------------------------------------


def test_it_deploys_to_a_new_stage(apigw):
    pets = build_pets_api(apigw)

    deployment = apigw.create_deployment(restApiId=pets.api_id, stageName="prod", description="first")

    assert status_of(deployment) == 201
    assert deployment["description"] == "first"
    assert deployment["createdDate"]
    stage = apigw.get_stage(restApiId=pets.api_id, stageName="prod")
    assert stage["deploymentId"] == deployment["id"]
    fetched = apigw.get_deployment(restApiId=pets.api_id, deploymentId=deployment["id"])
    assert status_of(fetched) == 200
    assert fetched["id"] == deployment["id"]


def test_it_summarises_the_deployed_api_when_asked(apigw):
    pets = build_pets_api(apigw)
    deployment_id = deploy_stage(apigw, pets.api_id)

    summary = apigw.get_deployment(restApiId=pets.api_id, deploymentId=deployment_id, embed=["apisummary"])

    assert summary["apiSummary"] == {"/pets": {"GET": {"authorizationType": "NONE", "apiKeyRequired": False}}}


def test_it_pages_deployments_and_updates_and_deletes_one(apigw):
    pets = build_pets_api(apigw)
    ids = [apigw.create_deployment(restApiId=pets.api_id, description=f"d{n}")["id"] for n in range(3)]

    items, pages = all_pages(apigw.get_deployments, restApiId=pets.api_id)
    assert sorted(item["id"] for item in items) == sorted(ids)
    assert pages == 3

    updated = apigw.update_deployment(
        restApiId=pets.api_id, deploymentId=ids[0], patchOperations=[replace("/description", "renamed")]
    )
    assert status_of(updated) == 200
    assert apigw.get_deployment(restApiId=pets.api_id, deploymentId=ids[0])["description"] == "renamed"

    assert status_of(apigw.delete_deployment(restApiId=pets.api_id, deploymentId=ids[0])) == 202
    with aws_error(404, "NotFoundException", "Invalid Deployment identifier specified"):
        apigw.get_deployment(restApiId=pets.api_id, deploymentId=ids[0])


def test_it_refuses_to_deploy_an_api_without_methods(apigw):
    api = apigw.create_rest_api(name="empty")
    apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="pets")

    with aws_error(400, "BadRequestException", "The REST API doesn't contain any methods"):
        apigw.create_deployment(restApiId=api["id"], stageName="prod")

    assert apigw.get_deployments(restApiId=api["id"])["items"] == []
    assert apigw.get_stages(restApiId=api["id"])["item"] == []


def test_it_refuses_to_deploy_a_method_without_integration(apigw):
    pets = build_pets_api(apigw)
    apigw.put_method(restApiId=pets.api_id, resourceId=pets.pets_id, httpMethod="POST", authorizationType="NONE")

    with aws_error(400, "BadRequestException", "No integration defined for method"):
        apigw.create_deployment(restApiId=pets.api_id, stageName="prod")

    assert apigw.get_deployments(restApiId=pets.api_id)["items"] == []


def test_it_refuses_to_delete_a_deployment_a_stage_uses(apigw):
    pets = build_pets_api(apigw)
    deployment_id = deploy_stage(apigw, pets.api_id)

    with aws_error(400, "BadRequestException", "Active stages pointing to this deployment must be moved or deleted"):
        apigw.delete_deployment(restApiId=pets.api_id, deploymentId=deployment_id)

    assert apigw.get_deployment(restApiId=pets.api_id, deploymentId=deployment_id)["id"] == deployment_id
    apigw.delete_stage(restApiId=pets.api_id, stageName="prod")
    assert status_of(apigw.delete_deployment(restApiId=pets.api_id, deploymentId=deployment_id)) == 202


def test_it_refuses_to_delete_a_deployment_a_canary_uses(apigw):
    pets = build_pets_api(apigw)
    deploy_stage(apigw, pets.api_id)
    canary = apigw.create_deployment(restApiId=pets.api_id)["id"]
    stage_patch(apigw, pets, replace("/canarySettings/deploymentId", canary))

    with aws_error(400, "BadRequestException", "must be moved or deleted"):
        apigw.delete_deployment(restApiId=pets.api_id, deploymentId=canary)


# --- Stages --------------------------------------------------------------------------------------------


def test_it_creates_reads_lists_and_deletes_stages(apigw):
    pets = build_pets_api(apigw)
    first = apigw.create_deployment(restApiId=pets.api_id)["id"]
    second = apigw.create_deployment(restApiId=pets.api_id)["id"]

    created = apigw.create_stage(
        restApiId=pets.api_id,
        stageName="beta",
        deploymentId=first,
        description="beta stage",
        variables={"backend": "beta.example.com"},
    )
    assert status_of(created) == 201
    assert (created["stageName"], created["deploymentId"]) == ("beta", first)
    apigw.create_stage(restApiId=pets.api_id, stageName="prod", deploymentId=second)

    fetched = apigw.get_stage(restApiId=pets.api_id, stageName="beta")
    assert status_of(fetched) == 200
    assert fetched["variables"] == {"backend": "beta.example.com"}
    assert fetched["description"] == "beta stage"

    listed = apigw.get_stages(restApiId=pets.api_id)
    assert status_of(listed) == 200
    assert sorted(s["stageName"] for s in listed["item"]) == ["beta", "prod"]
    assert "position" not in listed
    only_first = apigw.get_stages(restApiId=pets.api_id, deploymentId=first)
    assert [s["stageName"] for s in only_first["item"]] == ["beta"]

    assert status_of(apigw.delete_stage(restApiId=pets.api_id, stageName="beta")) == 202
    with aws_error(404, "NotFoundException", "Invalid Stage identifier specified"):
        apigw.get_stage(restApiId=pets.api_id, stageName="beta")


def test_it_answers_409_for_a_duplicate_stage_and_404_for_unknown_ones(apigw):
    pets = build_pets_api(apigw)
    deployment_id = deploy_stage(apigw, pets.api_id)

    with aws_error(409, "ConflictException", "Stage already exists"):
        apigw.create_stage(restApiId=pets.api_id, stageName="prod", deploymentId=deployment_id)
    with aws_error(404, "NotFoundException", "Invalid Deployment identifier specified"):
        apigw.create_stage(restApiId=pets.api_id, stageName="beta", deploymentId="nosuch")
    message = "Invalid Stage identifier specified"
    with aws_error(404, "NotFoundException", message):
        apigw.update_stage(restApiId=pets.api_id, stageName="nosuch", patchOperations=[replace("/description", "x")])
    with aws_error(404, "NotFoundException", message):
        apigw.delete_stage(restApiId=pets.api_id, stageName="nosuch")


@pytest.mark.parametrize("stage_name", ["has space", "dots.not.allowed", "slash/no", "ümlaut", "x" * 129])
def test_it_rejects_an_invalid_stage_name(apigw, stage_name):
    pets = build_pets_api(apigw)
    deployment_id = apigw.create_deployment(restApiId=pets.api_id)["id"]

    with aws_error(400, "BadRequestException", "Stage name only allows a-zA-Z0-9_-"):
        apigw.create_stage(restApiId=pets.api_id, stageName=stage_name, deploymentId=deployment_id)
    with aws_error(400, "BadRequestException", "Stage name only allows a-zA-Z0-9_-"):
        apigw.create_deployment(restApiId=pets.api_id, stageName=stage_name)

    assert apigw.get_stages(restApiId=pets.api_id)["item"] == []
    assert len(apigw.get_deployments(restApiId=pets.api_id)["items"]) == 1


def test_it_accepts_a_stage_name_of_128_allowed_characters(apigw):
    pets = build_pets_api(apigw)
    name = ("Ab9_-" * 26)[:128]

    apigw.create_deployment(restApiId=pets.api_id, stageName=name)

    assert apigw.get_stage(restApiId=pets.api_id, stageName=name)["stageName"] == name


# --- Stage patches -------------------------------------------------------------------------------------


def test_it_patches_stage_variables(apigw):
    pets = build_pets_api(apigw)
    apigw.create_deployment(restApiId=pets.api_id, stageName="prod", variables={"backend": "a.example", "old": "1"})

    patched = stage_patch(
        apigw,
        pets,
        replace("/variables/backend", "b.example"),
        {"op": "add", "path": "/variables/region", "value": "eu-west-3"},
        {"op": "remove", "path": "/variables/old"},
        replace("/description", "production"),
        replace("/tracingEnabled", "true"),
    )

    assert status_of(patched) == 200
    stage = apigw.get_stage(restApiId=pets.api_id, stageName="prod")
    assert stage["variables"] == {"backend": "b.example", "region": "eu-west-3"}
    assert stage["description"] == "production"
    assert stage["tracingEnabled"] is True


def test_it_rejects_an_invalid_stage_variable(apigw):
    pets = build_pets_api(apigw)
    deploy_stage(apigw, pets.api_id)

    with aws_error(400, "BadRequestException", "Stage variable value"):
        stage_patch(apigw, pets, replace("/variables/backend", "has spaces"))
    with aws_error(400, "BadRequestException", "Stage variable name"):
        stage_patch(apigw, pets, replace("/variables/bad-name", "x"))
    assert "variables" not in apigw.get_stage(restApiId=pets.api_id, stageName="prod")


def test_it_patches_method_settings_for_every_method(apigw):
    pets = build_pets_api(apigw)
    deploy_stage(apigw, pets.api_id)

    stage_patch(
        apigw,
        pets,
        replace("/*/*/throttling/rateLimit", "100"),
        replace("/*/*/throttling/burstLimit", "200"),
        replace("/*/*/metrics/enabled", "true"),
    )

    settings = apigw.get_stage(restApiId=pets.api_id, stageName="prod")["methodSettings"]
    assert list(settings) == ["*/*"]
    assert settings["*/*"]["throttlingRateLimit"] == 100.0
    assert settings["*/*"]["throttlingBurstLimit"] == 200
    assert settings["*/*"]["metricsEnabled"] is True
    assert settings["*/*"]["loggingLevel"] == "OFF"
    assert settings["*/*"]["cacheTtlInSeconds"] == 300


def test_it_patches_method_settings_for_one_method(apigw):
    pets = build_pets_api(apigw)
    deploy_stage(apigw, pets.api_id)

    stage_patch(
        apigw,
        pets,
        replace("/~1pets/GET/logging/loglevel", "INFO"),
        replace("/~1pets/GET/caching/ttlInSeconds", "60"),
        replace("/*/*/logging/dataTrace", "true"),
    )

    settings = apigw.get_stage(restApiId=pets.api_id, stageName="prod")["methodSettings"]
    assert sorted(settings) == ["*/*", "~1pets/GET"]
    assert settings["~1pets/GET"]["loggingLevel"] == "INFO"
    assert settings["~1pets/GET"]["cacheTtlInSeconds"] == 60
    assert settings["~1pets/GET"]["dataTraceEnabled"] is False
    assert settings["*/*"]["dataTraceEnabled"] is True

    stage_patch(apigw, pets, {"op": "remove", "path": "/~1pets/GET"})

    assert list(apigw.get_stage(restApiId=pets.api_id, stageName="prod")["methodSettings"]) == ["*/*"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("/~1pets/GET/logging/loglevel", "VERBOSE", "Invalid logging level specified: VERBOSE"),
        ("/*/*/throttling/rateLimit", "-1", "must not be negative"),
        ("/*/*/throttling/burstLimit", "lots", "Invalid integer value 'lots'"),
        ("/*/*/caching/ttlInSeconds", "3601", "Cache TTL must be between 0 and 3600 seconds"),
        ("/*/*/throttling/colour", "red", "Invalid patch path"),
    ],
)
def test_it_rejects_an_invalid_method_setting(apigw, path, value, message):
    pets = build_pets_api(apigw)
    deploy_stage(apigw, pets.api_id)

    with aws_error(400, "BadRequestException", message):
        stage_patch(apigw, pets, replace("/*/*/metrics/enabled", "true"), replace(path, value))

    assert "methodSettings" not in apigw.get_stage(restApiId=pets.api_id, stageName="prod")


def test_it_patches_access_log_settings(apigw):
    pets = build_pets_api(apigw)
    deploy_stage(apigw, pets.api_id)

    stage_patch(
        apigw,
        pets,
        replace("/accessLogSettings/format", "$context.requestId $context.status"),
        replace("/accessLogSettings/destinationArn", "arn:aws:logs:us-east-1:000000000000:log-group:access"),
    )

    stage = apigw.get_stage(restApiId=pets.api_id, stageName="prod")
    assert stage["accessLogSettings"] == {
        "format": "$context.requestId $context.status",
        "destinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:access",
    }

    stage_patch(apigw, pets, {"op": "remove", "path": "/accessLogSettings"})

    assert "accessLogSettings" not in apigw.get_stage(restApiId=pets.api_id, stageName="prod")


def test_it_patches_a_canary(apigw):
    pets = build_pets_api(apigw)
    stable = deploy_stage(apigw, pets.api_id)
    canary = apigw.create_deployment(restApiId=pets.api_id)["id"]

    stage_patch(
        apigw,
        pets,
        replace("/canarySettings/deploymentId", canary),
        replace("/canarySettings/percentTraffic", "12.5"),
        {"op": "add", "path": "/canarySettings/stageVariableOverrides/backend", "value": "canary.example"},
    )

    stage = apigw.get_stage(restApiId=pets.api_id, stageName="prod")
    assert stage["deploymentId"] == stable
    assert stage["canarySettings"]["deploymentId"] == canary
    assert stage["canarySettings"]["percentTraffic"] == 12.5
    assert stage["canarySettings"]["stageVariableOverrides"] == {"backend": "canary.example"}

    with aws_error(400, "BadRequestException", "Canary percentTraffic must be between 0.0 and 100.0"):
        stage_patch(apigw, pets, replace("/canarySettings/percentTraffic", "101"))
    assert apigw.get_stage(restApiId=pets.api_id, stageName="prod")["canarySettings"]["percentTraffic"] == 12.5

    stage_patch(apigw, pets, {"op": "remove", "path": "/canarySettings"})

    assert "canarySettings" not in apigw.get_stage(restApiId=pets.api_id, stageName="prod")


def test_a_deployment_with_canary_settings_becomes_the_stages_canary(apigw):
    pets = build_pets_api(apigw)
    stable = deploy_stage(apigw, pets.api_id)

    canary = apigw.create_deployment(
        restApiId=pets.api_id, stageName="prod", canarySettings={"percentTraffic": 10.0, "useStageCache": False}
    )

    stage = apigw.get_stage(restApiId=pets.api_id, stageName="prod")
    assert stage["deploymentId"] == stable
    assert stage["canarySettings"]["deploymentId"] == canary["id"]
    assert stage["canarySettings"]["percentTraffic"] == 10.0


def test_an_unknown_stage_patch_path_changes_nothing(apigw):
    pets = build_pets_api(apigw)
    apigw.create_deployment(restApiId=pets.api_id, stageName="prod", variables={"backend": "a.example"})

    with aws_error(400, "BadRequestException", "Invalid patch path"):
        stage_patch(apigw, pets, replace("/variables/backend", "b.example"), replace("/colour", "blue"))

    assert apigw.get_stage(restApiId=pets.api_id, stageName="prod")["variables"] == {"backend": "a.example"}


def test_it_refuses_to_point_a_stage_at_an_unknown_deployment(apigw):
    pets = build_pets_api(apigw)
    deployment_id = deploy_stage(apigw, pets.api_id)

    with aws_error(400, "BadRequestException", "Invalid deployment identifier specified"):
        stage_patch(apigw, pets, replace("/deploymentId", "nosuch"))

    assert apigw.get_stage(restApiId=pets.api_id, stageName="prod")["deploymentId"] == deployment_id


# --- Rollback ------------------------------------------------------------------------------------------


def paths_and_verbs(snapshot: dict) -> dict[str, list[str]]:
    return {r["path"]: sorted(r.get("resourceMethods", {})) for r in snapshot["resources"]}


def test_it_rolls_a_stage_back_and_deployments_stay_as_they_were(apigw):
    pets = build_pets_api(apigw)
    v1 = apigw.create_deployment(restApiId=pets.api_id, stageName="prod", description="v1")["id"]
    add_mock_method(apigw, pets.api_id, pets.pets_id, "POST")
    toys = apigw.create_resource(restApiId=pets.api_id, parentId=pets.root_id, pathPart="toys")
    add_mock_method(apigw, pets.api_id, toys["id"], "GET")
    v2 = apigw.create_deployment(restApiId=pets.api_id, stageName="prod", description="v2")["id"]
    assert apigw.get_stage(restApiId=pets.api_id, stageName="prod")["deploymentId"] == v2

    rolled = stage_patch(apigw, pets, replace("/deploymentId", v1))

    assert status_of(rolled) == 200
    assert rolled["deploymentId"] == v1
    assert apigw.get_stage(restApiId=pets.api_id, stageName="prod")["deploymentId"] == v1
    v1_snapshot = m.Deployment.objects.get(id=v1).snapshot
    v2_snapshot = m.Deployment.objects.get(id=v2).snapshot
    assert paths_and_verbs(v1_snapshot) == {"/": [], "/pets": ["GET"]}
    assert paths_and_verbs(v2_snapshot) == {"/": [], "/pets": ["GET", "POST"], "/toys": ["GET"]}
    summary = apigw.get_deployment(restApiId=pets.api_id, deploymentId=v1, embed=["apisummary"])["apiSummary"]
    assert set(summary) == {"/pets"} and set(summary["/pets"]) == {"GET"}

    before = (copy.deepcopy(v1_snapshot), copy.deepcopy(v2_snapshot))
    apigw.delete_resource(restApiId=pets.api_id, resourceId=toys["id"])
    apigw.update_integration(
        restApiId=pets.api_id,
        resourceId=pets.pets_id,
        httpMethod="GET",
        patchOperations=[replace("/requestTemplates/application~1json", '{"statusCode": 500}')],
    )
    apigw.update_rest_api(restApiId=pets.api_id, patchOperations=[replace("/name", "renamed")])
    apigw.create_deployment(restApiId=pets.api_id, stageName="beta")

    after = (m.Deployment.objects.get(id=v1).snapshot, m.Deployment.objects.get(id=v2).snapshot)
    assert after == before
    assert after[0]["restApi"]["name"] == "pets"

    stage_patch(apigw, pets, replace("/deploymentId", v2))
    assert apigw.get_stage(restApiId=pets.api_id, stageName="prod")["deploymentId"] == v2


@pytest.mark.parametrize(
    "body",
    [
        b'{"stageName": "prod", "canarySettings": {"percentTraffic": "lots"}}',
        b'{"stageName": "prod", "canarySettings": {"stageVariableOverrides": ["a"]}}',
        b'{"stageName": "prod", "variables": ["a", "b"]}',
        b'{"stageName": 7}',
    ],
)
def test_it_answers_400_for_deployment_fields_of_the_wrong_type(live_web, credentials, apigw, body):
    pets = build_pets_api(apigw)
    stable = deploy_stage(apigw, pets.api_id)

    response = raw_call(
        live_web.url, "POST", f"/restapis/{pets.api_id}/deployments", credentials=credentials, body=body
    )

    assert response.status == 400, response.body
    assert response.error_type == "BadRequestException"
    assert [d["id"] for d in apigw.get_deployments(restApiId=pets.api_id)["items"]] == [stable]
    assert "canarySettings" not in apigw.get_stage(restApiId=pets.api_id, stageName="prod")
