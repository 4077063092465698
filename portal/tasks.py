"""Celery tasks of the portal; each is idempotent and calls a service."""

from __future__ import annotations

from celery import shared_task

from portal.services import rotated_keys_expire


@shared_task(name="portal.tasks.expire_rotated_keys", ignore_result=True)
def expire_rotated_keys() -> int:
    """Disable the rotated keys whose grace period has ended (beat runs this every 30 s)."""
    return rotated_keys_expire()
