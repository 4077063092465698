"""The limiter: admits each request by the counter store, or by the stage's fail mode while it fails.

It asks the store within the counter timeout; on a failure it stops asking and answers by each stage's
fail mode (open, closed, local) until a background probe sees the store answer again. It also learns how
many gateway processes share the store (a heartbeat), for the `local` fail mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from gateway_runtime.counters import (
    ALLOWED,
    STORE_UNAVAILABLE,
    CounterStore,
    MemoryCounterStore,
    RedisCounterStore,
    ScriptMissing,
    Verdict,
    usage_check,
)
from gateway_runtime.limits import FAIL_CLOSED, FAIL_LOCAL, Bucket, LimitCheck, period_bounds

logger = logging.getLogger(__name__)

T = TypeVar("T")

PROBE_SECONDS = 0.5
HEARTBEAT_SECONDS = 1.0
DEGRADED_LOG_SECONDS = 10.0
PRUNE_SECONDS = 60.0
# Startup may import and connect at leisure; requests may not.
WARM_UP_SECONDS = 2.0
WARM_UP_CONNECTIONS = 32
# Loop lag: sampled every LAG_SAMPLE_SECONDS, remembered as a max that decays by LAG_DECAY a sample.
LAG_SAMPLE_SECONDS = 0.02
LAG_DECAY = 0.97
# A store call may wait the counter timeout plus twice the recent loop lag, and then a few turns of the
# loop (an answer on the socket is read only when the loop polls it): an answer this busy process has not
# read yet is not a slow store. All of it within GRACE_SECONDS past the timeout, except the first
# MIN_GRACE_TURNS turns, which an idle loop takes in microseconds and a descheduled process needs.
LAG_ALLOWANCE = 2.0
GRACE_SECONDS = 0.1
GRACE_TURNS = 10
MIN_GRACE_TURNS = 3
# Route-and-key checks cached before the cache starts over.
CACHED_CHECKS = 65536


def _scaled(buckets: Iterable[Bucket], processes: int) -> tuple[Bucket, ...]:
    """Return each bucket at its share for one of `processes` processes (the `local` fail mode)."""
    if processes <= 1:
        return tuple(buckets)
    return tuple(
        Bucket(bucket.key, bucket.rate / processes, bucket.burst and max(1, bucket.burst // processes))
        for bucket in buckets
    )


class Limiter:
    """Admit requests by the counter store, or by the stage's fail mode while the store is failing.

    Each store call is bounded by the counter timeout (`timeout_s`). A failure (refused, reset, timed out,
    any error) marks the store down at once; requests then go straight to their fail mode without waiting
    on the store, until the background probe gets an answer (within `PROBE_SECONDS`). A failure is never
    reported as "over the limit".

    The timeout is about the store, not this process: when the event loop runs late (a busy or
    descheduled process), an answer may be waiting unread, so a call gets the recent loop lag and a few
    loop turns on top, up to `GRACE_SECONDS`. A gateway whose loop lags more than that counts the store
    as failing: raise `GATEWAY_COUNTER_TIMEOUT_MS` for gateways that run that hot.
    """

    def __init__(self, store: CounterStore, *, account: Bucket | None = None, timeout_s: float = 0.05):
        self.store = store
        self.account = account
        self.timeout_s = timeout_s
        self.healthy = True
        self.processes = 1
        self.lag = 0.0
        self.degraded_since: float | None = None
        # Counted over the process's life while the store was down: by fail mode, what happened.
        self.degraded_allowed = 0
        self.degraded_throttled = 0
        self.degraded_refused = 0
        self._local = MemoryCounterStore()
        self._process_id = uuid.uuid4().hex
        self._tasks: list[asyncio.Task[None]] = []
        self._applied_adjustment = 0
        # The deadlines of the store calls in flight, so a failure can release them all at once.
        self._waiting: set[asyncio.Timeout] = set()
        # The store answers in flight, oldest first: (due, last chance, answer); one timer watches the oldest.
        self._inflight: deque[tuple[float, float, asyncio.Future[Any]]] = deque()
        self._watchdog: asyncio.TimerHandle | asyncio.Handle | None = None
        # The loop the limiter runs on, looked up once (on Python 3.11 each lookup is a getpid() system call).
        self._loop: asyncio.AbstractEventLoop | None = None
        # Checks built for a route and key, reused until stale (see pipeline.throttle_and_quota).
        self.checks: dict[tuple[int, int], tuple[Any, Any, LimitCheck | None, float]] = {}

    def remember_check(self, key: tuple[int, int], entry: tuple[Any, Any, LimitCheck | None, float]) -> None:
        if len(self.checks) >= CACHED_CHECKS:
            self.checks.clear()
        self.checks[key] = entry

    def forget_checks(self) -> None:
        """Drop the cached checks (a new config: its routes and keys are new objects)."""
        self.checks = {}

    async def admit(self, check: LimitCheck, fail_mode: str) -> Verdict:
        """Return the verdict for a request: from the store, or from the fail mode if the store is down."""
        if self.healthy:
            store = self.store
            if store.synchronous:
                return store.take_now(check)  # type: ignore[attr-defined]
            try:
                answer = store.submit(check)  # type: ignore[attr-defined]
                self._watch(answer)
                try:
                    return store.verdict(await answer)  # type: ignore[attr-defined]
                except ScriptMissing:
                    return await self._within(store.take_sending_script(check))  # type: ignore[attr-defined]
            except Exception as exc:
                self._store_failed(exc)
        if fail_mode == FAIL_CLOSED:
            self.degraded_refused += 1
            return STORE_UNAVAILABLE
        if fail_mode == FAIL_LOCAL:
            # Quotas cannot be exact from one process's view; only the throttles hold, at this process's share.
            verdict = self._local.take_now(LimitCheck(_scaled(check.buckets, self.processes), None))
            if verdict is ALLOWED:
                self.degraded_allowed += 1
            else:
                self.degraded_throttled += 1
            return verdict
        self.degraded_allowed += 1
        return ALLOWED

    def _watch(self, answer: asyncio.Future[Any]) -> None:
        """Bound a store answer by the counter timeout (and the grace below), with one timer for all of them.

        Answers come back in the order they were asked for, so only the oldest unanswered one needs a
        timer: when it is late, the loop gets its grace turns to read an answer that may be waiting, and if
        it is still unanswered every waiting call fails at once, as the store is then taken to be down.
        """
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        now = loop.time()
        allowance = min(LAG_ALLOWANCE * self.lag, GRACE_SECONDS)
        self._inflight.append((now + self.timeout_s + allowance, now + self.timeout_s + GRACE_SECONDS, answer))
        if self._watchdog is None:
            self._watchdog = loop.call_at(now + self.timeout_s + allowance, self._check_inflight, 0)

    def _check_inflight(self, turns: int) -> None:
        loop = self._loop or asyncio.get_running_loop()
        inflight = self._inflight
        while inflight and inflight[0][2].done():
            inflight.popleft()
            turns = 0
        if not inflight:
            self._watchdog = None
            return
        due, last, _ = inflight[0]
        now = loop.time()
        if now < due:
            self._watchdog = loop.call_at(due, self._check_inflight, 0)
        elif turns < GRACE_TURNS and (turns < MIN_GRACE_TURNS or now < last):
            self._watchdog = loop.call_soon(self._check_inflight, turns + 1)
        else:
            self._watchdog = None
            self._fail_inflight(TimeoutError(f"The counter store did not answer within {self.timeout_s * 1000:.0f} ms"))

    def _fail_inflight(self, exc: BaseException) -> None:
        inflight, self._inflight = self._inflight, deque()
        for _, _, answer in inflight:
            if not answer.done():
                answer.set_exception(exc)

    async def _within(self, awaitable: Awaitable[T]) -> T:
        """Await a store call for at most the counter timeout (and the grace above); else TimeoutError."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        last = started + self.timeout_s + GRACE_SECONDS
        async with asyncio.timeout(None) as scope:
            handle: asyncio.Handle | None = None

            def turn(given: int) -> None:
                nonlocal handle
                if given < GRACE_TURNS and (given < MIN_GRACE_TURNS or loop.time() < last):
                    handle = loop.call_soon(turn, given + 1)
                else:
                    scope.reschedule(loop.time())

            allowance = min(LAG_ALLOWANCE * self.lag, GRACE_SECONDS)
            handle = loop.call_at(started + self.timeout_s + allowance, turn, 0)
            self._waiting.add(scope)
            try:
                return await awaitable
            finally:
                self._waiting.discard(scope)
                if handle is not None:
                    handle.cancel()

    def _store_failed(self, exc: BaseException) -> None:
        if not self.healthy:
            return
        self.healthy = False
        self.degraded_since = time.time()
        # The calls still waiting on the store would wait for nothing: answer them by the fail mode now.
        for scope in self._waiting:
            with contextlib.suppress(RuntimeError):
                scope.reschedule(asyncio.get_running_loop().time())
        self._waiting.clear()
        self._fail_inflight(ConnectionError("The counter store failed"))
        logger.warning(
            "Counter store %s failed (%s: %s); stages apply their throttling fail mode until it answers again",
            self.store.name,
            type(exc).__name__,
            exc,
        )

    def _recovered(self) -> None:
        since = self.degraded_since or time.time()
        self.healthy = True
        self.degraded_since = None
        self._local = MemoryCounterStore()
        logger.warning(
            "Counter store %s answers again after %.1f s; limits are enforced. While it was down (process "
            "total): %d requests allowed uncounted, %d throttled locally, %d refused with 503",
            self.store.name,
            time.time() - since,
            self.degraded_allowed,
            self.degraded_throttled,
            self.degraded_refused,
        )

    def stats(self) -> dict[str, Any]:
        """Return the counter store's state and the degraded counts, for /ping."""
        since = self.degraded_since
        return {
            "store": self.store.name,
            "healthy": self.healthy,
            "processes": self.processes,
            "degradedSince": None if since is None else datetime.fromtimestamp(since, UTC).isoformat(),
            "degradedAllowed": self.degraded_allowed,
            "degradedThrottled": self.degraded_throttled,
            "degradedRefused": self.degraded_refused,
            "loopLagMs": round(self.lag * 1000, 1),
        }

    def apply_quota_adjustments(self, adjustments: Iterable[dict[str, Any]], plans: dict[str, Any]) -> None:
        """Apply UpdateUsage changes published through the runtime config (in-process counters only).

        With Redis the control plane has already written them to the shared counters.
        """
        newest = self._applied_adjustment
        for item in adjustments:
            serial = int(item.get("id") or 0)
            if serial <= self._applied_adjustment:
                continue
            newest = max(newest, serial)
            plan = plans.get(str(item.get("usagePlanId")))
            if not isinstance(self.store, MemoryCounterStore) or plan is None or plan.quota is None:
                continue
            quota = plan.quota
            check = usage_check(plan.id, str(item.get("keyId")), quota.limit, period_bounds(quota, time.time()))
            self.store.set_remaining(check, int(item.get("periodStart") or 0), int(item.get("remaining") or 0))
        self._applied_adjustment = newest

    async def start(self) -> None:
        """Connect to the store, then start the background probe, heartbeat and loop-lag sampling."""
        try:
            async with asyncio.timeout(WARM_UP_SECONDS):
                await self.store.warm_up(WARM_UP_CONNECTIONS)
        except Exception as exc:
            self._store_failed(exc)
        loop = self._loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._run(), name="gateway-counter-probe"),
            loop.create_task(self._sample_lag(), name="gateway-loop-lag"),
        ]

    async def stop(self) -> None:
        """Stop the background tasks and close the store."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._loop = None
        await self.store.close(self._process_id)

    async def _sample_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(LAG_SAMPLE_SECONDS)
            self.lag = max(loop.time() - before - LAG_SAMPLE_SECONDS, self.lag * LAG_DECAY)

    async def _run(self) -> None:
        last_prune = last_log = time.monotonic()
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS if self.healthy else PROBE_SECONDS)
            now = time.monotonic()
            if now - last_prune > PRUNE_SECONDS:
                last_prune = now
                self.store.prune()
                self._local.prune()
            try:
                if self.healthy:
                    self.processes = max(1, await self._within(self.store.heartbeat(self._process_id)))
                else:
                    await self.store.reset()
                    await self._within(self.store.ping())
                    async with asyncio.timeout(WARM_UP_SECONDS):
                        await self.store.warm_up(WARM_UP_CONNECTIONS)
                    self._recovered()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.healthy:
                    self._store_failed(exc)
                elif now - last_log > DEGRADED_LOG_SECONDS:
                    last_log = now
                    logger.warning(
                        "Counter store %s still down (%s); %d allowed uncounted, %d throttled locally, %d refused",
                        self.store.name,
                        type(exc).__name__,
                        self.degraded_allowed,
                        self.degraded_throttled,
                        self.degraded_refused,
                    )


def build_limiter(*, redis_url: str, prefix: str, timeout_ms: int, account: Bucket | None) -> Limiter:
    """Return the limiter for a gateway: on Redis when a URL is configured, else in-process."""
    timeout_s = max(timeout_ms, 1) / 1000
    store: CounterStore
    if redis_url:
        # The socket timeout is only a backstop; the limiter bounds every call by `timeout_s`.
        store = RedisCounterStore(redis_url, prefix=prefix, connect_timeout_s=max(1.0, 20 * timeout_s))
    else:
        store = MemoryCounterStore()
    return Limiter(store, account=account, timeout_s=timeout_s)
