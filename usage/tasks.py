"""Celery tasks of metering, run by beat (config/settings.py, CELERY_BEAT_SCHEDULE).

Every task is idempotent and cheap to run twice: the events wait in Redis or the local store until a
drain has committed them, so a lost, repeated or killed task changes nothing (docs/metering.md).
"""

from __future__ import annotations

import logging

from celery import shared_task

from usage import services

logger = logging.getLogger(__name__)


@shared_task(name="usage.drain_usage_events", acks_late=True, ignore_result=True)
def drain_usage_events() -> int:
    """Count the events waiting in the stream (or local store); return how many were new."""
    report = services.usage_events_drain()
    if report.entries:
        logger.info(
            "Drained %d entries: %d events counted, %d duplicates, %d malformed",
            report.entries,
            report.result.counted,
            report.result.duplicates,
            report.result.malformed,
        )
    return report.result.counted


@shared_task(name="usage.fold_usage_rollups", acks_late=True, ignore_result=True)
def fold_usage_rollups() -> int:
    """Fold minute rollups into hours and days; return how many minute rows were folded."""
    return services.rollups_fold()


@shared_task(name="usage.prune_usage", acks_late=True, ignore_result=True)
def prune_usage() -> dict[str, int]:
    """Delete rollups and event ids past their retention."""
    return services.usage_prune()
