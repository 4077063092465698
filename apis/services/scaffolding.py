"""Shapes the console builds in one step from the design services: the example API, a method with its integration."""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import transaction

from apis import models as m
from apis.services import components, design

JSON = "application/json"
EXAMPLE_PETS = [
    {"id": 1, "type": "dog", "price": 249.99},
    {"id": 2, "type": "cat", "price": 124.99},
    {"id": 3, "type": "fish", "price": 0.99},
]
PET_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Pet",
    "type": "object",
    "required": ["type", "price"],
    "properties": {"id": {"type": "integer"}, "type": {"type": "string"}, "price": {"type": "number"}},
}
PETS_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Pets",
    "type": "array",
    "items": PET_SCHEMA,
}


def _mock_method(
    resource: m.Resource,
    verb: str,
    *,
    status: str,
    body: Any,
    operation_name: str,
    request_parameters: dict[str, bool] | None = None,
    request_models: dict[str, str] | None = None,
    response_model: str = "Empty",
    validator_id: str | None = None,
) -> m.Method:
    method = design.method_put(
        resource=resource,
        http_method=verb,
        authorization_type="NONE",
        operation_name=operation_name,
        request_parameters=request_parameters,
        request_models=request_models,
        request_validator_id=validator_id,
    )
    design.method_response_put(method=method, status_code=status, response_models={JSON: response_model})
    integration = design.integration_put(
        method=method, type="MOCK", request_templates={JSON: json.dumps({"statusCode": int(status)})}
    )
    design.integration_response_put(
        integration=integration, status_code=status, response_templates={JSON: json.dumps(body)}
    )
    return method


@transaction.atomic
def rest_api_create_example(*, owner: Any, name: str = "PetStore", description: str = "") -> m.RestApi:
    """Create a small example API (pets and one pet, with models and a validator) that works offline."""
    api = design.rest_api_create(
        owner=owner,
        name=name,
        description=description or "Example API: a pet store answered by MOCK integrations",
        endpoint_configuration={"types": ["REGIONAL"]},
    )
    components.model_create(api=api, name="Pet", content_type=JSON, schema=json.dumps(PET_SCHEMA, indent=2))
    components.model_create(api=api, name="Pets", content_type=JSON, schema=json.dumps(PETS_SCHEMA, indent=2))
    validator = components.request_validator_create(
        api=api, name="Validate body", validate_request_body=True, validate_request_parameters=False
    )
    root = m.Resource.objects.get(rest_api=api, parent=None)
    pets = design.resource_create(api=api, parent_id=root.id, path_part="pets")
    _mock_method(pets, "GET", status="200", body=EXAMPLE_PETS, operation_name="ListPets", response_model="Pets")
    _mock_method(
        pets,
        "POST",
        status="201",
        body={"message": "created"},
        operation_name="CreatePet",
        request_models={JSON: "Pet"},
        validator_id=validator.id,
    )
    pet = design.resource_create(api=api, parent_id=pets.id, path_part="{petId}")
    _mock_method(
        pet,
        "GET",
        status="200",
        body=EXAMPLE_PETS[0],
        operation_name="GetPet",
        request_parameters={"method.request.path.petId": True},
        response_model="Pet",
    )
    return api


PROXY_TYPES = {"HTTP_PROXY", "AWS_PROXY"}


@transaction.atomic
def method_create_with_integration(
    *,
    resource: m.Resource,
    http_method: str,
    integration_type: str,
    integration_http_method: str = "",
    uri: str = "",
) -> m.Method:
    """Create a method with its integration and a 200 response, as AWS's console's "Create method" does."""
    path_params = re.findall(r"\{([A-Za-z0-9._\-]+?)\+?\}", resource.path)
    method = design.method_put(
        resource=resource,
        http_method=http_method,
        authorization_type="NONE",
        request_parameters={f"method.request.path.{name}": True for name in path_params},
    )
    design.method_response_put(method=method, status_code="200", response_models={JSON: "Empty"})
    mapped = [name for name in path_params if f"{{{name}}}" in uri or f"{{{name}+}}" in uri]
    integration = design.integration_put(
        method=method,
        type=integration_type,
        http_method=integration_http_method or (http_method if integration_type != "MOCK" else ""),
        uri=uri,
        request_parameters={f"integration.request.path.{n}": f"method.request.path.{n}" for n in mapped},
        request_templates={JSON: json.dumps({"statusCode": 200})} if integration_type == "MOCK" else None,
    )
    if integration_type not in PROXY_TYPES:
        design.integration_response_put(
            integration=integration,
            status_code="200",
            response_templates={JSON: ""} if integration_type == "MOCK" else None,
        )
    return method
