"""Per-stage access logs in AWS's `$context` format, and per-method execution logging levels.

A stage's `accessLogSettings` (`format`, `destinationArn`) is compiled once per stage revision; writing a
line is a walk over literal parts and variable getters. Lines are buffered and written by a background
task every 50 ms to stdout, a file under ACCESS_LOG_DIR, or a Redis stream (docs/metering.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway_runtime.compiler import CompiledStage
    from gateway_runtime.context import RequestContext

logger = logging.getLogger(__name__)
execution_logger = logging.getLogger("portico.execution")

_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")
LOGGING_LEVELS = {"OFF": 0, "ERROR": 1, "INFO": 2}
REDIS_STREAM_MAXLEN = 100_000
RESERVED_STREAM_PREFIX = "portico:"
# Credentials in execution log lines (headers are printed as `{name=value, ...}`): never logged (DESIGN §9).
_SECRET_HEADERS = re.compile(r"(?i)\b(x-api-key|authorization|cookie)=([^,}]*)")


@dataclass(slots=True)
class Finished:
    """What the access log knows about a request once its response is sent."""

    ctx: RequestContext
    status: int
    length: int
    finished: float  # perf_counter
    now: float  # epoch seconds

    @property
    def started_epoch(self) -> float:
        return self.now - (self.finished - self.ctx.started)


def _error(part: str) -> Callable[[Finished], Any]:
    def get(r: Finished) -> Any:
        if r.ctx.error is None:
            return None
        kind, message = r.ctx.error
        return {"message": message, "messageString": json.dumps(message), "responseType": kind.response_type}[part]

    return get


def _stage_attr(name: str) -> Callable[[Finished], Any]:
    return lambda r: getattr(r.ctx.stage, name) if r.ctx.stage is not None else None


def _route_attr(name: str) -> Callable[[Finished], Any]:
    return lambda r: getattr(r.ctx.route, name) if r.ctx.route is not None else None


def _integration_latency(r: Finished) -> Any:
    return r.ctx.integration_latency_ms if r.ctx.result is not None else None


def _integration_status(r: Finished) -> Any:
    return r.ctx.result.status if r.ctx.result is not None else None


VARIABLES: dict[str, Callable[[Finished], Any]] = {
    "requestId": lambda r: r.ctx.request_id,
    "extendedRequestId": lambda r: r.ctx.apigw_id,
    "apiId": _stage_attr("api_id"),
    "stage": _stage_attr("stage_name"),
    "deploymentId": _stage_attr("deployment_id"),
    "resourceId": _route_attr("resource_id"),
    "resourcePath": _route_attr("resource_path"),
    "httpMethod": lambda r: r.ctx.method,
    "path": lambda r: r.ctx.raw_path,
    "protocol": lambda r: "HTTP/1.1",
    "domainName": lambda r: r.ctx.host.split(":", 1)[0] or None,
    "domainPrefix": lambda r: r.ctx.host.split(".", 1)[0] or None,
    "status": lambda r: r.status,
    "responseLength": lambda r: r.length,
    "responseLatency": lambda r: round((r.finished - r.ctx.started) * 1000),
    "requestTime": lambda r: time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(r.started_epoch)),
    "requestTimeEpoch": lambda r: int(r.started_epoch * 1000),
    "integrationLatency": _integration_latency,
    "integration.latency": _integration_latency,
    "integrationStatus": _integration_status,
    "integration.status": _integration_status,
    "identity.sourceIp": lambda r: r.ctx.client_ip or None,
    "identity.userAgent": lambda r: r.ctx.header("user-agent"),
    "identity.apiKeyId": lambda r: getattr(r.ctx, "api_key_id", None),
    "usagePlanId": lambda r: getattr(r.ctx, "usage_plan_id", None),
    "error.message": _error("message"),
    "error.messageString": _error("messageString"),
    "error.responseType": _error("responseType"),
}


def _account_id(r: Finished) -> Any:
    from django.conf import settings

    return getattr(settings, "PORTICO_ACCOUNT_ID", None) if settings.configured else None


VARIABLES["accountId"] = _account_id


@dataclass(frozen=True, slots=True)
class AccessLogFormat:
    """A compiled access log format: literal text and variable getters, in order."""

    parts: tuple[str | Callable[[Finished], Any], ...]
    escape: Callable[[str], str] | None

    def render(self, record: Finished) -> str:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = part(record)
            text = "-" if value is None or value == "" else str(value)
            out.append(self.escape(text) if self.escape is not None else text)
        return "".join(out)


def _json_escape(text: str) -> str:
    return json.dumps(text)[1:-1]


def compile_format(text: str) -> AccessLogFormat:
    """Compile an `accessLogSettings.format`; unknown variables (and key values, never logged) render as `-`."""
    parts: list[str | Callable[[Finished], Any]] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        parts.append(text[position : match.start()])
        parts.append(VARIABLES.get(match.group(1), lambda r: None))
        position = match.end()
    parts.append(text[position:])
    stripped = text.lstrip()
    escape = _json_escape if stripped.startswith("{") else html.escape if stripped.startswith("<") else None
    return AccessLogFormat(parts=tuple(part for part in parts if part != ""), escape=escape)


def destination(arn: str | None, log_dir: Path) -> tuple[str, str] | None:
    """Return (sink kind, target) for a destinationArn, or None when it is refused."""
    value = (arn or "").strip()
    if value in ("", "stdout"):
        return "stdout", ""
    if value.startswith("file://"):
        path = Path(value.removeprefix("file://")).resolve()
        root = log_dir.resolve()
        return ("file", str(path)) if path.is_relative_to(root) and path != root else None
    if value.startswith("arn:aws:logs:") and ":log-group:" in value:
        group = value.split(":log-group:", 1)[1].removesuffix(":*")
        name = re.sub(r"[^A-Za-z0-9_.#\-]", "_", group).strip("._") or "access"
        return "file", str(log_dir.resolve() / f"{name}.log")
    if value.startswith("redis://"):
        stream = value.removeprefix("redis://").strip("/")
        if stream and not stream.startswith(RESERVED_STREAM_PREFIX):
            return "redis", stream
    return None


@dataclass
class StageLogging:
    """A stage's access log format and sink, and its execution logging levels per method."""

    format: AccessLogFormat | None
    sink: tuple[str, str] | None
    levels: dict[str, int] = field(default_factory=dict)
    default_level: int = 0

    def level_for(self, resource_path: str, http_method: str) -> int:
        return self.levels.get(f"{resource_path.lstrip('/')}/{http_method}", self.default_level)


