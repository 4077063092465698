"""Celery tasks of the portal; each is idempotent and calls a service."""

from __future__ import annotations

from celery import shared_task

from portal.services import rotated_keys_expire, sdk_build_run


@shared_task(name="portal.tasks.expire_rotated_keys", ignore_result=True)
def expire_rotated_keys() -> int:
    """Disable the rotated keys whose grace period has ended (beat runs this every 30 s)."""
    return rotated_keys_expire()


@shared_task(name="portal.tasks.build_sdk", ignore_result=True)
def build_sdk(build_id: int) -> str:
    """Generate one queued SDK build; a ready, failed or running build is left as it is."""
    return sdk_build_run(build_id=build_id)
