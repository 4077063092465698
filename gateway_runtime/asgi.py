"""The gateway's ASGI 3 application: `uvicorn gateway_runtime.asgi:application --loop uvloop --http httptools`.

Plain ASGI on the hot path: no Django request or response objects and no ORM. Django is only asked for
`settings.GATEWAY` (when configured) and, through `gateway_runtime.sources`, for the runtime config, which
is read at startup and then polled in the background.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
from typing import Any
from urllib.parse import quote

from gateway_runtime import pipeline
from gateway_runtime.config import ConfigDelta, ConfigSource, GatewaySettings
from gateway_runtime.context import RequestContext, new_request_ids
from gateway_runtime.httpclient import HTTPClient
from gateway_runtime.integrations.upstream import open_session
from gateway_runtime.limiter import Limiter, build_limiter
from gateway_runtime.limits import account_bucket
from gateway_runtime.messages import JSON_CONTENT_TYPE, NO_BODY_STATUSES, Response
from gateway_runtime.metering import Recorder
from gateway_runtime.responses import unexpected_failure
from gateway_runtime.runtime import ConfigPoller, RuntimeConfig

logger = logging.getLogger(__name__)

HEALTH_PATH = "/ping"
METRICS_PATH = "/metrics"
# A JSON config file to serve instead of the control plane's database (gateway_runtime.sources).
CONFIG_FILE_VARIABLE = "PORTICO_GATEWAY_CONFIG_FILE"

Scope = dict[str, Any]


def load_settings() -> GatewaySettings:
    """Return the gateway settings from `settings.GATEWAY` when Django is configured, else the defaults."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if not (settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE")):
        return GatewaySettings()
    try:
        gateway = getattr(settings, "GATEWAY", None)
        redis_url = getattr(settings, "REDIS_URL", "") or ""
        pepper = getattr(settings, "API_KEY_PEPPER", "") or ""
    except ImproperlyConfigured as exc:
        logger.warning("Django settings unusable (%s); the gateway runs on its default settings", exc)
        return GatewaySettings()
    return GatewaySettings.from_mapping(gateway or {}, redis_url=redis_url, api_key_pepper=pepper)


