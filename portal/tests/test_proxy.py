"""The try-it proxy: only to the gateway, only for visible stages and own keys, forwarding just what a call needs."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from apis.secrets import decrypt
from gateway_runtime.tests.servers import Backend, ServerThread, bound_socket
from portal import services
from portal.tests.conftest import eventually, signed_in
from portal.tests.factories import Published, publish

KEY = "HTTP_X_PORTICO_KEY"


@pytest.fixture
def unreachable_gateway(settings: Any) -> None:
    with bound_socket() as sock:  # bound, never listening: connections are refused
        settings.PORTAL_GATEWAY_URL = f"http://127.0.0.1:{sock.getsockname()[1]}"
        yield


@pytest.mark.django_db
def test_anonymous_calls_are_refused(client: Client, published: Published) -> None:
    response = client.get("/apis/weather-api/proxy/hello", **{KEY: "none"})
    assert response.status_code == 401


@pytest.mark.django_db
def test_the_try_it_header_is_required(alice: Client, published: Published) -> None:
    # A link or a form on another site cannot set it, so it cannot make a signed-in consumer call an API.
    response = alice.get("/apis/weather-api/proxy/hello")
    assert response.status_code == 400
    assert "X-Portico-Key" in response.json()["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["hello/../../other/prod/hello", "%2e%2e/x", "./hello"])
def test_a_path_cannot_leave_the_stage(alice: Client, published: Published, path: str) -> None:
    response = alice.get(f"/apis/weather-api/proxy/{path}", **{KEY: "none"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_an_unpublished_stage_is_not_proxied(alice: Client, published: Published) -> None:
    services.portal_unpublish(listing=published.listing)
    assert alice.get("/apis/weather-api/proxy/hello", **{KEY: "none"}).status_code == 404


@pytest.mark.django_db
def test_a_gateway_that_does_not_answer_is_a_502(
    alice: Client, published: Published, unreachable_gateway: None
) -> None:
    response = alice.get("/apis/weather-api/proxy/hello", **{KEY: "none"})
    assert response.status_code == 502
    assert response.json() == {"message": "The gateway could not be reached."}


@pytest.mark.django_db
def test_try_it_is_rate_limited_per_consumer(
    alice: Client, bob: Client, published: Published, unreachable_gateway: None, settings: Any
) -> None:
    settings.PORTAL_TRY_IT_PER_MINUTE = 2
    if int(time.time()) % 60 > 57:
        time.sleep(3)  # keep the three calls inside one minute window
    statuses = [alice.get("/apis/weather-api/proxy/hello", **{KEY: "none"}).status_code for _ in range(3)]
    assert statuses == [502, 502, 429]
    assert bob.get("/apis/weather-api/proxy/hello", **{KEY: "none"}).status_code == 502, "limits are per consumer"


@pytest.mark.django_db(transaction=True)
def test_calls_reach_the_gateway_with_the_chosen_key_and_nothing_else(
    live_gateway: ServerThread, echo_backend: Backend, api_owner: Any, consumer: Any
) -> None:
    published = publish(api_owner, name="Echo", backend_url=echo_backend.url)
    services.subscription_create(consumer=consumer, listing=published.listing, plan=published.free)
    key, value = services.consumer_key_create(consumer=consumer, name="laptop")
    client = signed_in(consumer)
    client.cookies["tracking"] = "do-not-forward"

    hello = eventually(
        lambda: client.get("/apis/echo-api/proxy/hello?name=ada", **{KEY: key.id}), lambda r: r.status_code != 403
    )
    assert hello.status_code == 200, hello.content
    assert hello.json() == {"hello": "world"}
    assert hello["x-amzn-RequestId"]

    echoed = client.post(
        "/apis/echo-api/proxy/echo/things/1?a=1&b=two",
        data=json.dumps({"name": "Rex"}),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
        HTTP_AUTHORIZATION="Bearer consumer-session-secret",
        **{KEY: key.id},
    )
    assert echoed.status_code == 200, echoed.content
    seen = echoed.json()
    headers = {name.lower(): v for name, v in seen["headers"]}
    assert seen["method"] == "POST"
    assert seen["path"] == "/things/1"
    assert sorted(seen["query"]) == [["a", "1"], ["b", "two"]]
    assert json.loads(seen["body"]) == {"name": "Rex"}
    assert headers["content-type"] == "application/json"
    assert headers["x-api-key"] == value == decrypt(key.value_encrypted)
    for withheld in ("cookie", "authorization", "x-portico-key", "x-csrftoken"):
        assert withheld not in headers, f"{withheld} must not reach the API"
    assert "Set-Cookie" not in echoed, "an API's cookies never land on the portal's origin"
    assert echoed["X-Backend"] == "echo"
    assert echoed["Content-Security-Policy"].startswith("sandbox")
