"""Routing: AWS precedence (literal > {param} > {proxy+}), ANY, HEAD/OPTIONS, and the no-match answer."""

from __future__ import annotations

import uuid

from gateway_runtime.router import Router, template_params
from gateway_runtime.tests import snapshots
from gateway_runtime.tests.conftest import StartGateway
from gateway_runtime.tests.snapshots import mock


def _router(*routes: tuple[str, str]) -> Router[str]:
    router: Router[str] = Router()
    for path, verb in routes:
        router.add(path, verb, f"{verb} {path}")
    return router


def test_it_prefers_a_literal_segment_over_a_parameter() -> None:
    router = _router(("/pets/{petId}", "GET"), ("/pets/mine", "GET"))

    assert router.match("GET", "/pets/mine") == ("GET /pets/mine", {})
    assert router.match("GET", "/pets/7") == ("GET /pets/{petId}", {"petId": "7"})


def test_it_prefers_a_parameter_over_a_greedy_parameter() -> None:
    router = _router(("/{proxy+}", "ANY"), ("/pets/{petId}", "GET"))

    assert router.match("GET", "/pets/7") == ("GET /pets/{petId}", {"petId": "7"})
    assert router.match("GET", "/pets/7/toys") == ("ANY /{proxy+}", {"proxy": "pets/7/toys"})


def test_it_falls_back_to_a_greedy_sibling_when_the_specific_resource_lacks_the_verb() -> None:
    router = _router(("/{proxy+}", "ANY"), ("/pets", "GET"))

    assert router.match("POST", "/pets") == ("ANY /{proxy+}", {"proxy": "pets"})


def test_it_matches_a_greedy_parameter_on_one_or_more_segments_only() -> None:
    router = _router(("/files/{path+}", "GET"))

    assert router.match("GET", "/files/a") == ("GET /files/{path+}", {"path": "a"})
    assert router.match("GET", "/files/a/b/c/") == ("GET /files/{path+}", {"path": "a/b/c/"})
    assert router.match("GET", "/files") is None


def test_it_matches_any_for_every_verb_but_prefers_an_explicit_one() -> None:
    router = _router(("/things", "ANY"), ("/things", "DELETE"))

    for verb in ("GET", "POST", "PATCH", "HEAD", "OPTIONS"):
        assert router.match(verb, "/things") == ("ANY /things", {})
    assert router.match("DELETE", "/things") == ("DELETE /things", {})


def test_it_matches_head_and_options_only_where_declared() -> None:
    router = _router(("/a", "GET"), ("/b", "HEAD"), ("/b", "GET"))

    assert router.match("HEAD", "/a") is None
    assert router.match("OPTIONS", "/a") is None
    assert router.match("HEAD", "/b") == ("HEAD /b", {})


def test_it_keeps_parameters_percent_encoded_and_matches_literals_decoded() -> None:
    router = _router(("/by name/{key}", "GET"))

    assert router.match("GET", "/by%20name/a%2Fb") == ("GET /by name/{key}", {"key": "a%2Fb"})


def test_it_does_not_depend_on_the_number_of_routes() -> None:
    router: Router[str] = Router()
    for index in range(5000):
        router.add(f"/r{index}/{{id}}", "GET", f"route {index}")

    assert router.match("GET", "/r4999/x") == ("route 4999", {"id": "x"})
    assert router.match("GET", "/nope/x") is None


def test_it_reads_parameters_from_a_resource_path_for_test_invoke() -> None:
    assert template_params("/pets/{petId}/toys/{rest+}", "/pets/12/toys/a/b") == {"petId": "12", "rest": "a/b"}


def _live_stage() -> dict:
    def answer(text: str) -> dict:
        return mock(responses={"200": {"statusCode": "200", "responseTemplates": {"application/json": text}}})

    return snapshots.stage(
        {
            ("/pets/mine", "GET"): answer("literal"),
            ("/pets/{petId}", "GET"): answer("param"),
            ("/{proxy+}", "ANY"): answer("greedy"),
            ("/head-only", "HEAD"): answer(""),
            ("/get-only", "GET"): answer("get"),
        }
    )


def test_it_applies_route_precedence_over_live_http(start_gateway: StartGateway) -> None:
    gateway = start_gateway([_live_stage()])

    assert gateway.request("GET", "/prod/pets/mine").body == b"literal"
    assert gateway.request("GET", "/prod/pets/12").body == b"param"
    assert gateway.request("GET", "/prod/pets/12/toys").body == b"greedy"
    assert gateway.request("DELETE", "/prod/pets/12").body == b"greedy"
    assert gateway.request("HEAD", "/prod/head-only").status == 200


def test_it_answers_missing_authentication_token_when_nothing_matches(start_gateway: StartGateway) -> None:
    gateway = start_gateway([snapshots.stage({("/get-only", "GET"): mock()})])

    for method, path in (("POST", "/prod/get-only"), ("OPTIONS", "/prod/get-only"), ("GET", "/prod/nowhere")):
        reply = gateway.request(method, path)
        assert reply.status == 403
        assert reply.json() == {"message": "Missing Authentication Token"}
        assert reply.header("x-amzn-ErrorType") == "MissingAuthenticationTokenException"
        assert uuid.UUID(reply.header("x-amzn-RequestId") or "").version == 4