class GatewayApplication:
    """Serve every deployed stage from an in-memory config that a background poller keeps current."""

    def __init__(self, source: ConfigSource, settings: GatewaySettings, recorder: Recorder | None = None):
        self.source = source
        self.settings = settings
        # Usage events, Prometheus metrics, access and execution logs, after each response.
        self.recorder = recorder or Recorder()
        self.runtime = RuntimeConfig()
        self.session: HTTPClient | None = None
        self.limiter: Limiter | None = None
        self._poller: ConfigPoller | None = None
        self._startup: asyncio.Future[None] | None = None
        self._ready = False

    def _install(self, runtime: RuntimeConfig) -> None:
        # One reference assignment: requests in flight keep the config they started with.
        self.runtime = runtime
        # A full garbage collection walks every object it tracks: with 1,000 APIs loaded that is a stall of
        # most of a second (bench/config_scale.py). The installed config lives until the next one, so move
        # everything alive now out of the collector's way. Compiled stages hold no reference cycles, so
        # a replaced config is still freed, by reference counting.
        gc.freeze()
        if self.limiter is not None:
            self.limiter.forget_checks()
            if runtime.quota_adjustments:
                self.limiter.apply_quota_adjustments(runtime.quota_adjustments, runtime.keyring.plans)

    async def start(self) -> None:
        """Start the gateway once, however many callers ask at the same time."""
        if self._startup is None:
            self._startup = asyncio.ensure_future(self._start())
        await asyncio.shield(self._startup)

    async def _start(self) -> None:
        """Open the upstream connection pool and the counters, load the config, and start polling for changes."""
        self.session = open_session(self.settings.upstream_pool_size)
        settings = self.settings
        self.limiter = build_limiter(
            redis_url=settings.redis_url,
            prefix=settings.counter_prefix,
            timeout_ms=settings.counter_timeout_ms,
            account=account_bucket(settings.account_rate_limit, settings.account_burst_limit),
        )
        await self.limiter.start()
        self._poller = ConfigPoller(self.source, self.settings, self._install, lambda: self.runtime)
        try:
            await self._poller.refresh()
        except Exception:
            # Serve (403 for everything) rather than die: the poller keeps trying, e.g. while migrations run.
            logger.exception(
                "Initial gateway config load failed; retrying every %ss", self.settings.config_poll_seconds
            )
        self._poller.start()
        await self.recorder.start()
        self._ready = True

    async def shutdown(self) -> None:
        """Stop polling and close the upstream connection pool."""
        if self._poller is not None:
            await self._poller.stop()
            self._poller = None
        if self.session is not None:
            await self.session.close()
            self.session = None
        if self.limiter is not None:
            await self.limiter.stop()
            self.limiter = None
        await self.recorder.stop()
        self._startup = None
        self._ready = False

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            # REST APIs have no WebSocket routes; closing before accept makes the server answer 403.
            await receive()
            await send({"type": "websocket.close", "code": 1008})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:
                    logger.exception("Gateway startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Any, send: Any) -> None:
        if not self._ready:
            # ASGI servers without lifespan support (daphne) start the gateway on the first request.
            await self.start()
        request_id, apigw_id = new_request_ids()
        ctx = None
        try:
            if scope["path"] == HEALTH_PATH:
                response = self._health()
            elif scope["path"] == METRICS_PATH:
                response = self.recorder.metrics_response()
            else:
                ctx = self._context(scope, receive, request_id, apigw_id)
                response = await pipeline.run(ctx)
        except pipeline.ClientDisconnected:
            return
        except Exception:
            logger.exception("Unexpected gateway failure on %s %s", scope.get("method"), scope.get("path"))
            response = unexpected_failure()
        headers = response.headers
        if not response.has_content_length and response.status not in NO_BODY_STATUSES:
            headers.append((b"content-length", str(len(response.body)).encode()))
        headers.append((b"x-amzn-requestid", request_id))
        headers.append((b"x-amz-apigw-id", apigw_id))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        body = b"" if response.status in NO_BODY_STATUSES else response.body
        await send({"type": "http.response.body", "body": body})
        if ctx is not None:
            self.recorder.record(ctx, response.status, len(body))

    def _context(self, scope: Scope, receive: Any, request_id: bytes, apigw_id: bytes) -> RequestContext:
        headers = scope["headers"]
        host = ""
        for name, value in headers:
            if name == b"host":
                host = value.decode("latin-1")
                break
        raw_path = scope.get("raw_path")
        client = scope.get("client")
        return RequestContext(
            request_id=request_id.decode(),
            apigw_id=apigw_id.decode(),
            method=scope["method"],
            raw_path=raw_path.decode("latin-1") if raw_path else quote(scope["path"]),
            query_string=scope.get("query_string", b""),
            headers=headers,
            settings=self.settings,
            session=self.session,
            runtime=self.runtime,
            receive=receive,
            host=host,
            scheme=scope.get("scheme", "http"),
            client_ip=client[0] if client else "",
            limiter=self.limiter,
        )

    def _health(self) -> Response:
        runtime = self.runtime
        body: dict[str, Any] = {"status": "ok", "configVersion": runtime.version, "stages": len(runtime.stages)}
        if self.limiter is not None:
            # Whether throttles and quotas are enforced right now, and what passed while they were not.
            body["counters"] = self.limiter.stats()
        return Response(200, [(b"content-type", JSON_CONTENT_TYPE)], json.dumps(body).encode())


def build_application(
    source: ConfigSource, settings: GatewaySettings | None = None, recorder: Recorder | None = None
) -> GatewayApplication:
    """Return a gateway ASGI app serving the config `source` provides (metering off unless `recorder` has it)."""
    return GatewayApplication(source, settings or GatewaySettings(), recorder)


class DatabaseSourceOnFirstUse:
    """The control plane's `DatabaseConfigSource`, imported when the gateway starts rather than at import.

    Reading the control plane's tables needs Django's apps loaded; importing this module must not.
    """

    def __init__(self) -> None:
        self._source: ConfigSource | None = None

    def _get(self) -> ConfigSource:
        if self._source is None:
            import django
            from django.apps import apps

            if not apps.ready:
                django.setup()
            from gateway_runtime.sources import DatabaseConfigSource

            self._source = DatabaseConfigSource()
        return self._source

    async def version(self) -> int:
        """Return the control plane's config version."""
        return await self._get().version()

    async def load(self, known: dict[str, int]) -> ConfigDelta:
        """Return what changed since `known`."""
        return await self._get().load(known)


def default_source() -> ConfigSource:
    """Return the JSON file source when PORTICO_GATEWAY_CONFIG_FILE is set, else the control plane's tables."""
    path = os.environ.get(CONFIG_FILE_VARIABLE)
    if path:
        from gateway_runtime.sources import FileConfigSource

        return FileConfigSource(path)
    return DatabaseSourceOnFirstUse()


# The web process does the same in config/asgi.py: the gateway reads the same settings module.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = build_application(default_source(), load_settings(), Recorder.from_django())
