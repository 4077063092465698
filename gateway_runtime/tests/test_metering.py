"""After the response: usage events to Redis / the spool / the local store, access logs, /metrics (no database)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway_runtime.accesslog import AccessLogs, compile_format, destination
from gateway_runtime.asgi import build_application
from gateway_runtime.config import GatewaySettings, InMemoryConfigSource
from gateway_runtime.metering import LocalEventStore, Meter, MeteringSettings, Recorder
from gateway_runtime.tests.servers import ServerThread, call
from gateway_runtime.tests.snapshots import API_ID, mock, stage
from testing_support import missing
from usage.tests.conftest import SHARED_REDIS_URL, RedisServer, free_port

HOST = f"{API_ID}.execute-api.localhost"
CLF = (
    "$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "
    '"$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength '
    "$context.requestId"
)
JSON_FORMAT = (
    '{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", "caller":"$context.identity.caller",'
    ' "user":"$context.identity.user","requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod",'
    '"resourcePath":"$context.resourcePath", "status":"$context.status","protocol":"$context.protocol",'
    ' "responseLength":"$context.responseLength", "agent":"$context.identity.userAgent" }'
)
XML_FORMAT = (
    '<request id="$context.requestId"> <ip>$context.identity.sourceIp</ip> <caller>$context.identity.caller</caller>'
    " <user>$context.identity.user</user> <requestTime>$context.requestTime</requestTime>"
    " <httpMethod>$context.httpMethod</httpMethod> <resourcePath>$context.resourcePath</resourcePath>"
    " <status>$context.status</status> <protocol>$context.protocol</protocol>"
    " <responseLength>$context.responseLength</responseLength> </request>"
)
CSV_FORMAT = (
    "$context.identity.sourceIp,$context.identity.caller,$context.identity.user,$context.requestTime,"
    "$context.httpMethod,$context.resourcePath,$context.protocol,$context.status,$context.responseLength,"
    "$context.requestId,$context.integrationLatency"
)


def pets_stage(**settings: object) -> dict:
    config = stage({("/pets", "GET"): mock(), ("/pets/{id}", "POST"): mock('{"statusCode": 404}')})
    config.update(settings)
    return config


@pytest.fixture
def serve() -> Iterator:
    started: list[ServerThread] = []

    def start(recorder: Recorder, config: dict | None = None) -> ServerThread:
        app = build_application(
            InMemoryConfigSource([config or pets_stage()]), GatewaySettings(config_poll_seconds=0.1), recorder
        )
        server = ServerThread(app)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def stream_events(client, stream: str) -> list[list[str]]:
    return [line.split("\t") for _, fields in client.xrange(stream) for line in fields[b"e"].decode().split("\n")]


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(SHARED_REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        missing(f"Redis at {SHARED_REDIS_URL} is not answering")
    yield client
    client.close()


def test_every_request_to_a_stage_becomes_one_event_in_the_stream(serve, redis_client) -> None:
    stream = f"test:metering:{uuid.uuid4().hex}"
    meter = Meter(MeteringSettings(redis_url=SHARED_REDIS_URL, stream=stream, events_per_entry=7))
    server = serve(Recorder(meter=meter))
    replies = [call(server.port, "GET", "/prod/pets", host=HOST) for _ in range(20)]
    replies.append(call(server.port, "POST", "/prod/pets/42", host=HOST, body=b"12345"))
    replies.append(call(server.port, "GET", "/prod/nowhere", host=HOST))
    call(server.port, "GET", "/prod/pets", host="unknown.execute-api.localhost")  # no stage: not metered
    call(server.port, "GET", "/ping")

    try:
        wait_for(lambda: sum(1 for _ in stream_events(redis_client, stream)) >= 22)
        time.sleep(0.2)
        events = stream_events(redis_client, stream)
    finally:
        redis_client.delete(stream)

    assert len(events) == 22 and redis_client.xlen(stream) == 0
    assert [e[1] for e in events] == [r.header("x-amzn-RequestId") for r in replies]
    first, post, unmatched = events[0], events[20], events[21]
    assert first[0] == "1" and first[3:7] == [API_ID, "prod", "/pets", "GET"] and first[9] == "200"
    assert abs(int(first[2]) - time.time() * 1000) < 60_000 and int(first[10]) > 0 and first[11] != ""
    assert post[5:7] == ["/pets/{id}", "POST"] and post[9] == str(replies[20].status) and post[12] == "5"
    assert unmatched[5:7] == ["", "GET"] and unmatched[9] == "403" and unmatched[11] == ""
    assert meter.counts["sent"] == 22


def test_events_are_spooled_while_redis_is_down_and_replayed_after(serve, tmp_path: Path) -> None:
    server_redis = RedisServer(port=free_port(), directory=tmp_path)
    settings = MeteringSettings(
        redis_url=server_redis.url, stream="events", spool=str(tmp_path / "spool.sqlite3"), retry_seconds=0.2
    )
    meter = Meter(settings)
    gateway = serve(Recorder(meter=meter))
    for _ in range(30):
        assert call(gateway.port, "GET", "/prod/pets", host=HOST).status == 200
    wait_for(lambda: meter.counts["spooled"] == 30)
    assert LocalEventStore(settings.spool).events() == 30

    server_redis.start()
    try:
        for _ in range(5):
            call(gateway.port, "GET", "/prod/pets", host=HOST)
        import redis

        client = redis.Redis(port=server_redis.port)
        wait_for(lambda: len(stream_events(client, "events")) == 35)
        # The 5 new events went straight out, or through the spool if Redis was still being retried.
        assert meter.counts["sent"] + meter.counts["replayed"] == 35 and meter.counts["spooled"] >= 30
        assert meter.counts["dropped"] == 0
        assert LocalEventStore(settings.spool).events() == 0
    finally:
        server_redis.stop(save=False)


def test_the_spool_is_bounded(tmp_path: Path) -> None:
    import asyncio

    settings = MeteringSettings(
        redis_url=f"redis://127.0.0.1:{free_port()}/0", spool=str(tmp_path / "s.sqlite3"), spool_max_events=10
    )
    meter = Meter(settings)

    async def scenario() -> None:
        await meter.start()
        for n in range(25):
            meter.record(f"1\tid{n}")
            if n % 5 == 4:
                await meter.flush()
        await meter.stop()

    asyncio.run(scenario())
    assert meter.counts["spooled"] == 10 and meter.counts["dropped"] == 15


def test_the_embedded_mode_writes_events_to_the_local_store(serve, tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    meter = Meter(MeteringSettings(local_store=str(path)))
    server = serve(Recorder(meter=meter))
    for _ in range(12):
        call(server.port, "GET", "/prod/pets", host=HOST)

    store = LocalEventStore(path)
    wait_for(lambda: store.events() == 12)
    rows = store.read_after(0, 100)
    assert all(line.split("\t")[6] == "GET" for _, payload in rows for line in payload.split("\n"))


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        (JSON_FORMAT, lambda line, rid: json.loads(line)["requestId"] == rid and json.loads(line)["caller"] == "-"),
        (CLF, lambda line, rid: line.startswith("127.0.0.1 - - [") and '"GET /pets HTTP/1.1" 200 ' in line),
        (XML_FORMAT, lambda line, rid: line.startswith(f'<request id="{rid}">') and "<status>200</status>" in line),
        (CSV_FORMAT, lambda line, rid: line.split(",")[4:8] == ["GET", "/pets", "HTTP/1.1", "200"]),
    ],
)
def test_aws_access_log_formats_are_written_to_a_file(serve, tmp_path: Path, fmt: str, check) -> None:
    log = tmp_path / "logs" / "access.log"
    config = pets_stage(accessLogSettings={"format": fmt, "destinationArn": f"file://{log}"})
    server = serve(Recorder(access_logs=AccessLogs(log_dir=tmp_path / "logs")), config)
    reply = call(server.port, "GET", "/prod/pets", host=HOST, headers={"User-Agent": 'agent "quoted"'})

    wait_for(lambda: log.exists() and log.read_text().strip() != "")
    (line,) = log.read_text().splitlines()
    assert check(line, reply.header("x-amzn-RequestId")), line


def test_access_log_destinations_are_checked() -> None:
    root = Path("/srv/portico/logs")
    assert destination("stdout", root) == ("stdout", "")
    assert destination("file:///srv/portico/logs/a.log", root) == ("file", "/srv/portico/logs/a.log")
    assert destination("file:///etc/passwd", root) is None
    assert destination("file:///srv/portico/logs/../../x", root) is None
    assert destination("arn:aws:logs:us-east-1:123:log-group:API-Gateway/prod:*", root) == (
        "file",
        "/srv/portico/logs/API-Gateway_prod.log",
    )
    assert destination("redis://access-logs", root) == ("redis", "access-logs")
    assert destination("redis://portico:usage:events", root) is None
    assert destination("s3://bucket", root) is None


def test_unknown_variables_and_key_values_render_as_a_dash() -> None:
    compiled = compile_format("$context.identity.apiKey $context.nothing.here $context.status.")
    key_value, _, unknown, _, status, dot = compiled.parts
    assert key_value(None) is None and unknown(None) is None  # rendered "-"
    assert callable(status) and dot == "."


def test_access_logs_go_to_a_redis_stream(serve, redis_client) -> None:
    stream = f"test-access-{uuid.uuid4().hex}"
    config = pets_stage(
        accessLogSettings={"format": "$context.requestId $context.status", "destinationArn": f"redis://{stream}"}
    )
    server = serve(Recorder(access_logs=AccessLogs(log_dir=Path("/nonexistent"), redis_url=SHARED_REDIS_URL)), config)
    try:
        reply = call(server.port, "GET", "/prod/pets", host=HOST)
        wait_for(lambda: redis_client.xlen(stream) == 1)
        ((_, fields),) = redis_client.xrange(stream)
        assert fields[b"line"].decode() == f"{reply.header('x-amzn-RequestId')} 200"
    finally:
        redis_client.delete(stream)


def test_info_logging_writes_the_execution_log_without_key_values(serve, caplog) -> None:
    config = pets_stage(methodSettings={"*/*": {"loggingLevel": "OFF"}, "pets/GET": {"loggingLevel": "INFO"}})
    server = serve(Recorder(), config)
    with caplog.at_level(logging.INFO, logger="portico.execution"):
        call(server.port, "GET", "/prod/pets", host=HOST, headers={"x-api-key": "secret-key-value"})
        call(server.port, "POST", "/prod/pets/1", host=HOST)
        wait_for(lambda: any("Method request headers" in r.getMessage() for r in caplog.records))

    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "portico.execution")
    assert "x-api-key=****" in text and "secret-key-value" not in text
    assert "/pets/1" not in text  # POST /pets/{id} logs at the stage default, OFF


def test_metrics_count_requests_by_api_stage_and_status_class(serve) -> None:
    server = serve(Recorder())
    for _ in range(3):
        call(server.port, "GET", "/prod/pets", host=HOST)
    call(server.port, "POST", "/prod/pets/7", host=HOST)
    call(server.port, "GET", "/x", host="nope.execute-api.localhost")

    def scrape() -> str:
        return call(server.port, "GET", "/metrics").body.decode()

    wait_for(lambda: 'api="-",stage="-",status_class="4xx"} 1.0' in scrape())
    reply = call(server.port, "GET", "/metrics")
    text = reply.body.decode()
    assert reply.status == 200 and reply.header("content-type").startswith("text/plain")
    assert f'portico_gateway_requests_total{{api="{API_ID}",stage="prod",status_class="2xx"}} 4.0' in text
    assert 'portico_gateway_requests_total{api="-",stage="-",status_class="4xx"} 1.0' in text
    assert (
        f'portico_gateway_request_duration_seconds_count{{api="{API_ID}",stage="prod",status_class="2xx"}} 4.0' in text
    )
