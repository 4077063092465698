"""Throttle limits and quotas: what each request must pass, in AWS's precedence, and when quota periods start.

Three throttle tiers apply to every request, each with its most specific configured limit:

- key tier (only for a request admitted with an API key): the usage plan's per-method limit for this API
  stage if it has one, else the plan's throttle; one bucket per key (and per method for per-method limits);
- stage tier: the stage's method settings for this method (`pets/GET`) if they set a throttle, else the
  stage default (`*/*`); one bucket per stage and method, shared by every client;
- account tier: `GATEWAY["ACCOUNT_RATE_LIMIT"]` / `["ACCOUNT_BURST_LIMIT"]`, one bucket for the gateway.

A request passes when every bucket has a token and the key's quota has a request left; only then is
anything taken. Quota periods are in UTC: DAY starts at 00:00; WEEK starts on the weekday `offset`
(0 Sunday … 6 Saturday); MONTH starts on day `offset + 1` of the month.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway_runtime.keyring import Subscription

FAIL_OPEN = "open"
FAIL_CLOSED = "closed"
FAIL_LOCAL = "local"
FAIL_MODES = (FAIL_OPEN, FAIL_CLOSED, FAIL_LOCAL)
DEFAULT_FAIL_MODE = FAIL_OPEN

QUOTA_PERIODS = ("DAY", "WEEK", "MONTH")
STAGE_DEFAULT = "*/*"
ACCOUNT_BUCKET = "a"


@dataclass(frozen=True, slots=True)
class Limit:
    """A token bucket's shape: `rate` tokens a second, holding at most `burst`."""

    rate: float
    burst: int


def parse_limit(rate: Any, burst: Any) -> Limit | None:
    """Return a limit from AWS's rateLimit/burstLimit, or None when no rate is set.

    A missing burst defaults to the rate (at least 1), so "rate 5" alone means 5 a second with bursts of 5.
    """
    if rate is None or isinstance(rate, bool):
        return None
    try:
        rate_value = float(rate)
        burst_value = int(burst) if burst is not None else max(1, math.ceil(rate_value))
    except (TypeError, ValueError):
        return None
    if not math.isfinite(rate_value) or rate_value < 0 or burst_value < 0:
        return None
    return Limit(rate_value, burst_value)


@dataclass(frozen=True, slots=True)
class Bucket:
    """One token bucket a request must take from; `key` names its counter (without the store's prefix)."""

    key: str
    rate: float
    burst: int


@dataclass(frozen=True, slots=True)
class Quota:
    """A usage plan's quota: `limit` requests per period."""

    limit: int
    period: str
    offset: int


@dataclass(frozen=True, slots=True)
class QuotaCheck:
    """One key's quota under one plan.

    `bounds` are the starts (epoch seconds) of the previous, current and next period and of the one after,
    by the gateway's clock; the counter store picks the period by its own clock, so processes whose clocks
    disagree near a boundary still count into the same period. The counter of a period is `{key}:{start}`.
    """

    key: str
    limit: int
    bounds: tuple[int, int, int, int]


@dataclass(frozen=True, slots=True, eq=False)
class LimitCheck:
    """Everything one request must pass: buckets (key, stage, account tiers) and maybe a quota.

    Compared and hashed by identity: stores keep per-check work (a packed command) keyed by the object.
    """

    buckets: tuple[Bucket, ...]
    quota: QuotaCheck | None

    @property
    def valid_until(self) -> float:
        """Return when the check goes stale: the end of its quota period (by this clock), or never."""
        return math.inf if self.quota is None else self.quota.bounds[2]


@dataclass(frozen=True, slots=True)
class StageLimits:
    """A stage's throttle settings (from `methodSettings`) and what to do when the counter store fails."""

    fail_mode: str
    default: Limit | None
    methods: dict[str, Limit]

    def for_method(self, resource_path: str, http_method: str) -> Limit | None:
        """Return the stage limit of a method: its own method settings, else the stage default."""
        return self.methods.get(method_setting_key(resource_path, http_method), self.default)


NO_STAGE_LIMITS = StageLimits(fail_mode=DEFAULT_FAIL_MODE, default=None, methods={})


def method_setting_key(resource_path: str, http_method: str) -> str:
    """Return the `methodSettings` key of a method: `pets/{petId}/GET` (runtime config, not the wire's `~1`)."""
    return f"{resource_path.lstrip('/')}/{http_method}"


def compile_stage_limits(config: dict[str, Any]) -> StageLimits:
    """Read a stage config's `methodSettings` throttles and `throttlingFailMode`."""
    fail_mode = str(config.get("throttlingFailMode") or DEFAULT_FAIL_MODE).lower()
    if fail_mode not in FAIL_MODES:
        fail_mode = DEFAULT_FAIL_MODE
    default: Limit | None = None
    methods: dict[str, Limit] = {}
    for key, setting in (config.get("methodSettings") or {}).items():
        if not isinstance(setting, dict):
            continue
        limit = parse_limit(setting.get("throttlingRateLimit"), setting.get("throttlingBurstLimit"))
        if limit is None:
            continue
        if key == STAGE_DEFAULT:
            default = limit
        else:
            methods[str(key)] = limit
    return StageLimits(fail_mode=fail_mode, default=default, methods=methods)


