"""A pooled HTTP/1.1 client for the gateway's upstream calls: asyncio protocols, responses parsed by httptools.

Why not aiohttp: on the gateway's hot path aiohttp's request/response machinery cost ~150 µs of CPU per
proxied call, more than the rest of the gateway together (bench/README.md, "Upstream client"). This client
does only what a proxy needs: keep-alive connections pooled per origin, one request at a time on each,
the whole response read into memory, nothing invented (no cookies, redirects, decompression or default
headers beyond Host and the body's framing).

Rules it keeps:
- a connection goes back to the pool only after a complete response that allows keep-alive, to a request
  that was completely sent; anything else (timeout, cancellation, early or unsolicited data, a parse
  error) closes it, so a late answer can never be read as the next request's response;
- a pool holds at most `max_connections` per origin; callers beyond that wait for one in turn;
- idle connections are dropped after `idle_timeout`, or as soon as the server closes them;
- an idempotent request that finds its reused connection closed before any byte came back is sent again
  once on another connection (the server closed it while it sat idle: a race every keep-alive client has).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections import deque
from collections.abc import AsyncIterable, Awaitable, Iterable
from typing import TypeVar, cast
from urllib.parse import quote

import httptools

DEFAULT_MAX_CONNECTIONS = 256
DEFAULT_IDLE_TIMEOUT = 15.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
# Methods whose request means a body: sent with `content-length: 0` when there is none, as aiohttp and curl do.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# A body up to this size goes out in the same write as the head (one send call).
COALESCE_BYTES = 64 * 1024
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# What a URL may hold unescaped; anything else (space, quote, control, non-ASCII) is escaped.
URL_SAFE = "!#$%&'()*+,/:;=?@[]~"
# Framing is the client's: a caller's Content-Length or Transfer-Encoding could disagree with the body.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})
FRAMING_HEADERS_BYTES = frozenset(name.encode() for name in FRAMING_HEADERS)

HeaderList = Iterable[tuple[str, str]]
Body = bytes | Iterable[bytes] | AsyncIterable[bytes]
T = TypeVar("T")


class UpstreamError(OSError):
    """The upstream request failed. An OSError, so code that handles network failures handles it too."""


class UpstreamConnectError(UpstreamError):
    """No connection could be opened to the upstream (refused, unreachable, unknown host, TLS failure)."""


class UpstreamDisconnected(UpstreamError):
    """The upstream closed the connection before the whole response arrived."""


class UpstreamProtocolError(UpstreamError):
    """The upstream answered with something that is not a valid HTTP/1.1 response."""


class UpstreamTimeout(UpstreamError, TimeoutError):
    """No complete response arrived within the request's timeout."""


class InvalidRequest(ValueError):
    """The request cannot be sent as given (bad URL, method or header)."""


