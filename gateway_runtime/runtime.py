"""The compiled config the gateway serves from, and the poller that keeps it current.

A `RuntimeConfig` is immutable. The poller builds a new one from the old one plus a delta and swaps the
reference in one assignment, so a request sees either the old config or the new one, never a mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway_runtime.compiler import CompiledDomain, CompiledStage, compile_domains, compile_stage
from gateway_runtime.config import ConfigDelta, ConfigSource, GatewaySettings
from gateway_runtime.keyring import EMPTY_KEYRING, Keyring, compile_keyring

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    """Every stage and domain the gateway serves, at one config version."""

    # -1 until the first load, so any version the source reports counts as new.
    version: int = -1
    stages: dict[str, CompiledStage] = field(default_factory=dict)
    # What the source last told us per stage; may be ahead of `stages` when a revision failed to compile.
    revisions: dict[str, int] = field(default_factory=dict)
    by_api: dict[str, dict[str, CompiledStage]] = field(default_factory=dict)
    domains: dict[str, CompiledDomain] = field(default_factory=dict)
    keyring: Keyring = EMPTY_KEYRING
    quota_adjustments: tuple[dict, ...] = ()

    def stage(self, api_id: str, stage_name: str) -> CompiledStage | None:
        """Return a served stage, or None."""
        stages = self.by_api.get(api_id)
        return None if stages is None else stages.get(stage_name)


def apply_delta(current: RuntimeConfig, delta: ConfigDelta, version: int, settings: GatewaySettings) -> RuntimeConfig:
    """Return a new config: `current` with the changed stages compiled and the removed ones dropped."""
    stages = dict(current.stages)
    revisions = dict(current.revisions)
    for key in delta.removed:
        stages.pop(key, None)
        revisions.pop(key, None)
    for key, stage_config in delta.changed.items():
        revision = int(stage_config.get("revision") or 0)
        revisions[key] = revision
        try:
            stages[key] = compile_stage(stage_config, default_timeout_ms=settings.default_timeout_ms)
        except Exception:
            # A broken snapshot must not take down what works: keep serving the previous revision, and
            # remember this one so it is not reloaded (and logged) every poll.
            logger.exception("Could not compile stage %s revision %s; keeping the previous one", key, revision)
    by_api: dict[str, dict[str, CompiledStage]] = {}
    for stage in stages.values():
        by_api.setdefault(stage.api_id, {})[stage.stage_name] = stage
    try:
        domains = compile_domains(delta.domains)
    except Exception:
        logger.exception("Could not compile the domain configs; keeping the previous ones")
        domains = current.domains
    keyring = current.keyring
    if delta.keyring is not None:
        try:
            keyring = compile_keyring(delta.keyring)
        except Exception:
            logger.exception("Could not compile the keyring; keeping the previous one")
    return RuntimeConfig(
        version=version,
        stages=stages,
        revisions=revisions,
        by_api=by_api,
        domains=domains,
        keyring=keyring,
        quota_adjustments=tuple(delta.quota_adjustments),
    )


class ConfigPoller:
    """Checks the source's version at most every poll interval and installs what changed."""

    def __init__(
        self,
        source: ConfigSource,
        settings: GatewaySettings,
        install: Callable[[RuntimeConfig], None],
        current: Callable[[], RuntimeConfig],
    ):
        self._source = source
        self._settings = settings
        self._install = install
        self._current = current
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> bool:
        """Reload once if the version moved; return True when a new config was installed."""
        current = self._current()
        version = await self._source.version()
        if version == current.version:
            return False
        delta = await self._source.load(dict(current.revisions))
        # Compiling a large API takes a while; it runs between requests, never inside one.
        self._install(apply_delta(self._current(), delta, version, self._settings))
        logger.info(
            "Gateway config version %s: %d stage(s) changed, %d removed, %d domain(s), %d API key(s)",
            version,
            len(delta.changed),
            len(delta.removed),
            len(delta.domains),
            len(self._current().keyring.keys),
        )
        return True

    def start(self) -> None:
        """Start polling in the background."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="gateway-config-poller")

    async def stop(self) -> None:
        """Stop polling and wait for the task to end."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._settings.config_poll_seconds)
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The source being down is not fatal: keep serving the config held and try again next tick.
                logger.exception("Gateway config refresh failed; serving version %s", self._current().version)
