"""Operations on deployments and stages."""

from __future__ import annotations

from apis import models as m
from apis import selectors, shapes
from apis.aws_api.framework import Call, paginate
from apis.services import deployments


def _api(call: Call) -> m.RestApi:
    return selectors.rest_api_get(api_id=call.params["restapi_id"])


def _deployment(call: Call) -> m.Deployment:
    return selectors.deployment_get(api=_api(call), deployment_id=call.params["deployment_id"])


def create_deployment(call: Call) -> dict:
    deployment = deployments.deployment_create(
        api=_api(call),
        description=call.text("description"),
        stage_name=call.field("stageName", str),
        stage_description=call.text("stageDescription"),
        cache_cluster_enabled=call.field("cacheClusterEnabled", bool),
        cache_cluster_size=call.field("cacheClusterSize", str),
        variables=call.mapping("variables"),
        canary_settings=call.mapping("canarySettings"),
        tracing_enabled=call.field("tracingEnabled", bool),
    )
    return shapes.deployment_shape(deployment)


def _deployment_shape(call: Call):
    embed = "apisummary" in call.query.getlist("embed")

    def render(deployment: m.Deployment) -> dict:
        shape = shapes.deployment_shape(deployment)
        if embed:
            summary: dict = {}
            for resource in deployment.snapshot.get("resources", []):
                methods = resource.get("resourceMethods") or {}
                if methods:
                    summary[resource["path"]] = {
                        verb: {
                            "authorizationType": meth.get("authorizationType", "NONE"),
                            "apiKeyRequired": meth.get("apiKeyRequired", False),
                        }
                        for verb, meth in methods.items()
                    }
            shape["apiSummary"] = summary
        return shape

    return render


def get_deployment(call: Call) -> dict:
    return _deployment_shape(call)(_deployment(call))


def get_deployments(call: Call) -> dict:
    return paginate(call, m.Deployment.objects.filter(rest_api=_api(call)).defer("snapshot"), _deployment_shape(call))


def update_deployment(call: Call) -> dict:
    deployment = deployments.deployment_update(deployment=_deployment(call), patch_operations=call.patch_operations())
    return shapes.deployment_shape(deployment)


def delete_deployment(call: Call) -> None:
    deployments.deployment_delete(deployment=_deployment(call))


def _stage_shape(stage: m.Stage) -> dict:
    tags = selectors.tags_for(resource_arn=shapes.stage_arn(stage.rest_api_id, stage.stage_name))
    return shapes.stage_shape(stage, tags=tags or None)


def _stage(call: Call) -> m.Stage:
    return selectors.stage_get(api=_api(call), stage_name=call.params["stage_name"])


def create_stage(call: Call) -> dict:
    stage = deployments.stage_create(
        api=_api(call),
        stage_name=call.text("stageName", required=True),
        deployment_id=call.text("deploymentId", required=True),
        description=call.text("description"),
        cache_cluster_enabled=call.flag("cacheClusterEnabled"),
        cache_cluster_size=call.field("cacheClusterSize", str),
        variables=call.mapping("variables"),
        documentation_version=call.text("documentationVersion"),
        canary_settings=call.mapping("canarySettings"),
        tracing_enabled=call.flag("tracingEnabled"),
        tags=call.mapping("tags"),
    )
    return _stage_shape(stage)


def get_stage(call: Call) -> dict:
    return _stage_shape(_stage(call))


def get_stages(call: Call) -> dict:
    stages = m.Stage.objects.filter(rest_api=_api(call))
    deployment_id = call.query.get("deploymentId")
    if deployment_id:
        stages = stages.filter(deployment_id=deployment_id)
    # AWS returns every stage at once under `item`, without paging.
    return {"item": [_stage_shape(s) for s in stages]}


def update_stage(call: Call) -> dict:
    return _stage_shape(deployments.stage_update(stage=_stage(call), patch_operations=call.patch_operations()))


def delete_stage(call: Call) -> None:
    deployments.stage_delete(stage=_stage(call))
