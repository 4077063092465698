"""The demo API that `make run` serves: PetStore, deployed to `prod`, with a usage plan and a key.

Everything is built through the services layer, so the demo is exactly what a console or boto3 user
would get. Its parts carry a `portico:demo` tag; loading again finds them by it, adds only what is
missing, and points the proxies at DEMO_BACKEND_URL again if it moved (WEB_PORT changed), redeploying.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from apis import models as m
from apis.demo_backend import PETS
from apis.patching import PatchOp
from apis.secrets import decrypt
from apis.selectors import root_resource_id
from apis.services import deployments, design, keys
from apis.shapes import api_key_arn, rest_api_arn, usage_plan_arn

DEMO_TAG_KEY = "portico:demo"
DEMO_TAG_VALUE = "petstore"
DEMO_TAGS = {DEMO_TAG_KEY: DEMO_TAG_VALUE}
API_NAME = "PetStore"
STAGE_NAME = "prod"
PLAN_NAME = "Basic"
KEY_NAME = "PetStore demo key"
PLAN_THROTTLE = {"rateLimit": 5, "burstLimit": 10}
PLAN_QUOTA = {"limit": 1000, "period": "DAY"}
JSON = "application/json"


@dataclass(frozen=True)
class Demo:
    api: m.RestApi
    stage: m.Stage
    plan: m.UsagePlan
    key: m.ApiKey
    key_value: str

    @property
    def invoke_url(self) -> str:
        host = settings.GATEWAY["PUBLIC_HOST"]
        return f"http://{self.api.id}.{host}:{settings.GATEWAY_PORT}/{self.stage.stage_name}/pets"


def _tagged(model: type[Any], arn_for: Callable[[str], str]) -> Any:
    """Return the demo's object of this model, found by its tag."""
    arns = set(m.Tag.objects.filter(key=DEMO_TAG_KEY, value=DEMO_TAG_VALUE).values_list("resource_arn", flat=True))
    ids = [arn.rsplit("/", 1)[-1] for arn in arns]
    return next((obj for obj in model.objects.filter(pk__in=ids).order_by("pk") if arn_for(obj.pk) in arns), None)


def _backend_uris() -> dict[tuple[str, str], str]:
    """Return the demo's proxy targets on the current DEMO_BACKEND_URL, by (resource path, method)."""
    backend = settings.DEMO_BACKEND_URL.rstrip("/")
    return {("/pets/{petId}", "GET"): f"{backend}/pets/{{petId}}", ("/{proxy+}", "ANY"): f"{backend}/{{proxy}}"}


def _retarget(api: m.RestApi) -> bool:
    """Point the demo's proxies at DEMO_BACKEND_URL again (WEB_PORT may have changed); True when it moved."""
    moved = False
    for (path, verb), uri in _backend_uris().items():
        integration = m.Integration.objects.filter(
            method__resource__rest_api=api, method__resource__path=path, method__http_method=verb, type="HTTP_PROXY"
        ).first()
        if integration is not None and integration.uri != uri:
            design.integration_update(
                integration=integration, patch_operations=[PatchOp(op="replace", path="/uri", value=uri)]
            )
            moved = True
    return moved