def stage_logging(config: dict[str, Any], log_dir: Path) -> StageLogging:
    """Compile the logging settings of a stage config."""
    settings = config.get("accessLogSettings") or {}
    text = settings.get("format")
    sink = destination(settings.get("destinationArn"), log_dir) if text else None
    if text and sink is None:
        logger.warning(
            "Access log destination %r of %s/%s is not allowed; no access log is written",
            settings.get("destinationArn"),
            config.get("apiId"),
            config.get("stageName"),
        )
    levels = {
        key: LOGGING_LEVELS.get(str(value.get("loggingLevel") or "OFF").upper(), 0)
        for key, value in (config.get("methodSettings") or {}).items()
        if isinstance(value, dict) and "loggingLevel" in value
    }
    return StageLogging(
        format=compile_format(text) if text and sink else None,
        sink=sink,
        levels=levels,
        default_level=levels.pop("*/*", 0),
    )


class AccessLogs:
    """Render and buffer access log lines per sink; a background task writes them out."""

    def __init__(self, *, log_dir: Path, redis_url: str = "", flush_interval: float = 0.05):
        self.log_dir = log_dir
        self.redis_url = redis_url
        self.flush_interval = flush_interval
        self._stages: dict[tuple[str, str, int], StageLogging] = {}
        self._buffers: dict[tuple[str, str], list[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portico-accesslog")
        self._redis: Any = None
        self.dropped = 0

    def for_stage(self, stage: CompiledStage) -> StageLogging:
        key = (stage.api_id, stage.stage_name, stage.revision)
        found = self._stages.get(key)
        if found is None:
            if len(self._stages) > 4096:
                self._stages.clear()
            found = self._stages[key] = stage_logging(stage.config, self.log_dir)
        return found

    def write(self, record: Finished) -> None:
        """Queue the access log line and the execution log of a finished request, as its stage asks."""
        ctx = record.ctx
        if ctx.stage is None:
            return
        logging_ = self.for_stage(ctx.stage)
        if logging_.format is not None and logging_.sink is not None:
            self._buffers.setdefault(logging_.sink, []).append(logging_.format.render(record))
        if ctx.log and ctx.route is not None:
            level = logging_.level_for(ctx.route.resource_path, ctx.method)
            if level >= LOGGING_LEVELS["INFO"] or (level and record.status >= 400):
                prefix = f"({ctx.request_id}) "
                text = _SECRET_HEADERS.sub(r"\1=****", "\n".join(prefix + line for line in ctx.log))
                emit = execution_logger.error if record.status >= 400 else execution_logger.info
                emit("%s/%s %s", ctx.stage.api_id, ctx.stage.stage_name, text)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="portico-access-log")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Access log flush failed")

    async def flush(self) -> None:
        """Write every buffered line to its sink."""
        if not self._buffers:
            return
        buffers, self._buffers = self._buffers, {}
        for (kind, target), lines in buffers.items():
            if kind == "stdout":
                sys.stdout.write("\n".join(lines) + "\n")
                sys.stdout.flush()
            elif kind == "file":
                await asyncio.get_running_loop().run_in_executor(self._executor, _append, target, lines)
            elif kind == "redis":
                await self._to_redis(target, lines)

    async def _to_redis(self, stream: str, lines: list[str]) -> None:
        if not self.redis_url:
            self.dropped += len(lines)
            return
        if self._redis is None:
            import redis.asyncio as redis

            self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            pipe = self._redis.pipeline(transaction=False)
            for line in lines:
                pipe.xadd(stream, {"line": line}, maxlen=REDIS_STREAM_MAXLEN, approximate=True)
            await pipe.execute()
        except Exception as exc:
            self.dropped += len(lines)
            logger.warning("Access log stream %s unavailable (%r); %d lines dropped", stream, exc, len(lines))


def _append(path: str, lines: list[str]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


async def execution_log(ctx: RequestContext) -> None:
    """Pipeline step: keep the execution log of methods whose stage logs at ERROR or INFO."""
    stage, route = ctx.stage, ctx.route
    if stage is None or route is None or ctx.log is not None:
        return None
    levels = stage.config.get("methodSettings") or {}
    if not levels:
        return None
    setting = levels.get(f"{route.resource_path.lstrip('/')}/{ctx.method}") or levels.get("*/*") or {}
    if LOGGING_LEVELS.get(str(setting.get("loggingLevel") or "OFF").upper(), 0):
        ctx.log = []
    return None