class HTTPResponse:
    """A complete upstream response: status, headers as received (names in their case) and the whole body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        """Return the first value of a header (case-insensitive), or None."""
        wanted = name.lower().encode("latin-1")
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None


class _StopParsing(Exception):
    """Raised from a parser callback to stop httptools reading further (HEAD, unsolicited data)."""


def _parser(protocol: _Connection) -> httptools.HttpResponseParser:
    parser = httptools.HttpResponseParser(protocol)
    # Accept bytes HTTP forbids in header values (as aiohttp did) and hand them on: a proxy answers with
    # the rest of the response and drops such headers (messages.proxy_response_headers), rather than 502.
    parser.set_dangerous_leniencies(lenient_headers=True)
    return parser


class _Connection(asyncio.Protocol):
    """One keep-alive connection: sends a request, parses its response, and says whether it can be reused."""

    def __init__(self, pool: _Pool):
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = _parser(self)
        self.waiter: asyncio.Future[HTTPResponse] | None = None
        self.status = self.requests = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        # `reusable`: a complete response allowed keep-alive; `request_sent`: False while a body streams out.
        self.head_request = self.reusable = self.complete = self.received = self.request_sent = False
        self.closed = self.idle = self.forgotten = self.paused = False
        self.idle_since = 0.0
        self.drain_waiter: asyncio.Future[None] | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not its subclasses

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            # Nobody asked: an idle connection the server wrote to, or an answer after a timeout.
            self.close()
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # a 101 answer was completed (not reusable) in on_message_complete
        except httptools.HttpParserCallbackError:
            if not self.complete:
                self._fail(UpstreamProtocolError(f"Unexpected data from {self.pool.name}"))
            elif not (self.head_request and data.endswith(b"\r\n\r\n")):
                # Bytes after the response (a second response, a HEAD response's body): not ours to read.
                self.reusable = False
        except httptools.HttpParserError as exc:
            self._fail(UpstreamProtocolError(f"Invalid HTTP response from {self.pool.name}: {exc}"))

    def eof_received(self) -> bool:
        return False  # let the transport close; connection_lost finishes the story

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            framed = any(name.lower() in FRAMING_HEADERS_BYTES for name, _ in self.headers)
            if self.status >= 200 and not framed and not self.head_request and self.status not in (204, 304):
                self._finish(keep_alive=False)  # a body delimited by the connection closing: complete
            else:
                reason = f": {exc}" if exc else ""
                waiter.set_exception(
                    UpstreamDisconnected(f"{self.pool.name} closed the connection before a complete response{reason}")
                )
        drain = self.drain_waiter
        if drain is not None and not drain.done():
            drain.set_exception(UpstreamDisconnected(f"{self.pool.name} closed the connection"))
        if self.idle:
            self.pool.discard_idle(self)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        drain = self.drain_waiter
        if drain is not None and not drain.done():
            drain.set_result(None)

    # -- httptools callbacks --------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:
            raise _StopParsing  # a second response to one request

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = status = self.parser.get_status_code()
        if self.head_request and status >= 200:
            # A HEAD response has no body whatever its Content-Length says; httptools cannot be told
            # which method the response is to, so stop it here and start a fresh parser for the next one.
            self._finish(keep_alive=self.parser.should_keep_alive())
            self.parser = _parser(self)
            raise _StopParsing

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        status = self.status
        if status < 200 and status != 101:
            self.headers = []  # informational (100 Continue, 103 Early Hints): the real response follows
            return
        self._finish(keep_alive=status != 101 and self.parser.should_keep_alive())

    # -- the request ----------------------------------------------------------------------------------

    def send(
        self, data: bytes, body: bytes, head_request: bool, *, streamed: bool = False
    ) -> asyncio.Future[HTTPResponse]:
        """Write a request head and body (or just the head of a streamed one); return its response's future."""
        transport = self.transport
        assert transport is not None
        self.waiter = waiter = self.pool.loop.create_future()
        self.status = 0
        self.headers = []
        self.chunks = []
        self.head_request = head_request
        self.reusable = self.complete = self.received = False
        self.request_sent = not streamed
        self.requests += 1
        if not body:
            transport.write(data)
        elif len(body) <= COALESCE_BYTES:
            transport.write(data + body)
        else:
            transport.writelines((data, body))
        return waiter

    async def drain(self) -> None:
        """Wait until the transport's write buffer drains below its high-water mark."""
        if self.closed:
            raise UpstreamDisconnected(f"{self.pool.name} closed the connection")
        if self.paused:
            self.drain_waiter = self.pool.loop.create_future()
            try:
                await self.drain_waiter
            finally:
                self.drain_waiter = None

    def _finish(self, *, keep_alive: bool) -> None:
        self.complete = True
        chunks = self.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self.reusable = keep_alive
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(HTTPResponse(self.status, self.headers, body))

    def _fail(self, exc: Exception) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        """Close the connection; it is never reused."""
        self.reusable = False
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()

    def is_closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def can_be_reused(self) -> bool:
        """Return whether the last exchange left the connection clean for the next request."""
        transport = self.transport
        return (
            self.reusable
            and self.request_sent
            and not self.closed
            and transport is not None
            and not transport.is_closing()
            # The server answered before reading the whole request: what is left unsent poisons the stream.
            and transport.get_write_buffer_size() == 0
        )