def stage_bucket(limits: StageLimits, stage_key: str, resource_path: str, http_method: str) -> Bucket | None:
    """Return the stage-tier bucket of one method (one bucket per stage and method, as AWS meters it)."""
    limit = limits.for_method(resource_path, http_method)
    if limit is None:
        return None
    return Bucket(f"s:{stage_key}:{resource_path}/{http_method}", limit.rate, limit.burst)


def account_bucket(rate: float | None, burst: int) -> Bucket | None:
    """Return the account-tier bucket, or None when the account limit is off."""
    if rate is None or rate <= 0:
        return None
    return Bucket(ACCOUNT_BUCKET, rate, burst)


def request_check(
    *,
    stage_key: str,
    resource_path: str,
    http_method: str,
    stage_tier: Bucket | None,
    account_tier: Bucket | None,
    subscription: Subscription | None,
    now: float,
) -> LimitCheck | None:
    """Return the buckets and quota a request must pass, or None when nothing limits it."""
    buckets: list[Bucket] = []
    quota: QuotaCheck | None = None
    if subscription is not None:
        plan, key_id = subscription.plan, subscription.key_id
        method_limit = plan.method_limit(stage_key, resource_path, http_method)
        if method_limit is not None:
            buckets.append(
                Bucket(
                    f"k:{key_id}:{plan.id}:{stage_key}:{resource_path}/{http_method}",
                    method_limit.rate,
                    method_limit.burst,
                )
            )
        elif plan.throttle is not None:
            buckets.append(Bucket(f"k:{key_id}:{plan.id}", plan.throttle.rate, plan.throttle.burst))
        if plan.quota is not None:
            quota = QuotaCheck(quota_counter_key(plan.id, key_id), plan.quota.limit, period_bounds(plan.quota, now))
    if stage_tier is not None:
        buckets.append(stage_tier)
    if account_tier is not None:
        buckets.append(account_tier)
    if not buckets and quota is None:
        return None
    return LimitCheck(tuple(buckets), quota)


def quota_counter_key(plan_id: str, key_id: str) -> str:
    """Return the counter name of a key's quota under a plan (the store appends the period start)."""
    return f"q:{plan_id}:{key_id}"


# -- quota periods -----------------------------------------------------------------------------------------


def period_start(period: str, offset: int, moment: datetime) -> datetime:
    """Return the start (UTC) of the quota period that contains `moment`."""
    midnight = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "DAY":
        return midnight
    if period == "WEEK":
        # weekday(): Monday 0 … Sunday 6; AWS's offset counts from Sunday.
        since_sunday = (midnight.weekday() + 1) % 7
        return midnight - timedelta(days=(since_sunday - offset) % 7)
    if period == "MONTH":
        day = offset + 1
        if midnight.day >= day:
            return midnight.replace(day=day)
        year, month = (midnight.year, midnight.month - 1) if midnight.month > 1 else (midnight.year - 1, 12)
        return midnight.replace(year=year, month=month, day=day)
    raise ValueError(f"unknown quota period {period!r}")


def next_period_start(period: str, start: datetime) -> datetime:
    """Return the start of the period after the one starting at `start`."""
    if period == "DAY":
        return start + timedelta(days=1)
    if period == "WEEK":
        return start + timedelta(days=7)
    if period == "MONTH":
        year, month = (start.year, start.month + 1) if start.month < 12 else (start.year + 1, 1)
        # Offsets go up to 27, so the start day exists in every month.
        return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))
    raise ValueError(f"unknown quota period {period!r}")


def previous_period_start(period: str, offset: int, start: datetime) -> datetime:
    """Return the start of the period before the one starting at `start`."""
    return period_start(period, offset, start - timedelta(seconds=1))


_bounds_cache: dict[tuple[str, int], tuple[int, int, tuple[int, int, int, int]]] = {}


def period_bounds(quota: Quota, now: float) -> tuple[int, int, int, int]:
    """Return the starts of the previous, current, next and following periods around `now` (epoch seconds)."""
    cache_key = (quota.period, quota.offset)
    cached = _bounds_cache.get(cache_key)
    if cached is not None and cached[0] <= now < cached[1]:
        return cached[2]
    current = period_start(quota.period, quota.offset, datetime.fromtimestamp(now, UTC))
    following = next_period_start(quota.period, current)
    bounds = (
        int(previous_period_start(quota.period, quota.offset, current).timestamp()),
        int(current.timestamp()),
        int(following.timestamp()),
        int(next_period_start(quota.period, following).timestamp()),
    )
    _bounds_cache[cache_key] = (bounds[1], bounds[2], bounds)
    return bounds


def parse_quota(quota: Any) -> Quota | None:
    """Return a plan's quota from AWS's QuotaSettings, or None when it is absent or unusable."""
    if not isinstance(quota, dict):
        return None
    period = str(quota.get("period") or "").upper()
    if quota.get("limit") is None:
        return None
    try:
        limit = int(quota["limit"])
        offset = int(quota.get("offset") or 0)
    except (TypeError, ValueError):
        return None
    if period not in QUOTA_PERIODS or limit < 0:
        return None
    offset = {"DAY": 0, "WEEK": offset % 7, "MONTH": min(max(offset, 0), 27)}[period]
    return Quota(limit=limit, period=period, offset=offset)