def _build_api(owner: Any) -> m.RestApi:
    uris = _backend_uris()
    api = design.rest_api_create(
        owner=owner,
        name=API_NAME,
        description="Demo API loaded by `make run`",
        tags=DEMO_TAGS,
    )
    root_id = root_resource_id(api=api)
    assert root_id is not None  # rest_api_create makes the root resource

    pets = design.resource_create(api=api, parent_id=root_id, path_part="pets")
    method = design.method_put(resource=pets, http_method="GET", authorization_type="NONE", operation_name="ListPets")
    design.method_response_put(method=method, status_code="200", response_models={JSON: "Empty"})
    integration = design.integration_put(
        method=method, type="MOCK", request_templates={JSON: json.dumps({"statusCode": 200})}
    )
    design.integration_response_put(
        integration=integration, status_code="200", response_templates={JSON: json.dumps(PETS)}
    )

    pet = design.resource_create(api=api, parent_id=pets.id, path_part="{petId}")
    method = design.method_put(
        resource=pet,
        http_method="GET",
        authorization_type="NONE",
        api_key_required=True,
        operation_name="GetPet",
        request_parameters={"method.request.path.petId": True},
    )
    design.method_response_put(method=method, status_code="200")
    design.integration_put(
        method=method,
        type="HTTP_PROXY",
        http_method="GET",
        uri=uris[("/pets/{petId}", "GET")],
        request_parameters={"integration.request.path.petId": "method.request.path.petId"},
    )

    proxy = design.resource_create(api=api, parent_id=root_id, path_part="{proxy+}")
    method = design.method_put(
        resource=proxy,
        http_method="ANY",
        authorization_type="NONE",
        api_key_required=True,
        request_parameters={"method.request.path.proxy": True},
    )
    design.method_response_put(method=method, status_code="200")
    design.integration_put(
        method=method,
        type="HTTP_PROXY",
        http_method="ANY",
        uri=uris[("/{proxy+}", "ANY")],
        request_parameters={"integration.request.path.proxy": "method.request.path.proxy"},
        cache_key_parameters=["method.request.path.proxy"],
    )
    return api


def _readable_value(key: m.ApiKey | None) -> str | None:
    if key is None:
        return None
    try:
        return decrypt(key.value_encrypted)
    except ValueError:
        return None


@transaction.atomic
def demo_load(*, owner: Any = None) -> Demo:
    """Create whatever part of the demo is missing and return all of it."""
    api = _tagged(m.RestApi, rest_api_arn) or _build_api(owner)
    stage = m.Stage.objects.filter(rest_api=api, stage_name=STAGE_NAME).first()
    if _retarget(api) or stage is None:
        deployments.deployment_create(api=api, description="Demo deployment", stage_name=STAGE_NAME)
        stage = m.Stage.objects.get(rest_api=api, stage_name=STAGE_NAME)

    plan = _tagged(m.UsagePlan, usage_plan_arn)
    if plan is None:
        plan = keys.usage_plan_create(
            owner=owner,
            name=PLAN_NAME,
            description="Demo plan: 5 requests a second, bursts of 10, 1000 requests a day",
            api_stages=[{"apiId": api.id, "stage": STAGE_NAME}],
            throttle=PLAN_THROTTLE,
            quota=PLAN_QUOTA,
            tags=DEMO_TAGS,
        )
    elif not plan.api_stages.filter(rest_api=api, stage_name=STAGE_NAME).exists():
        keys.usage_plan_update(
            plan=plan, patch_operations=[PatchOp(op="add", path="/apiStages", value=f"{api.id}:{STAGE_NAME}")]
        )

    key = _tagged(m.ApiKey, api_key_arn)
    key_value = _readable_value(key)
    if key is not None and key_value is None:
        # Stored under another SECRET_KEY: its digest no longer matches either, so the key is dead.
        keys.api_key_delete(key=key)
        key = None
    if key is None:
        key, key_value = keys.api_key_create(
            owner=owner, name=KEY_NAME, description="Demo key for the Basic plan", enabled=True, tags=DEMO_TAGS
        )
    if not plan.plan_keys.filter(api_key=key).exists():
        keys.usage_plan_key_create(plan=plan, key_id=key.id)
    assert key_value is not None
    return Demo(api=api, stage=stage, plan=plan, key=key, key_value=key_value)


def demo_summary(demo: Demo) -> list[str]:
    """Return the lines that tell a person how to call the demo API."""
    value = demo.key_value
    quota = demo.plan.quota or {}
    throttle = demo.plan.throttle or {}
    return [
        f'Demo API "{demo.api.name}" (id {demo.api.id}), stage {demo.stage.stage_name}',
        f"  invoke URL  {demo.invoke_url}",
        f"  API key     {value}",
        f'              usage plan "{demo.plan.name}": {throttle.get("rateLimit", 0):g} requests/s, '
        f"burst {throttle.get('burstLimit')}, {quota.get('limit')} requests per {quota.get('period')}",
        f"  try         curl {demo.invoke_url}",
        f"              curl -H 'x-api-key: {value}' {demo.invoke_url}/1",
    ]
