"""OpenAPI export of a stage's deployment snapshot: shape, extensions, and validity per openapi-spec-validator."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from apis import models as m
from apis.openapi import parse_extensions, render, stage_export
from apis.patching import PatchOp
from apis.services import components, deployments, design

JSON = "application/json"
PET_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Pet",
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["string", "null"]},
        "owner": {"$ref": "https://apigateway.amazonaws.com/restapis/abc/models/Owner"},
    },
    "required": ["id"],
    "definitions": {"unused": {"type": "string"}},
}


def build(owner: Any = None) -> m.Stage:
    """An API using everything the export renders: parameters, models, a key, an authorizer, ANY, a proxy."""
    api = design.rest_api_create(owner=owner, name="PetStore", description="Pets for everyone")
    root = api.resources.get(parent=None)
    components.model_create(api=api, name="Owner", content_type=JSON, schema=json.dumps({"type": "object"}))
    components.model_create(api=api, name="Pet", content_type=JSON, schema=json.dumps(PET_SCHEMA))
    validator = components.request_validator_create(api=api, name="body-only", validate_request_body=True)
    authorizer = components.authorizer_create(
        api=api,
        name="tokens",
        type="TOKEN",
        authorizer_uri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/x/invocations",
        identity_source="method.request.header.Authorization",
    )
    pets = design.resource_create(api=api, parent_id=root.id, path_part="pets")
    pet = design.resource_create(api=api, parent_id=pets.id, path_part="{petId}")
    proxy = design.resource_create(api=api, parent_id=root.id, path_part="{proxy+}")

    listing = design.method_put(
        resource=pets,
        http_method="GET",
        authorization_type="NONE",
        api_key_required=True,
        operation_name="ListPets",
        request_parameters={"method.request.querystring.type": False, "method.request.header.X-Trace": True},
    )
    design.method_response_put(
        method=listing,
        status_code="200",
        response_models={JSON: "Pet"},
        response_parameters={"method.response.header.X-Count": False},
    )
    design.integration_put(method=listing, type="MOCK", request_templates={JSON: '{"statusCode": 200}'})
    create = design.method_put(
        resource=pets,
        http_method="POST",
        authorization_type="CUSTOM",
        authorizer_id=authorizer.id,
        request_models={JSON: "Pet"},
        request_validator_id=validator.id,
    )
    design.method_response_put(method=create, status_code="201")
    design.method_response_put(method=create, status_code="400", response_models={JSON: "Error"})
    integration = design.integration_put(
        method=create, type="HTTP", http_method="POST", uri="http://backend.example/pets"
    )
    design.integration_response_put(integration=integration, status_code="201", selection_pattern="")
    design.integration_response_put(integration=integration, status_code="400", selection_pattern="4\\d{2}")
    read = design.method_put(resource=pet, http_method="GET", authorization_type="NONE")
    design.integration_put(method=read, type="MOCK", request_templates={JSON: '{"statusCode": 200}'})
    anything = design.method_put(resource=proxy, http_method="ANY", authorization_type="NONE")
    design.integration_put(method=anything, type="HTTP_PROXY", http_method="ANY", uri="http://backend.example/{proxy}")
    deployments.deployment_create(api=api, stage_name="prod")
    return m.Stage.objects.select_related("deployment").get(rest_api=api, stage_name="prod")


def export(stage: m.Stage, export_type: str, extensions: str = "") -> dict[str, Any]:
    return stage_export(
        snapshot=stage.deployment.snapshot,
        stage_name=stage.stage_name,
        deployed_at=stage.deployment.created_date,
        export_type=export_type,
        extensions=parse_extensions(extensions),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("export_type", ["oas30", "swagger"])
@pytest.mark.parametrize(
    "extensions", ["", "integrations", "authorizers", "apigateway", "integrations,authorizers,postman"]
)
def test_every_export_validates(export_type: str, extensions: str) -> None:
    validate(export(build(), export_type, extensions))


@pytest.mark.django_db
def test_oas30_renders_paths_parameters_models_security_and_server(settings: Any) -> None:
    stage = build()
    doc = export(stage, "oas30")
    api_id = stage.rest_api_id
    host = settings.GATEWAY["PUBLIC_HOST"]
    assert doc["servers"] == [
        {
            "url": f"http://{api_id}.{host}:{settings.GATEWAY_PORT}/{{basePath}}",
            "variables": {"basePath": {"default": "prod"}},
        }
    ]
    assert doc["info"]["title"] == "PetStore"
    assert set(doc["paths"]) == {"/pets", "/pets/{petId}", "/{proxy+}"}
    listing = doc["paths"]["/pets"]["get"]
    assert listing["operationId"] == "ListPets"
    assert {(p["name"], p["in"], p["required"]) for p in listing["parameters"]} == {
        ("type", "query", False),
        ("X-Trace", "header", True),
    }
    assert listing["security"] == [{"api_key": []}]
    assert doc["components"]["securitySchemes"]["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    assert listing["responses"]["200"]["content"][JSON]["schema"] == {"$ref": "#/components/schemas/Pet"}
    assert "X-Count" in listing["responses"]["200"]["headers"]
    assert doc["paths"]["/pets"]["post"]["requestBody"]["content"][JSON]["schema"] == {
        "$ref": "#/components/schemas/Pet"
    }
    assert doc["paths"]["/pets/{petId}"]["get"]["parameters"] == [
        {"name": "petId", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    assert "x-amazon-apigateway-any-method" in doc["paths"]["/{proxy+}"]
    pet = doc["components"]["schemas"]["Pet"]
    assert "$schema" not in pet and "definitions" not in pet
    assert pet["properties"]["owner"] == {"$ref": "#/components/schemas/Owner"}
    assert pet["properties"]["name"] == {"type": "string", "nullable": True}
    # Without extensions there is nothing AWS-specific on the operations.
    assert not [key for key in json.dumps(doc["paths"]).split('"') if key.startswith("x-amazon-apigateway-integration")]


@pytest.mark.django_db
def test_swagger_uses_host_base_path_definitions_and_body_parameters(settings: Any) -> None:
    stage = build()
    doc = export(stage, "swagger")
    assert doc["swagger"] == "2.0"
    assert doc["host"] == f"{stage.rest_api_id}.{settings.GATEWAY['PUBLIC_HOST']}:{settings.GATEWAY_PORT}"
    assert doc["basePath"] == "/prod"
    body = [p for p in doc["paths"]["/pets"]["post"]["parameters"] if p["in"] == "body"]
    assert body == [{"in": "body", "name": "Pet", "required": True, "schema": {"$ref": "#/definitions/Pet"}}]
    assert doc["securityDefinitions"]["api_key"]["in"] == "header"
    assert "nullable" not in json.dumps(doc["definitions"])


@pytest.mark.django_db
def test_extensions_add_integrations_authorizers_and_apigateway_settings() -> None:
    stage = build()
    plain = export(stage, "oas30", "authorizers")
    scheme = plain["components"]["securitySchemes"]["tokens"]
    assert scheme["x-amazon-apigateway-authtype"] == "custom"
    assert scheme["x-amazon-apigateway-authorizer"]["type"] == "token"
    assert "x-amazon-apigateway-integration" not in plain["paths"]["/pets"]["post"]

    doc = export(stage, "oas30", "apigateway")
    integration = doc["paths"]["/pets"]["post"]["x-amazon-apigateway-integration"]
    assert integration["type"] == "http"
    assert integration["uri"] == "http://backend.example/pets"
    assert set(integration["responses"]) == {"default", "4\\d{2}"}
    assert doc["paths"]["/pets"]["post"]["x-amazon-apigateway-request-validator"] == "body-only"
    assert doc["x-amazon-apigateway-request-validators"]["body-only"]["validateRequestBody"] is True
    assert doc["x-amazon-apigateway-api-key-source"] == "HEADER"


@pytest.mark.django_db
def test_the_export_is_the_deployed_snapshot_not_the_live_definition() -> None:
    stage = build()
    api = stage.rest_api
    root = api.resources.get(parent=None)
    design.resource_create(api=api, parent_id=root.id, path_part="undeployed")
    method = m.Method.objects.get(resource__rest_api=api, resource__path="/pets", http_method="GET")
    design.method_update(
        method=method, patch_operations=[PatchOp(op="replace", path="/operationName", value="Renamed")]
    )
    doc = export(m.Stage.objects.get(pk=stage.pk), "oas30")
    assert "/undeployed" not in doc["paths"]
    assert doc["paths"]["/pets"]["get"]["operationId"] == "ListPets"


@pytest.mark.django_db
def test_yaml_and_json_render_the_same_document() -> None:
    doc = export(build(), "oas30", "integrations")
    assert yaml.safe_load(render(doc, "application/yaml")) == json.loads(render(doc, "application/json"))


def test_extension_names_are_read_as_aws_writes_them() -> None:
    assert parse_extensions("'integrations,authorizers'") == {"integrations", "authorizers"}
    assert parse_extensions("postman, bogus") == {"postman"}
    assert parse_extensions(None) == frozenset()
