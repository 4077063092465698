"""SigV4 on the live management API: who may call it, signature checks, clock skew and failed-attempt limits."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import boto3
import botocore.auth
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from django.core.cache import cache

from apis.services.access import access_key_create
from apis.tests.aws_calls import aws_error, raw_call, status_of
from apis.tests.conftest import make_client


@pytest.fixture(autouse=True)
def no_remembered_failures():
    cache.clear()
    yield
    cache.clear()


def unknown_credentials() -> dict[str, str]:
    return {"aws_access_key_id": f"PKIA{uuid.uuid4().hex[:16].upper()}", "aws_secret_access_key": "s" * 40}


def wrong_secret(credentials: dict[str, str]) -> dict[str, str]:
    return {**credentials, "aws_secret_access_key": "not-the-secret-" + "x" * 25}


def test_a_signed_request_from_an_owner_succeeds(apigw):
    assert status_of(apigw.get_rest_apis()) == 200


def test_a_request_without_signature_is_refused(live_web, owner):
    client = boto3.client(
        "apigateway",
        endpoint_url=f"{live_web.url}/aws",
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )

    with aws_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token"):
        client.get_rest_apis()
    with aws_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token"):
        client.create_rest_api(name="anonymous")


def test_an_unknown_access_key_is_refused(live_web, owner):
    client = make_client(live_web, unknown_credentials())

    with aws_error(403, "UnrecognizedClientException", "The security token included in the request is invalid."):
        client.get_rest_apis()


def test_a_wrong_secret_is_refused(live_web, credentials, apigw):
    client = make_client(live_web, wrong_secret(credentials))

    with aws_error(403, "InvalidSignatureException", "The request signature we calculated does not match"):
        client.create_rest_api(name="forged")
    assert apigw.get_rest_apis()["items"] == []


def test_a_tampered_body_is_refused(live_web, credentials, apigw):
    signed = raw_call(live_web.url, "POST", "/restapis", credentials=credentials, body=b'{"name": "signed"}')
    assert signed.status == 201

    forged = raw_call(
        live_web.url,
        "POST",
        "/restapis",
        credentials=credentials,
        body=b'{"name": "signed"}',
        sent_body=b'{"name": "forged"}',
    )

    assert forged.status == 403
    assert forged.error_type == "InvalidSignatureException"
    assert [api["name"] for api in apigw.get_rest_apis()["items"]] == ["signed"]


@pytest.mark.parametrize(
    ("shift", "message"),
    [
        (dt.timedelta(minutes=-6), "Signature expired"),
        (dt.timedelta(minutes=6), "Signature not yet current"),
    ],
)
def test_a_signature_more_than_five_minutes_off_is_refused(monkeypatch, apigw, shift, message):
    skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) + shift
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: skewed)

    with aws_error(403, "InvalidSignatureException", message):
        apigw.get_rest_apis()


def test_a_signature_within_five_minutes_is_accepted(monkeypatch, apigw):
    skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=4)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: skewed)

    assert status_of(apigw.get_rest_apis()) == 200


@pytest.mark.parametrize("region", ["eu-west-3", "ap-southeast-2", "us-east-1"])
def test_any_region_works(live_web, credentials, region):
    client = make_client(live_web, credentials, region=region)

    created = client.create_rest_api(name=f"in-{region}")

    assert status_of(created) == 201
    assert client.get_rest_api(restApiId=created["id"])["name"] == f"in-{region}"


def test_a_credential_scoped_to_another_service_is_refused(live_web, credentials):
    response = raw_call(live_web.url, "GET", "/restapis", credentials=credentials, service="execute-api")

    assert response.status == 403
    assert response.error_type == "InvalidSignatureException"
    assert "Credential should be scoped to a valid region and service" in response.json["message"]


def test_a_malformed_authorization_header_is_refused(live_web, owner):
    response = raw_call(
        live_web.url, "GET", "/restapis", credentials=None, headers={"Authorization": "AWS4-HMAC-SHA256 nonsense"}
    )

    assert response.status == 403
    assert response.error_type == "IncompleteSignatureException"


def test_a_key_of_a_user_who_is_not_staff_is_denied(live_web, owner):
    from django.contrib.auth import get_user_model

    consumer = get_user_model().objects.create_user("consumer", "consumer@example.com", "pw-consumer-123")
    key, secret = access_key_create(user=consumer)
    client = make_client(live_web, {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": secret})

    with aws_error(403, "AccessDeniedException"):
        client.get_rest_apis()
    with aws_error(403, "AccessDeniedException"):
        client.create_rest_api(name="not-mine")


def test_a_key_of_a_deactivated_owner_is_refused(live_web, owner, credentials):
    owner.is_active = False
    owner.save()

    with aws_error(403, "UnrecognizedClientException"):
        make_client(live_web, credentials).get_rest_apis()


# --- Failed attempts are limited per key id and source address -----------------------------------------


@pytest.fixture
def three_failures_allowed(settings):
    settings.SIGV4_FAILED_ATTEMPTS_LIMIT = 3
    settings.SIGV4_FAILED_ATTEMPTS_WINDOW = 60


def lock_out(forger) -> None:
    """Fail three times with a wrong secret; the fourth attempt is refused before its signature is checked."""
    for _ in range(3):
        with aws_error(403, "InvalidSignatureException"):
            forger.get_rest_apis()
    with aws_error(429, "TooManyRequestsException", "Too many failed authentication attempts"):
        forger.get_rest_apis()


def test_wrong_secrets_lock_the_key_id_out(live_web, credentials, three_failures_allowed):
    forger = make_client(live_web, wrong_secret(credentials))

    lock_out(forger)

    with aws_error(429, "TooManyRequestsException"):
        make_client(live_web, credentials).get_rest_apis()


def test_unknown_key_ids_are_limited_too(live_web, owner, three_failures_allowed):
    stranger = make_client(live_web, unknown_credentials())
    for _ in range(3):
        with aws_error(403, "UnrecognizedClientException"):
            stranger.get_rest_apis()

    with aws_error(429, "TooManyRequestsException"):
        stranger.get_rest_apis()


def test_a_lockout_is_per_key_id(live_web, owner, credentials, three_failures_allowed):
    second_key, second_secret = access_key_create(user=owner)
    forger = make_client(live_web, wrong_secret(credentials))
    lock_out(forger)

    other = make_client(
        live_web, {"aws_access_key_id": second_key.access_key_id, "aws_secret_access_key": second_secret}
    )

    assert status_of(other.get_rest_apis()) == 200


def test_a_lockout_is_per_source_address(live_web, credentials, three_failures_allowed):
    forger = make_client(live_web, wrong_secret(credentials))
    lock_out(forger)
    assert raw_call(live_web.url, "GET", "/restapis", credentials=credentials).status == 429

    elsewhere = raw_call(live_web.url, "GET", "/restapis", credentials=credentials, source_address="127.0.0.2")

    assert elsewhere.status == 200
    assert elsewhere.json == {"item": []}


def test_successful_requests_do_not_count_as_failures(apigw, three_failures_allowed):
    for _ in range(5):
        assert status_of(apigw.get_rest_apis()) == 200


def test_a_lockout_ends_with_its_window(live_web, credentials, settings):
    settings.SIGV4_FAILED_ATTEMPTS_LIMIT = 3
    settings.SIGV4_FAILED_ATTEMPTS_WINDOW = 1
    lock_out(make_client(live_web, wrong_secret(credentials)))

    time.sleep(1.5)

    assert status_of(make_client(live_web, credentials).get_rest_apis()) == 200