class _Pool:
    """The connections to one origin (scheme, host, port): idle ones on a stack, and a bound on all of them."""

    def __init__(self, client: HTTPClient, host: str, port: int, ssl_context: ssl.SSLContext | None):
        self.loop = asyncio.get_running_loop()
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.name = f"{host}:{port}"
        self.limit = client.max_connections
        self.idle_timeout = client.idle_timeout
        # Most recently used on top: a steady load keeps a few connections warm and lets the rest expire.
        self.idle: list[_Connection] = []
        # Connections open or being opened (a slot each), idle or in use.
        self.size = 0
        self.waiters: deque[asyncio.Future[_Connection | None]] = deque()
        self.closed = False

    def take_idle(self) -> _Connection | None:
        """Return a live idle connection, dropping expired ones on the way, or None."""
        idle = self.idle
        if not idle:
            return None
        now = self.loop.time()
        # One look at the oldest per call keeps a long stack from holding connections the server dropped.
        oldest = idle[0]
        if now - oldest.idle_since > self.idle_timeout:
            del idle[0]
            oldest.idle = False
            self.retire(oldest)
        while idle:
            conn = idle.pop()
            conn.idle = False
            if conn.closed or now - conn.idle_since > self.idle_timeout or conn.is_closing():
                self.retire(conn)
                continue
            return conn
        return None

    async def acquire(self) -> _Connection:
        """Return an idle connection, a new one if the bound allows, else wait for one to be released."""
        conn = self.take_idle()
        if conn is not None:
            return conn
        if self.closed:
            raise UpstreamError("The HTTP client is closed")
        if self.size < self.limit:
            self.size += 1
            return await self._connect()
        waiter: asyncio.Future[_Connection | None] = self.loop.create_future()
        self.waiters.append(waiter)
        try:
            handed = await waiter
        except BaseException:
            if not waiter.done() or waiter.cancelled():
                with contextlib.suppress(ValueError):  # already popped (and skipped) by a release
                    self.waiters.remove(waiter)
            elif waiter.exception() is None:
                # Woken and cancelled in the same breath: pass what we were handed on.
                handed = waiter.result()
                if handed is None:
                    self.free_slot()
                else:
                    self.release(handed)
            raise
        if handed is None:
            return await self._connect()  # a slot, already counted for us
        return handed

    async def _connect(self) -> _Connection:
        try:
            _, conn = await self.loop.create_connection(
                lambda: _Connection(self),
                self.host,
                self.port,
                ssl=self.ssl_context,
                server_hostname=self.host if self.ssl_context is not None else None,
            )
        except BaseException as exc:
            self.free_slot()
            if isinstance(exc, OSError):
                raise UpstreamConnectError(f"Cannot connect to {self.name}: {exc}") from exc
            raise
        return conn

    def release(self, conn: _Connection) -> None:
        """Take a connection back after a request: to the next waiter or the idle stack if clean, else close it."""
        if not self.closed and conn.can_be_reused():
            waiters = self.waiters
            while waiters:
                waiter = waiters.popleft()
                if not waiter.done():
                    waiter.set_result(conn)
                    return
            conn.idle = True
            conn.idle_since = self.loop.time()
            self.idle.append(conn)
            return
        self.retire(conn)

    def retire(self, conn: _Connection) -> None:
        """Close a connection and give its slot up, once."""
        conn.close()
        if not conn.forgotten:
            conn.forgotten = True
            self.free_slot()

    def discard_idle(self, conn: _Connection) -> None:
        """Forget an idle connection the server closed."""
        if conn.idle:
            conn.idle = False
            self.idle.remove(conn)
        self.retire(conn)

    def free_slot(self) -> None:
        """Hand a slot to the first caller waiting for one, or count it free."""
        waiters = self.waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.size -= 1

    def close(self) -> None:
        """Close idle connections now and in-use ones when they come back; fail whoever waits."""
        self.closed = True
        while self.idle:
            conn = self.idle.pop()
            conn.idle = False
            self.retire(conn)
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(UpstreamError("The HTTP client is closed"))


