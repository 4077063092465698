"""HTTP_PROXY: the request goes to the backend as sent, and the backend's answer comes back as it is."""

from __future__ import annotations

from gateway_runtime.tests import snapshots
from gateway_runtime.tests.conftest import StartGateway
from gateway_runtime.tests.servers import BINARY_PAYLOAD, Backend, LoopThread, RawBackend
from gateway_runtime.tests.snapshots import http_proxy


def test_it_relays_method_path_multi_value_query_and_body(start_gateway: StartGateway, backend: Backend) -> None:
    gateway = start_gateway([snapshots.stage({("/items", "ANY"): http_proxy(f"{backend.url}/backend/items")})])

    reply = gateway.request(
        "PATCH",
        "/prod/items?tag=a&tag=b&empty=&q=x%20y",
        body=b'{"n": 1}',
        headers={"Content-Type": "application/json", "Cookie": "session=abc"},
    )

    assert reply.status == 200
    echoed = reply.json()
    assert echoed["method"] == "PATCH"
    assert echoed["path"] == "/backend/items"
    assert echoed["query"] == [["tag", "a"], ["tag", "b"], ["empty", ""], ["q", "x y"]]
    assert echoed["body"] == '{"n": 1}'
    assert reply.echoed_headers()["content-type"] == ["application/json"]
    assert reply.echoed_headers()["cookie"] == ["session=abc"]
    assert reply.header("set-cookie") == "a=1"


def test_it_uses_the_integration_http_method_unless_it_is_any(start_gateway: StartGateway, backend: Backend) -> None:
    gateway = start_gateway([snapshots.stage({("/x", "GET"): http_proxy(f"{backend.url}/x", http_method="POST")})])

    assert gateway.request("GET", "/prod/x").json()["method"] == "POST"


def test_it_substitutes_path_parameters_and_the_greedy_proxy(start_gateway: StartGateway, backend: Backend) -> None:
    gateway = start_gateway(
        [
            snapshots.stage(
                {
                    ("/pets/{petId}", "GET"): http_proxy(f"{backend.url}/animals/{{petId}}"),
                    ("/files/{proxy+}", "ANY"): http_proxy(f"{backend.url}/store/{{proxy}}"),
                }
            )
        ]
    )

    assert gateway.request("GET", "/prod/pets/42").json()["path"] == "/animals/42"
    assert gateway.request("GET", "/prod/files/a/b%20c/d.txt").json()["path"] == "/store/a/b%20c/d.txt"


def test_it_replaces_stage_variables_in_the_uri(start_gateway: StartGateway, backend: Backend) -> None:
    integration = http_proxy("http://${stageVariables.host}/v/${stageVariables.version}/thing")
    gateway = start_gateway(
        [
            snapshots.stage(
                {("/thing", "GET"): integration}, variables={"host": f"127.0.0.1:{backend.port}", "version": "7"}
            )
        ]
    )

    reply = gateway.request("GET", "/prod/thing?a=1")

    assert reply.json()["path"] == "/v/7/thing"
    assert reply.json()["query"] == [["a", "1"]]


def test_it_applies_request_parameter_mappings(start_gateway: StartGateway, backend: Backend) -> None:
    integration = http_proxy(
        f"{backend.url}/owners/{{owner}}",
        requestParameters={
            "integration.request.path.owner": "method.request.header.X-Owner",
            "integration.request.querystring.source": "'gateway'",
            "integration.request.header.X-Stage-Color": "stageVariables.color",
        },
    )
    gateway = start_gateway([snapshots.stage({("/pets", "GET"): integration}, variables={"color": "blue"})])

    reply = gateway.request("GET", "/prod/pets?source=client&keep=1", headers={"X-Owner": "ann"})

    echoed = reply.json()
    assert echoed["path"] == "/owners/ann"
    assert sorted(echoed["query"]) == [["keep", "1"], ["source", "gateway"]]
    assert reply.echoed_headers()["x-stage-color"] == ["blue"]


def test_it_removes_hop_by_hop_headers_both_ways_and_sets_host(start_gateway: StartGateway, backend: Backend) -> None:
    gateway = start_gateway(
        [
            snapshots.stage(
                {("/echo", "GET"): http_proxy(f"{backend.url}/echo"), ("/hop", "GET"): http_proxy(f"{backend.url}/hop")}
            )
        ]
    )

    echoed = gateway.request(
        "GET",
        "/prod/echo",
        headers={
            "Connection": "keep-alive, X-Private",
            "X-Private": "secret",
            "Keep-Alive": "timeout=5",
            "Proxy-Authorization": "Basic abc",
            "TE": "trailers",
            "X-Kept": "yes",
        },
    ).echoed_headers()
    relayed = gateway.request("GET", "/prod/hop")

    assert echoed["host"] == [f"127.0.0.1:{backend.port}"]
    assert echoed["x-kept"] == ["yes"]
    for name in ("connection", "x-private", "keep-alive", "proxy-authorization", "te"):
        assert name not in echoed
    assert echoed["x-forwarded-for"] == ["127.0.0.1"]
    assert relayed.body == b"hop"
    assert relayed.header("keep-alive") is None
    assert relayed.header("proxy-authenticate") is None
    assert relayed.header("x-private") is None


def test_it_returns_the_backend_status_headers_and_body(start_gateway: StartGateway, backend: Backend) -> None:
    gateway = start_gateway([snapshots.stage({("/s", "GET"): http_proxy(f"{backend.url}/status/418")})])

    reply = gateway.request("GET", "/prod/s")

    assert reply.status == 418
    assert reply.json() == {"code": 418}
    assert reply.header("x-upstream-id") == "id-418"
    assert (
        reply.header(
            "x-amzn-remapped-server",
        )
        is not None
    )
    assert reply.header("x-amzn-RequestId")


def test_it_round_trips_binary_bodies_byte_for_byte(start_gateway: StartGateway, backend: Backend) -> None:
    gateway = start_gateway(
        [
            snapshots.stage(
                {("/bin", "ANY"): http_proxy(f"{backend.url}/binary")}, binary_media_types=["application/octet-stream"]
            )
        ]
    )
    upload = bytes(reversed(BINARY_PAYLOAD))

    downloaded = gateway.request("GET", "/prod/bin")
    echoed = gateway.request("POST", "/prod/bin", body=upload, headers={"Content-Type": "application/octet-stream"})

    assert downloaded.body == BINARY_PAYLOAD
    assert echoed.body == upload
    assert echoed.header("content-type") == "application/octet-stream"


def test_it_drops_a_backend_header_value_http_forbids(start_gateway: StartGateway, loop_thread: LoopThread) -> None:
    raw = RawBackend(loop_thread, b"HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\nX-Good: ok\r\nContent-Length: 2\r\n\r\nok")
    gateway = start_gateway([snapshots.stage({("/raw", "GET"): http_proxy(f"http://127.0.0.1:{raw.port}/")})])

    try:
        reply = gateway.request("GET", "/prod/raw")
    finally:
        raw.close()

    assert reply.status == 200
    assert reply.body == b"ok"
    assert reply.header("x-good") == "ok"
    assert reply.header("x-bad") is None


def test_it_relays_a_no_content_answer_without_a_body_or_length(start_gateway: StartGateway, backend: Backend) -> None:
    gateway = start_gateway([snapshots.stage({("/gone", "DELETE"): http_proxy(f"{backend.url}/status/204")})])

    reply = gateway.request("DELETE", "/prod/gone")

    assert reply.status == 204
    assert reply.body == b""
    assert reply.header("content-length") is None
