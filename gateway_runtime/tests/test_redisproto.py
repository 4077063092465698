"""The pipelined Redis connection: one connection, one write per loop turn, replies matched in order.

Most tests talk to a real, private redis-server (so they may pause, stop and restart it); the protocol's
failure cases (garbage on the wire, how many writes reach the server) use a fake server on a raw socket.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import hiredis
import pytest
import redis

from gateway_runtime.redisproto import RedisAddress, RedisPipe, RedisProtocolError, ReplyError
from gateway_runtime.tests.redis_support import RedisServer, free_port
from testing_support import installed

PASSWORD = "s3cret"
# An ACL user whose password needs percent-encoding in a URL.
ACL_USER, ACL_PASSWORD, ACL_PASSWORD_IN_URL = "alice", "p@ss:w/rd", "p%40ss%3Aw%2Frd"
PING = hiredis.pack_command(("PING",))


def _run(coroutine: Coroutine[Any, Any, Any], limit: float = 5.0) -> Any:
    """Run a scenario on a fresh loop, bounded so a lost reply fails the test instead of hanging it."""

    async def bounded() -> Any:
        async with asyncio.timeout(limit):
            return await coroutine

    return asyncio.run(bounded())


def _packed(*args: Any) -> bytes:
    return hiredis.pack_command(args)


# -- URLs --------------------------------------------------------------------------------------------------


def test_a_redis_url_names_host_port_and_db() -> None:
    address = RedisAddress("redis://cache.internal:6380/4")

    assert (address.host, address.port, address.db) == ("cache.internal", 6380, 4)
    assert (address.secure, address.path, address.username, address.password) == (False, None, None, None)


def test_a_bare_redis_url_means_localhost_6379_db_0() -> None:
    address = RedisAddress("redis://")

    assert (address.host, address.port, address.db) == ("localhost", 6379, 0)


def test_user_and_password_are_percent_decoded() -> None:
    address = RedisAddress(f"rediss://al%40ice:{ACL_PASSWORD_IN_URL}@cache:6390/2")

    assert (address.username, address.password) == ("al@ice", ACL_PASSWORD)
    assert (address.secure, address.host, address.port, address.db) == (True, "cache", 6390, 2)


def test_a_password_without_a_user_is_a_plain_auth() -> None:
    address = RedisAddress("redis://:hunter2@cache/1")

    assert (address.username, address.password, address.db) == (None, "hunter2", 1)


@pytest.mark.parametrize(
    ("url", "path", "db"),
    [
        ("unix:///run/redis/redis.sock?db=2", "/run/redis/redis.sock", 2),
        ("unix:///run/redis/redis.sock?timeout=1&db=5", "/run/redis/redis.sock", 5),
        ("unix:///tmp/r.sock", "/tmp/r.sock", 0),
    ],
)
def test_a_unix_url_names_the_socket_path_and_takes_the_db_from_the_query(url: str, path: str, db: int) -> None:
    address = RedisAddress(url)

    assert (address.path, address.db) == (path, db)


def test_a_unix_url_may_carry_a_password() -> None:
    address = RedisAddress("unix://:pw%2F1@/tmp/r.sock?db=3")

    assert (address.path, address.password, address.db) == ("/tmp/r.sock", "pw/1", 3)


@pytest.mark.parametrize("url", ["http://cache:6379/0", "redis+sentinel://cache/0", "localhost:6379", ""])
def test_an_unsupported_scheme_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="scheme"):
        RedisAddress(url)


def test_a_db_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError):
        RedisAddress("redis://cache/zero")


# -- against a real Redis --------------------------------------------------------------------------------


def test_many_concurrent_commands_each_get_their_own_reply(private_redis: RedisServer) -> None:
    client = redis.Redis(port=private_redis.port)
    client.mset({f"k:{index}": f"v:{index}" for index in range(500)})

    async def scenario() -> tuple[list[Any], list[Any], set[Any]]:
        pipe = RedisPipe(private_redis.url)
        try:
            counts = await asyncio.gather(*(pipe.execute("INCR", "counter") for _ in range(1000)))
            # Interleave two kinds of command, so a reply matched to the wrong caller shows.
            mixed = await asyncio.gather(
                *(
                    pipe.execute("GET", f"k:{index}") if index % 2 else pipe.execute("INCR", "other")
                    for index in range(500)
                )
            )
            connections = set(await asyncio.gather(*(pipe.execute("CLIENT", "ID") for _ in range(50))))
            return counts, mixed, connections
        finally:
            await pipe.close()

    counts, mixed, connections = _run(scenario())

    assert counts == list(range(1, 1001))
    assert [reply for index, reply in enumerate(mixed) if index % 2] == [
        f"v:{index}".encode() for index in range(1, 500, 2)
    ]
    assert [reply for index, reply in enumerate(mixed) if not index % 2] == list(range(1, 251))
    # Every command of the process went over one connection.
    assert len(connections) == 1
    client.close()


def test_an_error_reply_is_returned_by_call_and_raised_by_execute(private_redis: RedisServer) -> None:
    async def scenario() -> tuple[list[Any], BaseException]:
        pipe = RedisPipe(private_redis.url)
        try:
            await pipe.execute("SET", "text", "not a number")
            futures = [
                pipe.call(_packed("INCR", "n")),
                pipe.call(_packed("INCR", "text")),
                pipe.call(_packed("INCR", "n")),
            ]
            replies = list(await asyncio.gather(*futures))
            with pytest.raises(ReplyError) as raised:
                await pipe.execute("INCR", "text")
            # An error reply is an answer, not a failure: the connection goes on.
            replies.append(await pipe.execute("INCR", "n"))
            return replies, raised.value
        finally:
            await pipe.close()

    replies, raised = _run(scenario())

    assert replies[0] == 1 and replies[2] == 2 and replies[3] == 3
    assert isinstance(replies[1], ReplyError)
    assert "not an integer" in str(replies[1])
    assert "not an integer" in str(raised)


def test_the_db_in_the_url_is_selected(private_redis: RedisServer) -> None:
    async def scenario() -> None:
        pipe = RedisPipe(f"redis://127.0.0.1:{private_redis.port}/3")
        try:
            await pipe.execute("SET", "where", "db3")
        finally:
            await pipe.close()

    _run(scenario())

    assert redis.Redis(port=private_redis.port, db=3).get("where") == b"db3"
    assert redis.Redis(port=private_redis.port, db=0).get("where") is None


@pytest.mark.parametrize("give_up", ["cancel", "time out"])
def test_a_call_given_up_in_flight_keeps_its_place_in_the_reply_order(private_redis: RedisServer, give_up: str) -> None:
    redis.Redis(port=private_redis.port).mset({"one": "1", "two": "2", "three": "3"})

    async def scenario() -> tuple[Any, Any, Any, Any]:
        pipe = RedisPipe(private_redis.url)
        try:
            await pipe.execute("PING")
            private_redis.pause()
            try:
                first, second, third = (pipe.call(_packed("GET", key)) for key in ("one", "two", "three"))
                await asyncio.sleep(0.05)  # written, and waiting on the stalled server
                assert not (first.done() or second.done() or third.done())
                if give_up == "cancel":
                    second.cancel()
                else:
                    second.set_exception(TimeoutError("the caller's deadline"))
                    second.exception()
            finally:
                private_redis.resume()
            after = pipe.call(_packed("GET", "two"))
            return await first, await third, await after, second
        finally:
            await pipe.close()

    first, third, after, second = _run(scenario())

    assert (first, third, after) == (b"1", b"3", b"2")
    assert second.cancelled() if give_up == "cancel" else isinstance(second.exception(), TimeoutError)


def test_a_restart_fails_the_calls_in_flight_and_the_next_call_reconnects(private_redis: RedisServer) -> None:
    async def scenario() -> tuple[list[Any], Any]:
        pipe = RedisPipe(f"redis://127.0.0.1:{private_redis.port}/3")
        try:
            await pipe.execute("PING")
            # BLPOP holds the connection: it and the commands behind it stay in flight until the server goes.
            waiting = [pipe.call(_packed("BLPOP", "nothing", 30)), pipe.call(_packed("GET", "x"))]
            await asyncio.sleep(0.05)
            await asyncio.to_thread(private_redis.stop)
            failures = await asyncio.gather(*waiting, return_exceptions=True)
            await asyncio.to_thread(private_redis.start)
            return failures, await pipe.execute("SET", "after", "restart")
        finally:
            await pipe.close()

    failures, reply = _run(scenario())

    assert all(isinstance(failure, ConnectionError) for failure in failures), failures
    assert reply == b"OK"
    # The new connection selected the URL's db again.
    assert redis.Redis(port=private_redis.port, db=3).get("after") == b"restart"


def test_a_killed_connection_is_replaced_by_the_next_call(private_redis: RedisServer) -> None:
    client = redis.Redis(port=private_redis.port)

    async def scenario() -> tuple[Any, Any]:
        pipe = RedisPipe(private_redis.url)
        try:
            before = await pipe.execute("CLIENT", "ID")
            waiting = pipe.call(_packed("BLPOP", "nothing", 30))
            await asyncio.sleep(0.02)
            client.client_kill_filter(_id=before)
            with pytest.raises(ConnectionError):
                await waiting
            return before, await pipe.execute("CLIENT", "ID")
        finally:
            await pipe.close()

    before, after = _run(scenario())

    assert after != before
    client.close()


def test_reset_fails_the_waiting_calls_and_the_next_call_opens_a_new_connection(private_redis: RedisServer) -> None:
    async def scenario() -> tuple[Any, Any]:
        pipe = RedisPipe(private_redis.url)
        try:
            before = await pipe.execute("CLIENT", "ID")
            waiting = pipe.call(_packed("BLPOP", "nothing", 30))
            await asyncio.sleep(0.02)
            pipe.reset()
            with pytest.raises(ConnectionError):
                await waiting
            return before, await pipe.execute("CLIENT", "ID")
        finally:
            await pipe.close()

    before, after = _run(scenario())

    assert after != before


def test_a_refused_connection_fails_every_waiting_call(refused_port: int) -> None:
    async def scenario() -> list[Any]:
        pipe = RedisPipe(f"redis://127.0.0.1:{refused_port}/0")
        try:
            return await asyncio.gather(*(pipe.execute("PING") for _ in range(3)), return_exceptions=True)
        finally:
            await pipe.close()

    failures = _run(scenario())

    assert len(failures) == 3
    assert all(isinstance(failure, ConnectionError) for failure in failures), failures


def test_a_login_that_times_out_leaves_no_connection_behind(private_redis: RedisServer) -> None:
    # A stalled server accepts connections (the kernel does) but never answers the SELECT.
    async def scenario() -> tuple[list[Any], Any]:
        pipe = RedisPipe(f"redis://127.0.0.1:{private_redis.port}/3", connect_timeout=0.1)
        try:
            private_redis.pause()
            try:
                failures = [await asyncio.gather(pipe.execute("PING"), return_exceptions=True) for _ in range(2)]
            finally:
                private_redis.resume()
            return failures, await pipe.execute("PING")
        finally:
            await pipe.close()

    failures, reply = _run(scenario())
    time.sleep(0.1)  # the server reads what the closed connections sent, and drops them

    assert all(isinstance(failure[0], ConnectionError) for failure in failures), failures
    assert reply == b"PONG"
    left = [client for client in redis.Redis(port=private_redis.port).client_list() if client["db"] == "3"]
    assert left == []


# -- AUTH ------------------------------------------------------------------------------------------------


class SecuredRedis:
    """A private redis-server that wants a password (`requirepass`), and knows one ACL user."""

    def __init__(self) -> None:
        binary = installed("redis-server")
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--requirepass", PASSWORD),
                *("--user", ACL_USER, "on", f">{ACL_PASSWORD}", "~*", "&*", "+@all"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = redis.Redis(port=self.port, password=PASSWORD, socket_timeout=0.5, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError("redis-server with a password did not start") from None
                time.sleep(0.02)

    def url(self, credentials: str, db: int = 0) -> str:
        return f"redis://{credentials}@127.0.0.1:{self.port}/{db}"

    def close(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def secured_redis() -> Iterator[SecuredRedis]:
    server = SecuredRedis()
    yield server
    server.close()


@pytest.mark.parametrize(
    "credentials", [f":{PASSWORD}", f"default:{PASSWORD}", f"{ACL_USER}:{ACL_PASSWORD_IN_URL}"], ids=str
)
def test_the_password_in_the_url_logs_in(secured_redis: SecuredRedis, credentials: str) -> None:
    async def scenario() -> Any:
        pipe = RedisPipe(secured_redis.url(credentials, db=2))
        try:
            await pipe.execute("SET", "who", credentials)
            return await pipe.execute("ACL", "WHOAMI")
        finally:
            await pipe.close()

    user = _run(scenario())

    assert user == (ACL_USER.encode() if credentials.startswith(ACL_USER) else b"default")
    assert redis.Redis(port=secured_redis.port, password=PASSWORD, db=2).get("who") == credentials.encode()


@pytest.mark.parametrize("credentials", [":wrong", f"{ACL_USER}:{PASSWORD}", f"nobody:{PASSWORD}"], ids=str)
def test_a_wrong_password_fails_every_waiting_call_with_connection_error(
    secured_redis: SecuredRedis, credentials: str
) -> None:
    async def scenario() -> list[Any]:
        pipe = RedisPipe(secured_redis.url(credentials))
        try:
            return await asyncio.gather(*(pipe.execute("PING") for _ in range(3)), return_exceptions=True)
        finally:
            await pipe.close()

    failures = _run(scenario())

    assert all(isinstance(failure, ConnectionError) for failure in failures), failures
    assert "AUTH" in str(failures[0])


# -- against a fake server ---------------------------------------------------------------------------------


class FakeRedis:
    """A raw-socket server in a thread: records what each connection receives, answers with `answer`.

    `answer(connection_index, data)` returns the bytes to send back for one received chunk.
    """

    def __init__(self, answer: Callable[[int, bytes], bytes]):
        self.answer = answer
        self.received: list[list[bytes]] = []  # per connection, the chunks recv() returned
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            chunks: list[bytes] = []
            self.received.append(chunks)
            thread = threading.Thread(target=self._talk, args=(connection, len(self.received) - 1, chunks), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _talk(self, connection: socket.socket, index: int, chunks: list[bytes]) -> None:
        connection.settimeout(0.05)
        with connection:
            while not self._stopping.is_set():
                try:
                    data = connection.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                chunks.append(data)
                try:
                    connection.sendall(self.answer(index, data))
                except OSError:
                    return

    def close(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(2)
        self._listener.close()


@pytest.fixture
def fake_redis() -> Iterator[Callable[[Callable[[int, bytes], bytes]], FakeRedis]]:
    servers: list[FakeRedis] = []

    def start(answer: Callable[[int, bytes], bytes]) -> FakeRedis:
        server = FakeRedis(answer)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_garbage_from_the_server_fails_every_waiting_call_with_a_protocol_error(fake_redis) -> None:  # type: ignore[no-untyped-def]
    # The first connection answers garbage; the one that replaces it answers properly.
    server = fake_redis(lambda index, data: b"?junk\r\n" if index == 0 else b"+PONG\r\n" * data.count(PING))

    async def scenario() -> tuple[list[Any], Any]:
        pipe = RedisPipe(server.url)
        try:
            failures = await asyncio.gather(pipe.call(PING), pipe.call(PING), return_exceptions=True)
            return failures, await pipe.execute("PING")
        finally:
            await pipe.close()

    failures, after = _run(scenario())

    assert all(isinstance(failure, RedisProtocolError) for failure in failures), failures
    assert issubclass(RedisProtocolError, ConnectionError)
    assert after == b"PONG"
    assert len(server.received) == 2


def test_the_commands_of_one_loop_turn_go_out_in_one_write(fake_redis) -> None:  # type: ignore[no-untyped-def]
    served = 0

    def numbered(index: int, data: bytes) -> bytes:
        # Each PING is answered with its number in arrival order, so the client's matching shows too.
        nonlocal served
        replies = []
        for _ in range(data.count(PING)):
            served += 1
            replies.append(b":%d\r\n" % served)
        return b"".join(replies)

    server = fake_redis(numbered)

    async def scenario() -> tuple[list[Any], list[Any]]:
        pipe = RedisPipe(server.url)
        try:
            # Asked for before the connection is open: they wait for it, then go out together.
            early = await asyncio.gather(*(pipe.call(PING) for _ in range(50)))
            later = await asyncio.gather(*(pipe.call(PING) for _ in range(50)))
            return early, later
        finally:
            await pipe.close()

    early, later = _run(scenario())

    assert early == list(range(1, 51))
    assert later == list(range(51, 101))
    assert len(server.received) == 1
    chunks = server.received[0]
    # Two batches, two writes: the server's recv() got each batch whole.
    assert [chunk.count(PING) for chunk in chunks] == [50, 50]
