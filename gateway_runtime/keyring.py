"""The keyring: API keys (by digest, never by value) and usage plans, compiled for the hot path.

Its published form is in docs/runtime-config.md ("Keyring"). A presented key is hashed with the server
pepper (HMAC-SHA256, as the control plane stored it), looked up by digest and confirmed with a
constant-time comparison; the key value itself is never kept, compared or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from typing import Any

from gateway_runtime.limits import Limit, Quota, parse_limit, parse_quota

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Plan:
    """A usage plan: its per-key throttle and quota, and the API stages it covers with per-method limits."""

    id: str
    throttle: Limit | None
    quota: Quota | None
    # "{apiId}/{stageName}" -> {"/pets/GET": Limit}
    stages: dict[str, dict[str, Limit]] = field(default_factory=dict)

    def method_limit(self, stage_key: str, resource_path: str, http_method: str) -> Limit | None:
        """Return this plan's per-method limit for a method of a stage, or None."""
        methods = self.stages.get(stage_key)
        if not methods:
            return None
        return methods.get(f"{resource_path}/{http_method}") or methods.get(f"{resource_path}/*") or methods.get("/*/*")


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One API key as gateways know it: id, digest, whether it is enabled, and its plans."""

    id: str
    digest: str
    enabled: bool
    plans: tuple[Plan, ...]
    # One Subscription per plan, made with the keyring: a request reuses it (and the limiter its cached check).
    subscriptions: tuple[Subscription, ...] = ()


@dataclass(frozen=True, slots=True)
class Subscription:
    """The key a request was admitted with, and the plan that covers the request's stage."""

    key_id: str
    plan: Plan


def api_key_digest(value: bytes, pepper: bytes) -> str:
    """Return the HMAC-SHA256 digest the control plane stores for a key value (apis.secrets.api_key_digest)."""
    return hmac.new(pepper, value, hashlib.sha256).hexdigest()


class Keyring:
    """Every API key and usage plan, indexed for one dict lookup per request."""

    __slots__ = ("keys", "plans")

    def __init__(self, keys: dict[str, KeyEntry], plans: dict[str, Plan]):
        self.keys = keys
        self.plans = plans

    def subscription(self, value: bytes | None, stage_key: str, pepper: bytes) -> Subscription | None:
        """Return the subscription a presented key has to a stage, or None (missing, unknown, disabled, no plan)."""
        if not value:
            return None
        digest = api_key_digest(value, pepper)
        entry = self.keys.get(digest)
        # The dict lookup finds the candidate; the constant-time comparison is what admits it.
        if entry is None or not hmac.compare_digest(entry.digest, digest) or not entry.enabled:
            return None
        for subscription in entry.subscriptions:
            if stage_key in subscription.plan.stages:
                return subscription
        return None


EMPTY_KEYRING = Keyring({}, {})


def _compile_plan(plan_id: str, config: dict[str, Any]) -> Plan:
    throttle = config.get("throttle") or {}
    stages: dict[str, dict[str, Limit]] = {}
    for stage_key, methods in (config.get("stages") or {}).items():
        compiled: dict[str, Limit] = {}
        for method_key, limits in (methods or {}).items():
            limit = parse_limit(limits.get("rateLimit"), limits.get("burstLimit")) if isinstance(limits, dict) else None
            if limit is not None:
                compiled[str(method_key)] = limit
        stages[str(stage_key)] = compiled
    return Plan(
        id=plan_id,
        throttle=parse_limit(throttle.get("rateLimit"), throttle.get("burstLimit")),
        quota=parse_quota(config.get("quota")),
        stages=stages,
    )


def compile_keyring(config: dict[str, Any] | None) -> Keyring:
    """Compile a published keyring (docs/runtime-config.md) into lookup tables."""
    if not config:
        return EMPTY_KEYRING
    plans = {
        str(plan_id): _compile_plan(str(plan_id), item or {}) for plan_id, item in (config.get("plans") or {}).items()
    }
    keys: dict[str, KeyEntry] = {}
    for digest, item in (config.get("keys") or {}).items():
        plan_ids = item.get("plans") or ()
        key_id = str(item.get("id") or "")
        # Sorted, so a key in two plans that cover one stage (AWS refuses that) resolves the same everywhere.
        key_plans = tuple(plans[plan_id] for plan_id in sorted(plan_ids) if plan_id in plans)
        keys[str(digest)] = KeyEntry(
            id=key_id,
            digest=str(digest),
            enabled=bool(item.get("enabled")),
            plans=key_plans,
            subscriptions=tuple(Subscription(key_id, plan) for plan in key_plans),
        )
    return Keyring(keys, plans)