class _Target:
    """A parsed URL: the pool key, the request target and the Host header value."""

    __slots__ = ("host", "host_header", "key", "port", "secure", "target")

    def __init__(self, url: str):
        if not (url.isascii() and url.isprintable()) or " " in url:
            # Spaces, controls or non-ASCII (say, from a mapped path parameter) have no place in a request
            # target: escape them (UTF-8), leaving escapes already there alone.
            url = quote(url, safe=URL_SAFE)
        try:
            parsed = httptools.parse_url(url.encode("ascii"))
        except httptools.HttpParserInvalidURLError as exc:
            raise InvalidRequest(f"Invalid URL {url!r}") from exc
        scheme = (parsed.schema or b"").lower()
        if scheme not in (b"http", b"https") or not parsed.host:
            raise InvalidRequest(f"Invalid URL {url!r}: only http:// and https:// URLs with a host")
        self.secure = scheme == b"https"
        self.host = parsed.host.decode("ascii")
        default_port = 443 if self.secure else 80
        self.port = parsed.port or default_port
        bracketed = f"[{self.host}]" if ":" in self.host else self.host
        self.host_header = bracketed if self.port == default_port else f"{bracketed}:{self.port}"
        self.key = (self.secure, self.host, self.port)
        path = (parsed.path or b"/").decode("ascii")
        self.target = f"{path}?{parsed.query.decode('ascii')}" if parsed.query is not None else path
        if parsed.userinfo:
            raise InvalidRequest("Credentials in a URL are not sent: map an Authorization header instead")


def _head(method: str, target: _Target, headers: HeaderList, length: int | None) -> bytes:
    """Return the request line and headers, ending with the blank line; length None means chunked."""
    lines = [f"{method} {target.target} HTTP/1.1\r\n"]
    has_host = False
    for name, value in headers:
        size = len(name)
        # Only a few names matter here; their lengths spare lower-casing every other one.
        if size in (4, 14, 17):
            lowered = name.lower()
            if lowered in FRAMING_HEADERS:
                continue
            has_host = has_host or lowered == "host"
        lines.append(f"{name}: {value}\r\n")
    if not has_host:
        lines.append(f"host: {target.host_header}\r\n")
    if length is None:
        lines.append("transfer-encoding: chunked\r\n")
    elif length or method in BODY_METHODS:
        lines.append(f"content-length: {length}\r\n")
    lines.append("\r\n")
    text = "".join(lines)
    # Each line brings exactly one CR and one LF: more means a name or value tried to start a new header.
    if text.count("\n") != len(lines) or text.count("\r") != len(lines) or "\x00" in text:
        raise InvalidRequest("Header names and values must not contain CR, LF or NUL")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _timeout_error(pool: _Pool, timeout: float | None) -> UpstreamTimeout:
    return UpstreamTimeout(f"No complete response from {pool.name} within {round((timeout or 0) * 1000)} ms")


def _expire(waiter: asyncio.Future[HTTPResponse], pool: _Pool, timeout: float | None) -> None:
    if not waiter.done():
        waiter.set_exception(_timeout_error(pool, timeout))


async def _within(awaitable: Awaitable[T], pool: _Pool, deadline: float | None, timeout: float | None) -> T:
    """Await something under the request's deadline, its expiry raised as UpstreamTimeout."""
    try:
        async with asyncio.timeout_at(deadline):
            return await awaitable
    except TimeoutError as exc:
        if isinstance(exc, UpstreamTimeout):
            raise
        raise _timeout_error(pool, timeout) from None


