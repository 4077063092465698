"""One pipelined connection to Redis per gateway process, for the counters on the hot path.

Why not redis-py's asyncio client: a pipeline there costs ~30 µs of CPU per request in connection-pool,
pipeline and reply-parsing machinery, more than the Lua script Redis runs (bench/README.md). Here every
command of the process goes over one connection: the commands asked for in one turn of the event loop go
out in one write, and replies, parsed by hiredis (C), complete the waiting futures in order. Commands are
packed once by the caller (hiredis.pack_command) and may be reused, as the counters' EVALSHA of one route
and key is.

Failures: a lost connection fails every command waiting on it with ConnectionError, and the next command
opens a new connection. A command whose caller stopped waiting (timed out, cancelled) still takes its
place in the reply order; its reply is dropped. Deadlines are the caller's (the limiter's).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

import hiredis

ReplyError = hiredis.ReplyError
CONNECT_TIMEOUT_SECONDS = 1.0


class RedisAddress:
    """Where to connect, and how to log in: from a redis://, rediss:// or unix:// URL."""

    __slots__ = ("db", "host", "password", "path", "port", "secure", "username")

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"Unsupported Redis URL scheme {parts.scheme!r} (redis://, rediss:// or unix://)")
        self.secure = parts.scheme == "rediss"
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.path = parts.path if parts.scheme == "unix" else None
        self.host = parts.hostname or "localhost"
        self.port = parts.port or 6379
        db = ""
        if parts.scheme == "unix":
            db = next(
                (value for name, _, value in (p.partition("=") for p in parts.query.split("&")) if name == "db"), ""
            )
        else:
            db = parts.path.lstrip("/")
        self.db = int(db) if db else 0


class RedisProtocolError(ConnectionError):
    """Redis sent something that is not RESP: the connection cannot be trusted any more."""


class _Protocol(asyncio.Protocol):
    """The connection: commands out in one write per loop turn, replies matched to futures in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.reader = hiredis.Reader()
        self.pending: deque[asyncio.Future[Any]] = deque()
        self.outgoing: list[bytes] = []
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, packed: bytes, answer: asyncio.Future[Any]) -> None:
        if self.closed:
            answer.set_exception(ConnectionError("The connection to Redis is closed"))
            return
        self.pending.append(answer)
        if not self.outgoing:
            self.loop.call_soon(self._flush)
        self.outgoing.append(packed)

    def _flush(self) -> None:
        outgoing, self.outgoing = self.outgoing, []
        if not self.closed and self.transport is not None:
            self.transport.write(outgoing[0] if len(outgoing) == 1 else b"".join(outgoing))

    def data_received(self, data: bytes) -> None:
        reader, pending = self.reader, self.pending
        reader.feed(data)
        while True:
            try:
                reply = reader.gets()
            except hiredis.ProtocolError as exc:
                self._fail(RedisProtocolError(f"Redis sent an unreadable reply: {exc}"))
                if self.transport is not None:
                    self.transport.abort()
                return
            if reply is False:
                return
            if not pending:
                self._fail(RedisProtocolError("Redis sent a reply nobody asked for"))
                if self.transport is not None:
                    self.transport.abort()
                return
            answer = pending.popleft()
            if not answer.done():
                answer.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"Connection to Redis lost: {exc or 'closed by the server'}"))

    def _fail(self, exc: Exception) -> None:
        self.closed = True
        pending, self.pending = self.pending, deque()
        for answer in pending:
            if not answer.done():
                answer.set_exception(exc)

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()
        self._fail(ConnectionError("The connection to Redis was closed"))


class RedisPipe:
    """Every Redis command of this process over one pipelined connection, opened on first use."""

    def __init__(self, url: str, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS):
        self.address = RedisAddress(url)
        self.connect_timeout = connect_timeout
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._backlog: list[tuple[bytes, asyncio.Future[Any]]] = []

    def call(self, packed: bytes) -> asyncio.Future[Any]:
        """Send a packed command; return the future of its reply (a ReplyError instance for an error reply)."""
        protocol = self._protocol
        if protocol is not None and not protocol.closed:
            answer = protocol.loop.create_future()
            protocol.send(packed, answer)
            return answer
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self._backlog.append((packed, answer))
        if self._connecting is None:
            self._connecting = loop.create_task(self._connect(), name="redis-connect")
        return answer

    async def execute(self, *args: Any) -> Any:
        """Send one command and return its reply; raise ReplyError for an error reply."""
        reply = await self.call(hiredis.pack_command(args))
        if isinstance(reply, ReplyError):
            raise reply
        return reply

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        address = self.address
        protocol: _Protocol | None = None
        try:
            async with asyncio.timeout(self.connect_timeout):
                if address.path is not None:
                    _, protocol = await loop.create_unix_connection(lambda: _Protocol(loop), address.path)
                else:
                    context = ssl.create_default_context() if address.secure else None
                    _, protocol = await loop.create_connection(
                        lambda: _Protocol(loop), address.host, address.port, ssl=context
                    )
                for command in self._login_commands():
                    answer = loop.create_future()
                    protocol.send(hiredis.pack_command(command), answer)
                    reply = await answer
                    if isinstance(reply, ReplyError):
                        raise ConnectionError(f"Redis refused {command[0]}: {reply}")
        except BaseException as exc:
            if protocol is not None:
                protocol.close()  # connected, but the login failed or ran out of time
            self._connecting = None
            backlog, self._backlog = self._backlog, []
            failure = exc if isinstance(exc, ConnectionError) else ConnectionError(f"Cannot connect to Redis: {exc!r}")
            for _, answer in backlog:
                if not answer.done():
                    answer.set_exception(failure)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        self._connecting = None
        self._protocol = protocol
        backlog, self._backlog = self._backlog, []
        for packed, answer in backlog:
            if not answer.done():
                protocol.send(packed, answer)

    def _login_commands(self) -> list[tuple[Any, ...]]:
        address, commands = self.address, []
        if address.password is not None:
            credentials = (address.username, address.password) if address.username else (address.password,)
            commands.append(("AUTH", *credentials))
        if address.db:
            commands.append(("SELECT", address.db))
        return commands

    def reset(self) -> None:
        """Drop the connection (after a failure it is likely dead); the next command opens a new one."""
        if self._protocol is not None:
            self._protocol.close()
            self._protocol = None

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
        self.reset()
        await asyncio.sleep(0)
