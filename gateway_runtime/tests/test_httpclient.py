"""The upstream HTTP client against real servers on loopback: aiohttp backends and scripted raw sockets."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import ssl
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvloop
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway_runtime.httpclient import (
    HTTPClient,
    InvalidRequest,
    UpstreamConnectError,
    UpstreamDisconnected,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeout,
)
from gateway_runtime.tests.servers import BINARY_PAYLOAD, bound_socket

LARGE = bytes(range(256)) * 40_000  # 10 MB, every byte value


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return uvloop.run(asyncio.wait_for(coro, 30))


# -- servers -----------------------------------------------------------------------------------------------


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    peer = request.transport.get_extra_info("peername") if request.transport else None
    document = {
        "method": request.method,
        "path_qs": request.raw_path,
        "headers": [[key, value] for key, value in request.headers.items()],
        "body_length": len(body),
        "chunked": request.headers.get("Transfer-Encoding") == "chunked",
        "peer_port": peer[1] if peer else None,
    }
    if request.query.get("delay"):
        await asyncio.sleep(float(request.query["delay"]))
    return web.json_response(document)


async def _chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    size = int(request.query.get("size", "1000"))
    for start in range(0, size, 65536):
        await response.write(LARGE[start : min(size, start + 65536)])
    await response.write_eof()
    return response


async def _large(request: web.Request) -> web.Response:
    return web.Response(body=LARGE, content_type="application/octet-stream")


async def _binary(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(body=body or BINARY_PAYLOAD, content_type="application/octet-stream")


@contextlib.asynccontextmanager
async def aiohttp_backend() -> AsyncIterator[str]:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/chunked", _chunked)
    app.router.add_route("*", "/large", _large)
    app.router.add_route("*", "/binary", _binary)
    app.router.add_route("*", "/{tail:.*}", _echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = bound_socket()
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()


class ScriptedServer:
    """A raw HTTP/1.1 server: reads each request (length or chunked body) and writes what `answer` returns.

    `answer(index, head, body)` returns the bytes to send, or a (bytes, close) pair to close afterwards.
    """

    def __init__(self, answer: Callable[[int, bytes, bytes], bytes | tuple[bytes, bool]], *, read_bodies: bool = True):
        self.answer = answer
        self.read_bodies = read_bodies
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> ScriptedServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                body = await _read_body(reader, head) if self.read_bodies else b""
                index = len(self.requests)
                self.requests.append((head, body))
                answer = self.answer(index, head, body)
                data, close = answer if isinstance(answer, tuple) else (answer, False)
                writer.write(data)
                await writer.drain()
                if close:
                    break
                if not self.read_bodies and b"content-length" in head.lower():
                    await asyncio.sleep(60)  # the unread body fills the socket; this connection is done
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> bytes:
    lines = head.lower().split(b"\r\n")
    if b"transfer-encoding: chunked" in lines:
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return b"".join(chunks)
            chunks.append(chunk[:-2])
    for line in lines:
        if line.startswith(b"content-length:"):
            return await reader.readexactly(int(line.split(b":", 1)[1]))
    return b""


def ok(body: bytes = b"ok", *extra: bytes) -> bytes:
    headers = b"".join(header + b"\r\n" for header in extra)
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), headers, body)


# -- bodies and framing ------------------------------------------------------------------------------------


def test_it_sends_method_target_and_headers_and_returns_status_headers_and_body() -> None:
    async def scenario() -> None:
        async with aiohttp_backend() as url:
            client = HTTPClient()
            response = await client.request(
                "PATCH", f"{url}/a/b%20c?x=1&y=%2F", headers=[("x-one", "1"), ("X-Two", "2")], body=b'{"n":1}'
            )
            await client.close()
        assert response.status == 200
        document = json.loads(response.body)
        assert document["method"] == "PATCH"
        assert document["path_qs"] == "/a/b%20c?x=1&y=%2F"
        sent = {key.lower(): value for key, value in document["headers"]}
        assert sent["x-one"] == "1" and sent["x-two"] == "2"
        assert sent["host"] == url.removeprefix("http://")
        assert sent["content-length"] == "7"
        assert response.header("content-type") == "application/json; charset=utf-8"
        assert (b"Content-Type", b"application/json; charset=utf-8") in response.headers

    run(scenario())


def test_it_reads_chunked_responses_small_and_large() -> None:
    async def scenario() -> None:
        async with aiohttp_backend() as url:
            client = HTTPClient()
            small = await client.request("GET", f"{url}/chunked?size=10")
            large = await client.request("GET", f"{url}/chunked?size={len(LARGE)}")
            await client.close()
        assert small.body == LARGE[:10]
        assert large.body == LARGE
        assert large.header("transfer-encoding") == "chunked"

    run(scenario())


def test_it_moves_large_binary_bodies_both_ways_unchanged() -> None:
    async def scenario() -> None:
        async with aiohttp_backend() as url:
            client = HTTPClient()
            download = await client.request("GET", f"{url}/large")
            upload = await client.request("POST", f"{url}/binary", body=LARGE)
            binary = await client.request("GET", f"{url}/binary")
            await client.close()
        assert download.body == LARGE
        assert upload.body == LARGE
        assert binary.body == BINARY_PAYLOAD

    run(scenario())


def test_it_sends_iterable_bodies_chunked() -> None:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"ab", b"", b"cd" * 50_000):
            await asyncio.sleep(0)
            yield part

    async def scenario() -> None:
        async with ScriptedServer(lambda index, head, body: ok(b"%d" % len(body))) as server:
            client = HTTPClient()
            from_list = await client.request("POST", server.url, body=[b"x" * 10, b"y" * 5])
            from_async = await client.request("PUT", server.url, body=parts())
            after = await client.request("GET", server.url)
            await client.close()
        assert (from_list.body, from_async.body, after.body) == (b"15", b"100002", b"0")
        heads = [head.lower() for head, _ in server.requests]
        assert b"transfer-encoding: chunked" in heads[0] and b"content-length" not in heads[0]
        assert server.requests[1][1] == b"ab" + b"cd" * 50_000
        assert server.connections == 1  # a fully sent chunked request leaves the connection reusable

    run(scenario())


def test_it_frames_bodies_itself_whatever_the_caller_says() -> None:
    async def scenario() -> None:
        async with ScriptedServer(lambda index, head, body: ok(body)) as server:
            client = HTTPClient()
            response = await client.request(
                "POST", server.url, headers=[("Content-Length", "999"), ("transfer-encoding", "chunked")], body=b"abc"
            )
            await client.request("POST", server.url)
            await client.request("GET", server.url)
            await client.close()
        assert response.body == b"abc"
        first, second, third = (head.lower() for head, _ in server.requests)
        assert first.count(b"content-length") == 1 and b"content-length: 3" in first
        assert b"transfer-encoding" not in first
        assert b"content-length: 0" in second
        assert b"content-length" not in third

    run(scenario())


def test_it_hands_on_header_values_http_forbids_for_the_caller_to_drop() -> None:
    async def scenario() -> None:
        answer = b"HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\nX-Good: ok\r\nContent-Length: 2\r\n\r\nok"
        async with ScriptedServer(lambda index, head, body: answer) as server:
            client = HTTPClient()
            response = await client.request("GET", server.url)
            await client.close()
        assert response.headers[:2] == [(b"X-Bad", b"a\x01b"), (b"X-Good", b"ok")]
        assert response.body == b"ok"

    run(scenario())


def test_it_reads_a_body_delimited_by_the_connection_closing() -> None:
    async def scenario() -> None:
        answer = (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"z" * 100_000, True)
        async with ScriptedServer(lambda index, head, body: answer) as server:
            client = HTTPClient()
            first = await client.request("GET", server.url)
            second = await client.request("GET", server.url)
            await client.close()
        assert first.body == second.body == b"z" * 100_000
        assert server.connections == 2

    run(scenario())


@pytest.mark.parametrize("status", [204, 304])
def test_it_reads_no_body_for_204_and_304_and_keeps_the_connection(status: int) -> None:
    async def scenario() -> None:
        def answer(index: int, head: bytes, body: bytes) -> bytes:
            if index == 0:
                return b'HTTP/1.1 %d Nothing\r\nETag: "v1"\r\n\r\n' % status
            return ok(b"next")

        async with ScriptedServer(answer) as server:
            client = HTTPClient()
            empty = await client.request("GET", server.url)
            following = await client.request("GET", server.url)
            await client.close()
        assert (empty.status, empty.body, empty.header("etag")) == (status, b"", '"v1"')
        assert following.body == b"next"
        assert server.connections == 1

    run(scenario())


def test_it_skips_informational_responses() -> None:
    async def scenario() -> None:
        interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        async with ScriptedServer(lambda index, head, body: interim + ok(b"final", b"X-Final: 1")) as server:
            client = HTTPClient()
            response = await client.request("POST", server.url, body=b"data")
            again = await client.request("GET", server.url)
            await client.close()
        assert (response.status, response.body, response.header("x-final")) == (200, b"final", "1")
        assert response.header("link") is None
        assert again.body == b"final" and server.connections == 1

    run(scenario())


def test_a_head_response_has_no_body_and_the_next_response_is_read_right() -> None:
    async def scenario() -> None:
        def answer(index: int, head: bytes, body: bytes) -> bytes:
            if head.startswith(b"HEAD"):
                return b"HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nContent-Type: text/plain\r\n\r\n"
            return ok(b"after-head")

        async with ScriptedServer(answer) as server:
            client = HTTPClient()
            head = await client.request("HEAD", server.url)
            get = await client.request("GET", server.url)
            await client.close()
        assert (head.status, head.body, head.header("content-length")) == (200, b"", "12345")
        assert get.body == b"after-head"
        assert server.connections == 1

    run(scenario())


# -- connections -------------------------------------------------------------------------------------------


def test_it_reuses_keep_alive_connections() -> None:
    async def scenario() -> None:
        async with aiohttp_backend() as url:
            client = HTTPClient()
            ports = {json.loads((await client.request("GET", f"{url}/x")).body)["peer_port"] for _ in range(20)}
            await client.close()
        assert len(ports) == 1

    run(scenario())


def test_it_opens_a_new_connection_after_connection_close() -> None:
    async def scenario() -> None:
        async with ScriptedServer(lambda index, head, body: (ok(b"bye", b"Connection: close"), True)) as server:
            client = HTTPClient()
            bodies = [(await client.request("GET", server.url)).body for _ in range(3)]
            await client.close()
        assert bodies == [b"bye"] * 3
        assert server.connections == 3

    run(scenario())


def test_it_does_not_reuse_a_connection_the_response_said_to_close() -> None:
    async def scenario() -> None:
        # The server says close but leaves the socket open: the client must still not send on it.
        async with ScriptedServer(lambda index, head, body: ok(b"%d" % index, b"Connection: close")) as server:
            client = HTTPClient()
            bodies = [(await client.request("GET", server.url)).body for _ in range(2)]
            await client.close()
        assert bodies == [b"0", b"1"]
        assert server.connections == 2

    run(scenario())


def test_an_answer_before_the_whole_body_was_sent_leaves_the_connection_unused() -> None:
    async def scenario() -> None:
        def answer(index: int, head: bytes, body: bytes) -> bytes:
            return b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n" if index == 0 else ok(b"next")

        # The server answers from the head alone and never reads the body.
        async with ScriptedServer(answer, read_bodies=False) as server:
            client = HTTPClient()
            refused = await client.request("POST", server.url, body=LARGE * 3)
            following = await client.request("GET", server.url, timeout=5)
            await client.close()
        assert (refused.status, following.body) == (413, b"next")
        assert server.connections == 2

    run(scenario())


def test_it_survives_the_server_closing_idle_connections() -> None:
    async def scenario() -> None:
        # The server closes after each answer without saying so: the next request may find the
        # connection dead before or after it writes. Either way it must get an answer.
        async with ScriptedServer(lambda index, head, body: (ok(b"%d" % index), True)) as server:
            client = HTTPClient()
            bodies = [(await client.request("GET", server.url)).body for _ in range(10)]
            await asyncio.sleep(0.05)
            late = await client.request("DELETE", server.url)
            await client.close()
        assert bodies == [b"%d" % index for index in range(10)]
        assert late.status == 200

    run(scenario())


def test_a_post_is_not_sent_twice_when_its_reused_connection_dies() -> None:
    async def scenario() -> None:
        closed = asyncio.Event()

        def answer(index: int, head: bytes, body: bytes) -> bytes | tuple[bytes, bool]:
            if index == 0:
                return ok(b"first")
            closed.set()
            return b"", True  # read the POST, then close without answering

        async with ScriptedServer(answer) as server:
            client = HTTPClient()
            await client.request("GET", server.url)
            with pytest.raises(UpstreamDisconnected):
                await client.request("POST", server.url, body=b"pay")
            await client.close()
        assert [head.split(b" ")[0] for head, _ in server.requests] == [b"GET", b"POST"]

    run(scenario())


def test_it_drops_a_connection_that_brought_more_than_the_response() -> None:
    async def scenario() -> None:
        async with ScriptedServer(lambda index, head, body: ok(b"%d" % index) + ok(b"extra")) as server:
            client = HTTPClient()
            bodies = [(await client.request("GET", server.url)).body for _ in range(2)]
            await client.close()
        assert bodies == [b"0", b"1"]
        assert server.connections == 2

    run(scenario())


def test_it_drops_a_connection_the_server_wrote_to_while_idle() -> None:
    async def scenario() -> None:
        async with ScriptedServer(lambda index, head, body: ok(b"%d" % index)) as server:
            client = HTTPClient()
            assert (await client.request("GET", server.url)).body == b"0"
            server.writers[0].write(ok(b"unsolicited"))
            await asyncio.sleep(0.05)
            second = await client.request("GET", server.url)
            await client.close()
        assert second.body == b"1"
        assert server.connections == 2

    run(scenario())


def test_it_bounds_the_pool_and_serves_every_waiting_caller() -> None:
    async def scenario() -> None:
        async with aiohttp_backend() as url:
            client = HTTPClient(max_connections=3)
            responses = await asyncio.gather(*(client.request("GET", f"{url}/x?delay=0.02&n={n}") for n in range(30)))
            count = client.connection_count()
            await client.close()
        documents = [json.loads(response.body) for response in responses]
        assert len({document["peer_port"] for document in documents}) == 3
        assert count == 3

    run(scenario())


def test_no_slot_is_lost_to_callers_that_time_out_or_are_cancelled() -> None:
    async def scenario() -> None:
        async with aiohttp_backend() as url:
            client = HTTPClient(max_connections=3)
            calls = [
                asyncio.ensure_future(client.request("GET", f"{url}/x?delay=0.03&n={n}", timeout=0.02 * (n % 5 + 1)))
                for n in range(60)
            ]
            await asyncio.sleep(0.05)
            for call in calls[::7]:
                call.cancel()
            outcomes = await asyncio.gather(*calls, return_exceptions=True)
            assert client.connection_count() <= 3
            # Every slot came back: a full set of parallel calls still gets through.
            final = await asyncio.gather(*(client.request("GET", f"{url}/y", timeout=5) for _ in range(6)))
            await client.close()
        kinds = {type(outcome).__name__ for outcome in outcomes}
        assert kinds <= {"HTTPResponse", "UpstreamTimeout", "CancelledError"}, kinds
        assert {"HTTPResponse", "UpstreamTimeout", "CancelledError"} <= kinds
        assert [response.status for response in final] == [200] * 6

    run(scenario())


def test_a_caller_cancelled_just_as_it_is_handed_a_connection_passes_it_on() -> None:
    async def scenario() -> None:
        async with aiohttp_backend() as url:
            client = HTTPClient(max_connections=1)
            holder = asyncio.ensure_future(client.request("GET", f"{url}/x?delay=0.1"))
            await asyncio.sleep(0.03)
            cancelled = asyncio.ensure_future(client.request("GET", f"{url}/cancelled"))
            third = asyncio.ensure_future(client.request("GET", f"{url}/third", timeout=5))
            await asyncio.sleep(0.03)
            # Cancel the first waiter in the same breath as the holder hands it the connection.
            pool = next(iter(client._pools.values()))
            release = pool.release

            def release_then_cancel(conn: Any) -> None:
                release(conn)
                cancelled.cancel()

            pool.release = release_then_cancel  # type: ignore[method-assign]
            assert (await holder).status == 200
            pool.release = release  # type: ignore[method-assign]
            with pytest.raises(asyncio.CancelledError):
                await cancelled
            response = await third
            await client.close()
        assert json.loads(response.body)["path_qs"] == "/third"

    run(scenario())


def test_concurrent_requests_each_get_their_own_response() -> None:
    async def scenario() -> None:
        async with aiohttp_backend() as url:
            client = HTTPClient(max_connections=8)
            responses = await asyncio.gather(*(client.request("GET", f"{url}/item/{n}") for n in range(200)))
            await client.close()
        assert [json.loads(response.body)["path_qs"] for response in responses] == [f"/item/{n}" for n in range(200)]

    run(scenario())


# -- failures ----------------------------------------------------------------------------------------------


def test_a_timeout_raises_a_timeout_error_and_the_late_answer_reaches_no_one() -> None:
    async def scenario() -> None:
        async with aiohttp_backend() as url:
            client = HTTPClient(max_connections=1)
            started = time.monotonic()
            with pytest.raises(UpstreamTimeout) as caught:
                await client.request("GET", f"{url}/slow?delay=0.5", timeout=0.1)
            elapsed = time.monotonic() - started
            after = await client.request("GET", f"{url}/after", timeout=5)
            await asyncio.sleep(0.6)
            later = await client.request("GET", f"{url}/later", timeout=5)
            await client.close()
        assert isinstance(caught.value, TimeoutError)
        assert "within 100 ms" in str(caught.value)
        assert 0.09 <= elapsed < 0.4
        assert json.loads(after.body)["path_qs"] == "/after"
        assert json.loads(later.body)["path_qs"] == "/later"

    run(scenario())


def test_the_timeout_covers_waiting_for_a_pooled_connection() -> None:
    async def scenario() -> None:
        async with aiohttp_backend() as url:
            client = HTTPClient(max_connections=1)
            holder = asyncio.ensure_future(client.request("GET", f"{url}/x?delay=0.5"))
            await asyncio.sleep(0.05)
            with pytest.raises(UpstreamTimeout):
                await client.request("GET", f"{url}/y", timeout=0.1)
            assert (await holder).status == 200
            assert (await client.request("GET", f"{url}/z", timeout=2)).status == 200
            await client.close()

    run(scenario())


def test_a_cancelled_request_closes_its_connection() -> None:
    async def scenario() -> None:
        async with aiohttp_backend() as url:
            client = HTTPClient(max_connections=1)
            task = asyncio.ensure_future(client.request("GET", f"{url}/x?delay=0.3"))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            response = await client.request("GET", f"{url}/fresh", timeout=2)
            await client.close()
        assert json.loads(response.body)["path_qs"] == "/fresh"

    run(scenario())


def test_a_refused_port_raises_a_connect_error(refused_port: int) -> None:
    async def scenario() -> None:
        client = HTTPClient()
        with pytest.raises(UpstreamConnectError) as caught:
            await client.request("GET", f"http://127.0.0.1:{refused_port}/", timeout=2)
        assert client.connection_count() == 0
        await client.close()
        assert isinstance(caught.value, OSError)
        assert f"127.0.0.1:{refused_port}" in str(caught.value)

    run(scenario())


def test_a_response_cut_short_raises_disconnected() -> None:
    async def scenario() -> None:
        answer = (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part", True)
        async with ScriptedServer(lambda index, head, body: answer) as server:
            client = HTTPClient()
            with pytest.raises(UpstreamDisconnected):
                await client.request("POST", server.url, body=b"x")
            await client.close()

    run(scenario())


def test_garbage_raises_a_protocol_error() -> None:
    async def scenario() -> None:
        async with ScriptedServer(lambda index, head, body: (b"SSH-2.0-OpenSSH\r\n\r\n", True)) as server:
            client = HTTPClient()
            with pytest.raises(UpstreamProtocolError):
                await client.request("GET", server.url)
            await client.close()

    run(scenario())


@pytest.mark.parametrize(
    "headers",
    [[("x-evil", "a\r\nx-injected: 1")], [("x-evil\r\nx-injected", "1")], [("x-nul", "a\x00b")]],
)
def test_it_refuses_header_injection(headers: list[tuple[str, str]]) -> None:
    async def scenario() -> None:
        async with ScriptedServer(lambda index, head, body: ok()) as server:
            client = HTTPClient()
            with pytest.raises(InvalidRequest):
                await client.request("GET", server.url, headers=headers)
            await client.close()
        assert server.requests == []

    run(scenario())


@pytest.mark.parametrize("url", ["ftp://example.com/", "/relative", "http:///nohost", "http://user:pw@example.com/"])
def test_it_refuses_urls_it_cannot_send_to(url: str) -> None:
    async def scenario() -> None:
        client = HTTPClient()
        with pytest.raises(InvalidRequest):
            await client.request("GET", url)
        with pytest.raises(InvalidRequest):
            await client.request("GET WITH SPACE", "http://127.0.0.1/")
        await client.close()

    run(scenario())


def test_it_escapes_what_a_request_target_cannot_hold() -> None:
    async def scenario() -> None:
        async with ScriptedServer(lambda index, head, body: ok()) as server:
            client = HTTPClient()
            await client.request("GET", f"http://127.0.0.1:{server.port}/a b/é/%2F?q=1 2")
            await client.close()
        assert server.requests[0][0].startswith(b"GET /a%20b/%C3%A9/%2F?q=1%202 HTTP/1.1\r\n")

    run(scenario())


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_it_speaks_https_and_checks_the_certificate(tmp_path: Path) -> None:
    cert_path, key_path = _self_signed(tmp_path)

    async def scenario() -> None:
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(cert_path, key_path)
        server = await asyncio.start_server(_https_answer, "127.0.0.1", 0, ssl=server_context)
        url = f"https://localhost:{server.sockets[0].getsockname()[1]}/secure"
        try:
            trusting = HTTPClient(ssl_context=ssl.create_default_context(cafile=str(cert_path)))
            first = await trusting.request("GET", url)
            second = await trusting.request("GET", url)
            count = trusting.connection_count()
            await trusting.close()
            default = HTTPClient()
            with pytest.raises(UpstreamConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await default.request("GET", url, timeout=5)
            await default.close()
        finally:
            server.close()
        assert first.body == second.body == b"secret"
        assert count == 1

    run(scenario())


async def _https_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"GET /secure HTTP/1.1\r\n")
            writer.write(ok(b"secret"))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        writer.close()


def test_a_closed_client_refuses_requests() -> None:
    async def scenario() -> None:
        client = HTTPClient()
        await client.close()
        with pytest.raises(UpstreamError):
            await client.request("GET", "http://127.0.0.1:9/")

    run(scenario())