class HTTPClient:
    """Send HTTP/1.1 requests over keep-alive connections pooled per origin; safe for concurrent use."""

    def __init__(
        self,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ):
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self._ssl_context = ssl_context
        self._pools: dict[tuple[bool, str, int], _Pool] = {}
        self._targets: dict[str, _Target] = {}
        self._methods: set[str] = set()
        self._closed = False

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: HeaderList = (),
        body: Body = b"",
        timeout: float | None = None,
    ) -> HTTPResponse:
        """Send a request and return the complete response.

        `body` as bytes goes with a Content-Length; an iterable or async iterable of bytes goes chunked.
        `timeout` (seconds) bounds everything: waiting for a connection, connecting, sending and reading.
        Raises UpstreamTimeout, UpstreamConnectError, UpstreamDisconnected, UpstreamProtocolError (all
        UpstreamError, an OSError) and InvalidRequest (a ValueError).
        """
        if self._closed:
            raise UpstreamError("The HTTP client is closed")
        if method not in self._methods:
            if not TOKEN.fullmatch(method):
                raise InvalidRequest(f"Invalid method {method!r}")
            if len(self._methods) < 64:
                self._methods.add(method)
        target = self._target(url)
        pool = self._pools.get(target.key)
        if pool is None:
            pool = self._pool(target)
        loop = pool.loop
        deadline = None if timeout is None else loop.time() + timeout
        if isinstance(body, bytes | bytearray | memoryview):
            data = bytes(body)
            head = _head(method, target, headers, len(data))
            return await self._exchange(pool, method, head, data, deadline, timeout)
        return await _within(self._stream(pool, _head(method, target, headers, None), body), pool, deadline, timeout)

    async def _exchange(
        self, pool: _Pool, method: str, head: bytes, body: bytes, deadline: float | None, timeout: float | None
    ) -> HTTPResponse:
        retried = False
        while True:
            conn = pool.take_idle()
            if conn is None:
                conn = await self._acquire(pool, deadline, timeout)
            reused = conn.requests > 0
            waiter = conn.send(head, body, method == "HEAD")
            handle = None
            if deadline is not None:
                handle = pool.loop.call_at(deadline, _expire, waiter, pool, timeout)
            try:
                response = await waiter
            except UpstreamDisconnected:
                received = conn.received
                pool.retire(conn)
                if reused and not received and not retried and method in IDEMPOTENT_METHODS:
                    retried = True
                    continue
                raise
            except BaseException:
                pool.retire(conn)
                raise
            finally:
                if handle is not None:
                    handle.cancel()
            pool.release(conn)
            return response

    async def _acquire(self, pool: _Pool, deadline: float | None, timeout: float | None) -> _Connection:
        if deadline is None:
            return await pool.acquire()
        return await _within(pool.acquire(), pool, deadline, timeout)

    async def _stream(self, pool: _Pool, head: bytes, body: Iterable[bytes] | AsyncIterable[bytes]) -> HTTPResponse:
        conn = await pool.acquire()
        try:
            waiter = conn.send(head, b"", head_request=False, streamed=True)
            transport = conn.transport
            assert transport is not None
            async for chunk in _chunks(body):
                if waiter.done() or conn.closed:
                    break  # answered (or failed) before the whole body went out: not reusable
                if chunk:
                    transport.writelines((f"{len(chunk):x}\r\n".encode(), chunk, b"\r\n"))
                    await conn.drain()
            else:
                if not conn.closed:
                    transport.write(b"0\r\n\r\n")
                    conn.request_sent = True
            response = await waiter
        except BaseException:
            pool.retire(conn)
            raise
        pool.release(conn)
        return response

    def _target(self, url: str) -> _Target:
        # Integration URIs repeat: parse each distinct URL once (bounded, so client-controlled paths can't grow it).
        target = self._targets.get(url)
        if target is None:
            target = _Target(url)
            if len(self._targets) >= 4096:
                self._targets.clear()
            self._targets[url] = target
        return target

    def _pool(self, target: _Target) -> _Pool:
        context = None
        if target.secure:
            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            context = self._ssl_context
        pool = self._pools[target.key] = _Pool(self, target.host, target.port, context)
        return pool

    def connection_count(self) -> int:
        """Return how many connections are open or being opened, over all origins."""
        return sum(pool.size for pool in self._pools.values())

    async def close(self) -> None:
        """Close every pooled connection; requests in flight finish, then their connections close."""
        self._closed = True
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        # Let the transports run their close callbacks before the loop may go away.
        await asyncio.sleep(0)


async def _chunks(body: Iterable[bytes] | AsyncIterable[bytes]) -> AsyncIterable[bytes]:
    if isinstance(body, AsyncIterable):
        async for chunk in body:
            yield bytes(chunk)
    else:
        for chunk in body:
            yield bytes(chunk)
