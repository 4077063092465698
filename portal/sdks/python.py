"""The Python SDK: openapi-python-client, with Portico's retrying httpx transport wired into every client.

`portal/sdk_templates/python/portico.py` becomes `{package}/portico.py`; the generated `client.py` is patched
so that `Client` and `AuthenticatedClient` build their httpx clients on `RetryTransport` /
`AsyncRetryTransport` (unless the caller passes a transport of their own), and the package exports
`api_client(api_key=...)`, an `AuthenticatedClient` that sends the key in `x-api-key` to the stage's URL.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from portal.sdks import SdkNames, patch_text, render_template, run_tool

SYNC_ARGS = "**self._httpx_args,\n            )\n        return self._client\n"
ASYNC_ARGS = "**self._httpx_args,\n            )\n        return self._async_client\n"


def generate(document: dict[str, Any], names: SdkNames, workdir: Path, timeout: float) -> Path:
    spec = workdir / "openapi.json"
    spec.write_text(json.dumps(document))
    config = workdir / "config.json"
    config.write_text(json.dumps({"project_name_override": names.project, "package_name_override": names.package}))
    project = workdir / names.project
    run_tool(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(spec),
            "--config",
            str(config),
            "--output-path",
            str(project),
            "--meta",
            "poetry",
        ],
        cwd=workdir,
        timeout=timeout,
        what="openapi-python-client",
    )
    package = project / names.package
    (package / "portico.py").write_text(render_template("python/portico.py", names))
    client = package / "client.py"
    patch_text(
        client,
        SYNC_ARGS,
        SYNC_ARGS.replace("**self._httpx_args", "**with_retries(self._httpx_args, verify=self._verify_ssl)"),
        count=2,
    )
    patch_text(
        client,
        ASYNC_ARGS,
        ASYNC_ARGS.replace("**self._httpx_args", "**with_async_retries(self._httpx_args, verify=self._verify_ssl)"),
        count=2,
    )
    patch_text(client, "import httpx\n", "import httpx\n\nfrom .portico import with_async_retries, with_retries\n")
    with (package / "__init__.py").open("a") as init:
        init.write(
            "\nfrom .portico import DEFAULT_BASE_URL, AsyncRetryTransport, RetryPolicy, RetryTransport, api_client\n\n"
            '__all__ = (*__all__, "DEFAULT_BASE_URL", "AsyncRetryTransport", "RetryPolicy", "RetryTransport", '
            '"api_client")\n'
        )
    readme = project / "README.md"
    readme.write_text(render_template("python/README.md", names) + "\n" + readme.read_text())
    return project
