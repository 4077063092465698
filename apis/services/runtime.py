"""Publish changes of the runtime config that gateways serve (DESIGN §3)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F

from apis import models as m

logger = logging.getLogger(__name__)

REDIS_VERSION_KEY = "portico:config:version"
REDIS_CHANNEL = "portico:config"


def runtime_config_bump(*, stages: list[m.Stage] | None = None) -> None:
    """Move the config version (and the revision of the given stages) so gateways reload them."""
    if stages:
        m.Stage.objects.filter(pk__in=[s.pk for s in stages]).update(revision=F("revision") + 1)
    updated = m.ConfigVersion.objects.filter(id=1).update(version=F("version") + 1)
    if not updated:
        m.ConfigVersion.objects.get_or_create(id=1, defaults={"version": 1})
    transaction.on_commit(_publish)


def _publish() -> None:
    if not settings.REDIS_URL:
        return
    version = m.ConfigVersion.objects.filter(id=1).values_list("version", flat=True).first() or 0
    try:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        client.set(REDIS_VERSION_KEY, version)
        client.publish(REDIS_CHANNEL, version)
    except Exception:
        # Gateways also poll the database version, so a missed push only delays the reload.
        logger.warning("could not publish config version %s to Redis", version, exc_info=True)
