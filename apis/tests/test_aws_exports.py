"""GetExport through boto3: the body arrives as a stream of JSON or YAML that validates, errors as AWS's."""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import pytest
import yaml
from openapi_spec_validator import validate

from apis.tests.test_openapi import build


def test_boto3_exports_oas30_json_as_a_stream(apigw: Any, owner: Any) -> None:
    stage = build(owner)
    answer = apigw.get_export(restApiId=stage.rest_api_id, stageName="prod", exportType="oas30")
    assert answer["contentType"] == "application/json"
    assert answer["contentDisposition"] == f'attachment; filename="{stage.rest_api_id}-prod-oas30.json"'
    document = json.loads(answer["body"].read())
    validate(document)
    assert document["openapi"] == "3.0.1"
    assert "x-amazon-apigateway-integration" not in document["paths"]["/pets"]["get"]


def test_boto3_exports_swagger_yaml_with_extensions(apigw: Any, owner: Any) -> None:
    stage = build(owner)
    answer = apigw.get_export(
        restApiId=stage.rest_api_id,
        stageName="prod",
        exportType="swagger",
        accepts="application/yaml",
        parameters={"extensions": "integrations,authorizers"},
    )
    assert answer["contentType"] == "application/yaml"
    document = yaml.safe_load(answer["body"].read())
    validate(document)
    assert document["swagger"] == "2.0"
    assert document["paths"]["/pets"]["get"]["x-amazon-apigateway-integration"]["type"] == "mock"
    assert "x-amazon-apigateway-authorizer" in document["securityDefinitions"]["tokens"]


@pytest.mark.parametrize(
    ("kwargs", "error", "status"),
    [
        ({"stageName": "nope", "exportType": "oas30"}, "NotFoundException", 404),
        ({"stageName": "prod", "exportType": "postman"}, "BadRequestException", 400),
        ({"stageName": "prod", "exportType": "oas30", "accepts": "text/html"}, "BadRequestException", 400),
    ],
)
def test_boto3_sees_aws_errors(apigw: Any, owner: Any, kwargs: dict, error: str, status: int) -> None:
    stage = build(owner)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        apigw.get_export(restApiId=stage.rest_api_id, **kwargs)
    assert caught.value.response["Error"]["Code"] == error
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
