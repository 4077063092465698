"""Config reload: the gateway picks up a new version from its source without restarting."""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway_runtime.tests import snapshots
from gateway_runtime.tests.conftest import Gateway, StartGateway
from gateway_runtime.tests.servers import Reply
from gateway_runtime.tests.snapshots import mock


def _answering(text: str, revision: int, **kwargs: object) -> dict:
    responses = {"200": {"statusCode": "200", "responseTemplates": {"application/json": text}}}
    return snapshots.stage({("/v", "GET"): mock(responses=responses)}, revision=revision, **kwargs)


def _poll(gateway: Gateway, path: str, until: Callable[[Reply], bool], seconds: float = 2.0) -> tuple[Reply, float]:
    started = time.monotonic()
    while True:
        reply = gateway.request("GET", path)
        elapsed = time.monotonic() - started
        if until(reply) or elapsed > seconds:
            return reply, elapsed
        time.sleep(0.02)


def test_it_serves_a_new_config_version_within_two_seconds(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_answering("one", revision=1)])
    assert gateway.request("GET", "/prod/v").body == b"one"

    gateway.source.replace([_answering("two", revision=2)])
    reply, elapsed = _poll(gateway, "/prod/v", lambda reply: reply.body == b"two")

    assert reply.body == b"two"
    assert elapsed < 2.0


def test_it_stops_serving_a_removed_stage_and_starts_a_new_one(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_answering("prod", revision=1)])

    gateway.source.replace([_answering("beta", revision=1, stage_name="beta")])
    reply, _ = _poll(gateway, "/beta/v", lambda reply: reply.status == 200)

    assert reply.body == b"beta"
    assert gateway.request("GET", "/prod/v").status == 403


def test_it_keeps_the_previous_revision_when_a_new_one_cannot_be_compiled(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_answering("good", revision=1)])
    broken = _answering("bad", revision=2)
    broken["snapshot"]["resources"] = "not a list of resources"

    gateway.source.replace([broken])
    time.sleep(0.5)

    assert gateway.request("GET", "/prod/v").body == b"good"
    assert gateway.app.runtime.revisions["a1b2c3d4e5/prod"] == 2
