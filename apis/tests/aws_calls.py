"""Calls to the live management API for the boto3 tests: error checks, paging, raw signed requests, builders."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

MOCK_TEMPLATE = {"application/json": '{"statusCode": 200}'}


def status_of(response: dict) -> int:
    return response["ResponseMetadata"]["HTTPStatusCode"]


@contextmanager
def aws_error(status: int, error_type: str, message: str | None = None) -> Iterator[None]:
    """Expect the block to fail as AWS would: this status, this `x-amzn-ErrorType` and a message containing text."""
    with pytest.raises(ClientError) as info:
        yield
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == error_type, response
    assert response["Error"]["Code"] == error_type, response
    if message is not None:
        assert message in response["Error"]["Message"], response


def all_pages(list_call: Callable[..., dict], **kwargs: Any) -> tuple[list[dict], int]:
    """Follow `position` with `limit=1` until the list is exhausted; return the items and the number of pages."""
    items: list[dict] = []
    pages = 0
    position = None
    while True:
        page = list_call(limit=1, **kwargs, **({"position": position} if position else {}))
        assert status_of(page) == 200
        assert len(page.get("items", [])) <= 1
        items.extend(page.get("items", []))
        pages += 1
        position = page.get("position")
        if not position:
            return items, pages
        assert pages < 100, "paging does not end"


@dataclass
class PetsApi:
    api_id: str
    root_id: str
    pets_id: str


def build_pets_api(apigw: Any, name: str = "pets") -> PetsApi:
    """Create an API with GET /pets answered by a MOCK integration: the smallest API that deploys."""
    api = apigw.create_rest_api(name=name)
    pets = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="pets")
    add_mock_method(apigw, api["id"], pets["id"], "GET")
    return PetsApi(api_id=api["id"], root_id=api["rootResourceId"], pets_id=pets["id"])


def add_mock_method(apigw: Any, api_id: str, resource_id: str, http_method: str) -> None:
    """Put a method answering 200 from a MOCK integration."""
    where = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": http_method}
    apigw.put_method(**where, authorizationType="NONE")
    apigw.put_method_response(**where, statusCode="200")
    apigw.put_integration(**where, type="MOCK", requestTemplates=MOCK_TEMPLATE)
    apigw.put_integration_response(**where, statusCode="200", responseTemplates={"application/json": '{"ok": true}'})


def deploy_stage(apigw: Any, api_id: str, stage_name: str = "prod") -> str:
    """Deploy the API to a stage and return the deployment id."""
    return apigw.create_deployment(restApiId=api_id, stageName=stage_name)["id"]


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def error_type(self) -> str | None:
        return self.headers.get("x-amzn-errortype")


def raw_call(
    base_url: str,
    method: str,
    path: str,
    *,
    credentials: dict[str, str] | None,
    body: bytes = b"",
    region: str = "us-east-1",
    headers: dict[str, str] | None = None,
    source_address: str | None = None,
    service: str = "apigateway",
    sent_body: bytes | None = None,
) -> RawResponse:
    """Send one request to the management API, signed with botocore's SigV4 signer unless credentials is None.

    For requests boto3 will not produce: malformed bodies, odd signatures (another `service`, a `sent_body`
    other than the signed one), another source address.
    """
    url = f"{base_url}/aws{path}"
    request = AWSRequest(
        method=method, url=url, data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    if credentials is not None:
        signer_credentials = Credentials(credentials["aws_access_key_id"], credentials["aws_secret_access_key"])
        SigV4Auth(signer_credentials, service, region).add_auth(request)
    prepared = request.prepare()
    host_port = base_url.removeprefix("http://")
    host, _, port = host_port.partition(":")
    connection = http.client.HTTPConnection(
        host, int(port), timeout=10, source_address=(source_address, 0) if source_address else None
    )
    try:
        sent = body if sent_body is None else sent_body
        connection.request(
            method, prepared.url.removeprefix(base_url), body=sent or None, headers=dict(prepared.headers)
        )
        response = connection.getresponse()
        return RawResponse(
            status=response.status,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=response.read(),
        )
    finally:
        connection.close()
