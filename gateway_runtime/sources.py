"""Config sources beyond the in-memory one: the control plane's tables, and a JSON file.

`DatabaseConfigSource` is what production gateways read (off the hot path, in one worker thread).
`FileConfigSource` serves a JSON document, for gateways started without a control plane (tests that run
several gateway processes, benchmarks); `asgi.py` picks it when `PORTICO_GATEWAY_CONFIG_FILE` is set.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

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
        from apis.selectors import (
            domain_runtime_configs,
            keyring_runtime_config,
            quota_adjustments_runtime_config,
            stage_runtime_config,
        )

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
            # Keys and plans change without a stage revision moving: the keyring goes out on every version.
            delta.keyring = keyring_runtime_config()
            delta.quota_adjustments = quota_adjustments_runtime_config()
            return delta
        finally:
            close_old_connections()


class FileConfigSource:
    """Serve the config in a JSON file: `{"version", "stages", "domains", "keyring", "quotaAdjustments"}`.

    The file is read again when its modification time or size changes; writers should replace it
    atomically (write a temporary file, then rename it over this one) and raise `version`.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self._path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._document: dict[str, Any] = {}

    def _read(self) -> dict[str, Any]:
        stat = self._path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._document = json.loads(self._path.read_text())
            self._stamp = stamp
        return self._document

    async def version(self) -> int:
        """Return the file's `version`."""
        return int(self._read().get("version") or 0)

    async def load(self, known: dict[str, int]) -> ConfigDelta:
        """Return the stages whose revision differs from `known`, the removed keys, domains and keyring."""
        document = self._read()
        stages = {stage_key(item["apiId"], item["stageName"]): item for item in document.get("stages") or ()}
        return ConfigDelta(
            changed={
                key: copy.deepcopy(item) for key, item in stages.items() if known.get(key) != item.get("revision")
            },
            removed=[key for key in known if key not in stages],
            domains=copy.deepcopy(document.get("domains") or []),
            keyring=copy.deepcopy(document.get("keyring") or {}),
            quota_adjustments=copy.deepcopy(document.get("quotaAdjustments") or []),
        )
