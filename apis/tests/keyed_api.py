"""A deployed API whose method requires an API key, sold through a usage plan, built with the services."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from apis import models as m
from apis.selectors import root_resource_id
from apis.services import deployments, design, keys


@dataclass(frozen=True)
class KeyedApi:
    api: m.RestApi
    stage: m.Stage
    plan: m.UsagePlan
    key: m.ApiKey
    key_value: str


def build_keyed_api(
    owner: Any, *, throttle: dict | None = None, quota: dict | None = None, stage_name: str = "prod"
) -> KeyedApi:
    """Create GET /pets (MOCK, API key required), deploy it to a stage, and sell it with a plan and a key."""
    api = design.rest_api_create(owner=owner, name="Keyed")
    root_id = root_resource_id(api=api)
    assert root_id is not None
    pets = design.resource_create(api=api, parent_id=root_id, path_part="pets")
    method = design.method_put(resource=pets, http_method="GET", authorization_type="NONE", api_key_required=True)
    design.method_response_put(method=method, status_code="200")
    integration = design.integration_put(
        method=method, type="MOCK", request_templates={"application/json": json.dumps({"statusCode": 200})}
    )
    design.integration_response_put(
        integration=integration, status_code="200", response_templates={"application/json": '{"pets": []}'}
    )
    deployments.deployment_create(api=api, stage_name=stage_name)
    stage = m.Stage.objects.get(rest_api=api, stage_name=stage_name)
    plan = keys.usage_plan_create(
        owner=owner,
        name="Plan",
        api_stages=[{"apiId": api.id, "stage": stage_name}],
        throttle=throttle,
        quota=quota,
    )
    key, value = keys.api_key_create(owner=owner, name="consumer", enabled=True)
    keys.usage_plan_key_create(plan=plan, key_id=key.id)
    return KeyedApi(api=api, stage=stage, plan=plan, key=key, key_value=value)
