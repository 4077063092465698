"""The config source that reads the control plane's tables (off the hot path, in one worker thread)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from gateway_runtime.config import ConfigDelta, stage_key

logger = logging.getLogger(__name__)


class DatabaseConfigSource:
    """Poll the config version and load changed stages through the ORM, in a dedicated thread."""

    def __init__(self) -> None:
        # One thread keeps one database connection instead of one per pooled thread.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portico-config")
        self._redis = None

    async def version(self) -> int:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._version_sync)

    async def load(self, known: dict[str, int]) -> ConfigDelta:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._load_sync, dict(known))

    def _version_sync(self) -> int:
        from django.db import close_old_connections

        from apis.selectors import config_version

        close_old_connections()
        try:
            return config_version()
        finally:
            close_old_connections()

    def _load_sync(self, known: dict[str, int]) -> ConfigDelta:
        from django.db import close_old_connections

        from apis import models as m
        from apis.selectors import domain_runtime_configs, stage_runtime_config

        close_old_connections()
        try:
            delta = ConfigDelta()
            current = {
                stage_key(api_id, name): (pk, revision)
                for pk, api_id, name, revision in m.Stage.objects.values_list(
                    "pk", "rest_api_id", "stage_name", "revision"
                )
            }
            changed_pks = [pk for key, (pk, revision) in current.items() if known.get(key) != revision]
            for stage in m.Stage.objects.filter(pk__in=changed_pks).select_related("deployment"):
                delta.changed[stage_key(stage.rest_api_id, stage.stage_name)] = stage_runtime_config(stage=stage)
            delta.removed = [key for key in known if key not in current]
            delta.domains = domain_runtime_configs()
            return delta
        finally:
            close_old_connections()
