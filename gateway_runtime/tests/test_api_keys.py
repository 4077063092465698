"""API keys: a method that requires one admits only an enabled key of a usage plan covering its stage."""

from __future__ import annotations

import logging
import time

import pytest

from gateway_runtime.config import GatewaySettings
from gateway_runtime.tests import snapshots
from gateway_runtime.tests.conftest import Gateway, StartGateway
from gateway_runtime.tests.snapshots import API_ID, mock

PEPPER = b"runtime-test-pepper"
SETTINGS = GatewaySettings(config_poll_seconds=0.1, api_key_pepper=PEPPER)
GOOD = "GoodKeyValue0123456789abcdef"
OFF = "DisabledKeyValue0123456789ab"
ELSEWHERE = "BetaOnlyKeyValue0123456789ab"
LONER = "NoPlanKeyValue0123456789abcd"


def _stage(**kwargs: object) -> dict:
    routes = {("/pets", "GET"): mock(), ("/open", "GET"): mock()}
    return snapshots.stage(routes, key_required=[("/pets", "GET")], **kwargs)  # type: ignore[arg-type]


def _keyring(*, good_enabled: bool = True) -> dict:
    plans = {
        "prodplan": snapshots.plan({f"{API_ID}/prod": {}}),
        "betaplan": snapshots.plan({f"{API_ID}/beta": {}}),
    }
    keys = [
        (GOOD, "goodkey001", good_enabled, ["prodplan"]),
        (OFF, "offkey0001", False, ["prodplan"]),
        (ELSEWHERE, "betakey001", True, ["betaplan"]),
        (LONER, "lonerkey01", True, []),
    ]
    return snapshots.keyring(keys, plans, pepper=PEPPER)


@pytest.fixture
def gateway(start_gateway: StartGateway) -> Gateway:
    return start_gateway([_stage()], settings=SETTINGS, keyring=_keyring())


def _get(gateway: Gateway, key: str | None, path: str = "/prod/pets") -> tuple[int, dict, str | None]:
    reply = gateway.request("GET", path, headers={"x-api-key": key} if key is not None else None)
    return reply.status, reply.json(), reply.header("x-amzn-ErrorType")


def test_it_admits_an_enabled_key_of_a_plan_covering_the_stage(gateway: Gateway) -> None:
    assert _get(gateway, GOOD) == (200, {"mock": True}, None)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("WrongKeyValue0123456789abcdef", id="unknown"),
        pytest.param(OFF, id="disabled"),
        pytest.param(ELSEWHERE, id="plan-for-another-stage"),
        pytest.param(LONER, id="in-no-plan"),
        pytest.param(GOOD.lower(), id="wrong-case"),
    ],
)
def test_it_refuses_any_other_key_with_403_forbidden(gateway: Gateway, key: str | None) -> None:
    assert _get(gateway, key) == (403, {"message": "Forbidden"}, "ForbiddenException")


def test_a_method_without_api_key_required_ignores_keys(gateway: Gateway) -> None:
    assert _get(gateway, None, "/prod/open")[0] == 200
    assert _get(gateway, "WrongKeyValue0123456789abcdef", "/prod/open")[0] == 200


def test_with_the_authorizer_key_source_a_header_key_is_not_used(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_stage(api_key_source="AUTHORIZER")], settings=SETTINGS, keyring=_keyring())

    assert _get(gateway, GOOD)[0] == 403


def test_a_key_disabled_in_the_control_plane_stops_working_at_the_next_poll(gateway: Gateway) -> None:
    assert _get(gateway, GOOD)[0] == 200

    gateway.source.replace_keyring(_keyring(good_enabled=False))
    deadline = time.monotonic() + 2
    while _get(gateway, GOOD)[0] == 200 and time.monotonic() < deadline:
        time.sleep(0.02)

    assert _get(gateway, GOOD)[0] == 403


def test_the_invalid_api_key_gateway_response_can_be_customised(start_gateway: StartGateway) -> None:
    custom = {"responseType": "INVALID_API_KEY", "statusCode": "401", "responseTemplates": {}}
    gateway = start_gateway([_stage(gateway_responses=[custom])], settings=SETTINGS, keyring=_keyring())

    assert _get(gateway, None) == (401, {"message": "Forbidden"}, "ForbiddenException")


def test_the_key_value_is_never_logged(gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    for key in (GOOD, OFF, "WrongKeyValue0123456789abcdef"):
        _get(gateway, key)
    gateway.source.replace_keyring(_keyring())  # a reload logs the keyring it installed
    time.sleep(0.3)

    assert any(record.name == "gateway_runtime.runtime" for record in caplog.records)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for key in (GOOD, OFF, "WrongKeyValue0123456789abcdef"):
        assert key not in logged
