"""What the gateway is told: its settings, the config-source protocol, and the in-memory source for tests.

The contract is docs/runtime-config.md. A config source answers two questions: what is the current config
version, and which stage configs changed since the revisions the gateway holds.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

DEFAULT_PUBLIC_HOST = "execute-api.localhost"
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT_MS = 29_000
DEFAULT_COUNTER_PREFIX = "portico:"
DEFAULT_COUNTER_TIMEOUT_MS = 50
DEFAULT_ACCOUNT_RATE_LIMIT = 10_000.0
DEFAULT_ACCOUNT_BURST_LIMIT = 5_000


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """Data-plane knobs; filled from `settings.GATEWAY` when Django is configured, else the defaults."""

    public_host: str = DEFAULT_PUBLIC_HOST
    config_poll_seconds: float = 1.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    default_timeout_ms: int = DEFAULT_TIMEOUT_MS
    upstream_pool_size: int = 256
    # Throttling and quotas: counters in Redis when a URL is set, else in the process (embedded mode).
    redis_url: str = field(default="", repr=False)
    counter_prefix: str = DEFAULT_COUNTER_PREFIX
    counter_timeout_ms: int = DEFAULT_COUNTER_TIMEOUT_MS
    # Account-level throttle (AWS's per-account limit); a rate of None (or <= 0) turns it off.
    account_rate_limit: float | None = DEFAULT_ACCOUNT_RATE_LIMIT
    account_burst_limit: int = DEFAULT_ACCOUNT_BURST_LIMIT
    # The server pepper API key digests are keyed with (settings.API_KEY_PEPPER), as bytes.
    api_key_pepper: bytes = field(default=b"", repr=False)

    @classmethod
    def from_mapping(
        cls, gateway: Mapping[str, Any], *, redis_url: str = "", api_key_pepper: str = ""
    ) -> GatewaySettings:
        """Build settings from a `GATEWAY`-shaped dict, keeping defaults for absent keys."""
        defaults = cls()
        account_rate = gateway.get("ACCOUNT_RATE_LIMIT", defaults.account_rate_limit)
        return cls(
            public_host=str(gateway.get("PUBLIC_HOST") or defaults.public_host).lower().strip("."),
            config_poll_seconds=float(gateway.get("CONFIG_POLL_SECONDS", defaults.config_poll_seconds)),
            max_body_bytes=int(gateway.get("MAX_BODY_BYTES", defaults.max_body_bytes)),
            default_timeout_ms=int(gateway.get("DEFAULT_TIMEOUT_MS", defaults.default_timeout_ms)),
            upstream_pool_size=int(gateway.get("UPSTREAM_POOL_SIZE", defaults.upstream_pool_size)),
            redis_url=redis_url,
            counter_prefix=str(gateway.get("COUNTER_PREFIX") or defaults.counter_prefix),
            counter_timeout_ms=int(gateway.get("COUNTER_TIMEOUT_MS", defaults.counter_timeout_ms)),
            account_rate_limit=None if account_rate is None else float(account_rate),
            account_burst_limit=int(gateway.get("ACCOUNT_BURST_LIMIT", defaults.account_burst_limit)),
            api_key_pepper=api_key_pepper.encode(),
        )


def stage_key(api_id: str, stage_name: str) -> str:
    """Return the `{apiId}/{stageName}` key the protocol uses for a stage."""
    return f"{api_id}/{stage_name}"


@dataclass(slots=True)
class ConfigDelta:
    """What changed since the revisions the gateway holds (docs/runtime-config.md, "Config sources")."""

    changed: dict[str, dict] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    domains: list[dict] = field(default_factory=list)
    # The whole keyring (API keys by digest, usage plans); None when the source knows it has not changed.
    keyring: dict | None = None
    # UpdateUsage changes of the current quota periods, for gateways keeping counters in the process.
    quota_adjustments: list[dict] = field(default_factory=list)


@runtime_checkable
class ConfigSource(Protocol):
    """Where the gateway reads its runtime config from; polled off the hot path."""

    async def version(self) -> int:
        """Return the control plane's config version, a number that only grows."""
        ...

    async def load(self, known: dict[str, int]) -> ConfigDelta:
        """Return the stages new or changed relative to `known`, the keys gone, and every domain."""
        ...


class InMemoryConfigSource:
    """A config source over plain dicts, for tests and benchmarks."""

    def __init__(
        self,
        stages: Iterable[dict] = (),
        domains: Iterable[dict] = (),
        *,
        version: int = 1,
        keyring: dict | None = None,
    ):
        self._version = version
        self._stages: dict[str, dict] = {}
        self._domains: list[dict] = []
        self._keyring: dict = copy.deepcopy(keyring) if keyring else {}
        self._store(stages, domains)

    def replace(
        self, stages: Iterable[dict], domains: Iterable[dict] | None = None, *, keyring: dict | None = None
    ) -> int:
        """Swap the whole config (domains and keyring too when given), bump the version; return it."""
        self._store(stages, self._domains if domains is None else domains)
        if keyring is not None:
            self._keyring = copy.deepcopy(keyring)
        self._version += 1
        return self._version

    def replace_keyring(self, keyring: dict) -> int:
        """Swap the keyring only (keys disabled, plans changed) and bump the version; return it."""
        self._keyring = copy.deepcopy(keyring)
        self._version += 1
        return self._version

    def _store(self, stages: Iterable[dict], domains: Iterable[dict]) -> None:
        # Deep copies: a test mutating its dicts afterwards must not change what the gateway "loaded".
        self._stages = {stage_key(stage["apiId"], stage["stageName"]): copy.deepcopy(stage) for stage in stages}
        self._domains = copy.deepcopy(list(domains))

    async def version(self) -> int:
        """Return the current version."""
        return self._version

    async def load(self, known: dict[str, int]) -> ConfigDelta:
        """Return the stages whose revision differs from `known`, the removed keys and all domains."""
        changed = {
            key: copy.deepcopy(stage) for key, stage in self._stages.items() if known.get(key) != stage.get("revision")
        }
        removed = [key for key in known if key not in self._stages]
        return ConfigDelta(
            changed=changed,
            removed=removed,
            domains=copy.deepcopy(self._domains),
            keyring=copy.deepcopy(self._keyring),
        )
