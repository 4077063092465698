"""Live servers for runtime tests: aiohttp backends and the gateway under uvicorn, on free loopback ports."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

import uvicorn
from aiohttp import web

BINARY_PAYLOAD = bytes(range(256)) * 64


def bound_socket() -> socket.socket:
    """Return a socket bound to a free port on 127.0.0.1 (the kernel picks it, so parallel runs never clash)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class LoopThread:
    """An asyncio loop in a daemon thread, for servers the synchronous tests talk to."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    document = {
        "method": request.method,
        "path": request.raw_path.split("?", 1)[0],
        "query": [[key, value] for key, value in request.query.items()],
        "headers": [[key, value] for key, value in request.headers.items()],
        "body": body.decode("utf-8", "replace"),
    }
    return web.json_response(
        document,
        status=int(request.headers.get("x-echo-status", "200")),
        headers={"X-Backend": "echo", "Set-Cookie": "a=1", "X-Multi": "one"},
    )


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.query.get("seconds", "3")))
    return web.json_response({"slow": True})


async def _binary(request: web.Request) -> web.Response:
    body = await request.read() if request.method == "POST" else BINARY_PAYLOAD
    return web.Response(body=body, content_type="application/octet-stream")


async def _status(request: web.Request) -> web.Response:
    code = int(request.match_info["code"])
    return web.json_response({"code": code}, status=code, headers={"X-Upstream-Id": f"id-{code}"})


async def _hop_by_hop(request: web.Request) -> web.StreamResponse:
    response = web.Response(text="hop", headers={"Connection": "keep-alive, X-Private", "X-Private": "secret"})
    response.headers["Keep-Alive"] = "timeout=5"
    response.headers["Proxy-Authenticate"] = "Basic"
    return response


def backend_app() -> web.Application:
    """Return the test backend: echo, slow, binary, status and hop-by-hop endpoints."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/slow", _slow)
    app.router.add_route("*", "/binary", _binary)
    app.router.add_route("*", "/status/{code}", _status)
    app.router.add_route("*", "/hop", _hop_by_hop)
    app.router.add_route("*", "/{tail:.*}", _echo)
    return app


class Backend:
    """The test backend listening on a free loopback port."""

    def __init__(self, loop: LoopThread):
        self._loop = loop
        self._sock = bound_socket()
        self.port = self._sock.getsockname()[1]
        self._runner = web.AppRunner(backend_app(), access_log=None)
        loop.run(self._start())

    async def _start(self) -> None:
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._loop.run(self._runner.cleanup())


class RawBackend:
    """A backend that answers every request with the same bytes, including what aiohttp would refuse to send."""

    def __init__(self, loop: LoopThread, response: bytes):
        self._loop = loop
        self._response = response
        self._server: asyncio.Server = loop.run(asyncio.start_server(self._answer, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(self._response)
        await writer.drain()
        writer.close()

    def close(self) -> None:
        self._server.close()
        self._loop.run(self._server.wait_closed())


class ServerThread:
    """An ASGI app served by uvicorn (uvloop, httptools) in a background thread."""

    def __init__(self, app: Any):
        sock = bound_socket()
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            app, lifespan="on", loop="uvloop", http="httptools", log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(10)


@dataclass
class Reply:
    """A response as the client saw it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)

    def echoed_headers(self) -> dict[str, list[str]]:
        """Return the headers the echo backend received, by lower-case name."""
        received: dict[str, list[str]] = {}
        for key, value in self.json()["headers"]:
            received.setdefault(key.lower(), []).append(value)
        return received


def call(
    port: int,
    method: str,
    path: str,
    *,
    host: str | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | Iterable[bytes] | None = None,
    timeout: float = 15,
) -> Reply:
    """Send one HTTP/1.1 request (an iterable body goes chunked) and read the whole response."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent = dict(headers or {})
        if host is not None:
            sent["Host"] = host
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        connection.close()
