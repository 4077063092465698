"""Client SDKs generated from a stage's OpenAPI export, one zip per (deployment, stage, language).

Each SDK type names one generator module behind a `generate(document, names, workdir, timeout) -> Path`
function, listed in `GENERATORS`. Every generator writes the project into `workdir`, then adds Portico's
hand-written retry layer (429/503 with backoff, honouring `Retry-After`) from `portal/sdk_templates/`;
`build_archive` zips the result. The builds run in Celery (`portal.tasks.build_sdk`, see
`portal.services.sdk_build_run`); docs/portal.md describes what each SDK does.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from apis.openapi import invoke_origin, stage_export
from portal.models import SdkLanguage

TEMPLATES = Path(__file__).resolve().parent.parent / "sdk_templates"
OUTPUT_TAIL = 4000  # characters of a failed tool's output kept in the build's error text


class SdkBuildError(Exception):
    """A build failed for a reason worth showing (a tool missing, failing or timing out)."""


@dataclass(frozen=True)
class SdkNames:
    """What the generated project and its package are called, from the API's name."""

    title: str
    slug: str  # "weather_service"
    version: str  # "2026.1122.93000": semver and PEP 440 at once, growing with the deployment time
    base_url: str  # the stage's invoke URL, the SDK's default

    @property
    def project(self) -> str:
        return f"{self.slug.replace('_', '-')}-client"

    @property
    def package(self) -> str:
        return f"{self.slug}_client"

    @property
    def class_prefix(self) -> str:
        return "".join(part.capitalize() for part in self.slug.split("_")) + "Client"


@dataclass(frozen=True)
class SdkType:
    """One language the portal and GetSdk offer (GetSdkTypes lists these)."""

    id: str
    friendly_name: str
    description: str
    generator: str  # the pinned tool, e.g. "openapi-python-client 0.29.1"


def _distribution_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "missing"  # the build itself then fails, saying what to install


def _python_version() -> str:
    return _distribution_version("openapi-python-client")


def _generator_cli_version() -> str:
    return _distribution_version("openapi-generator-cli")


def _ts_version() -> str:
    import json

    package = settings.BASE_DIR / "node_modules" / "@hey-api" / "openapi-ts" / "package.json"
    try:
        return json.loads(package.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "missing"


SDK_TYPES: dict[str, SdkType] = {
    SdkLanguage.PYTHON: SdkType(
        "python", "Python", "Python 3.11+ client (httpx, attrs) made by openapi-python-client", "openapi-python-client"
    ),
    SdkLanguage.TYPESCRIPT: SdkType(
        "typescript", "TypeScript", "TypeScript client on fetch, made by @hey-api/openapi-ts", "@hey-api/openapi-ts"
    ),
    SdkLanguage.JAVA: SdkType(
        "java", "Java", "Java 8+ client (OkHttp, Gson) made by OpenAPI Generator", "openapi-generator-cli"
    ),
    SdkLanguage.RUBY: SdkType("ruby", "Ruby", "Ruby gem (Typhoeus) made by OpenAPI Generator", "openapi-generator-cli"),
    SdkLanguage.GO: SdkType("go", "Go", "Go module (net/http) made by OpenAPI Generator", "openapi-generator-cli"),
}


def sdk_recipe(sdk_type: str) -> str:
    """Name the generator version and templates a build of this type uses now; a change means a rebuild."""
    tool = SDK_TYPES[sdk_type].generator
    version = {
        "openapi-python-client": _python_version,
        "@hey-api/openapi-ts": _ts_version,
        "openapi-generator-cli": _generator_cli_version,
    }[tool]()
    digest = hashlib.sha256()
    for path in sorted((TEMPLATES / sdk_type).rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{tool} {version} / templates {digest.hexdigest()[:12]}"


# -- the OpenAPI document and names -------------------------------------------------------------------------


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40].strip("_")
    if not slug:
        return "api"
    return f"api_{slug}" if slug[0].isdigit() else slug


def _version(deployed_at: datetime) -> str:
    return f"{deployed_at.year}.{deployed_at.month * 100 + deployed_at.day}.{int(deployed_at.strftime('%H%M%S'))}"


def stage_base_url(*, api_id: str, stage_name: str) -> str:
    """Return a stage's invoke URL on the gateway, the generated clients' default base URL."""
    return f"{invoke_origin(api_id)}/{stage_name}"


def sdk_document(*, snapshot: Mapping[str, Any], stage_name: str, deployed_at: datetime) -> dict[str, Any]:
    """Return the OpenAPI 3.0 export SDKs are generated from: the stage's invoke URL as its only server."""
    api_id = snapshot.get("restApi", {}).get("id", "")
    document = stage_export(
        snapshot=dict(snapshot),
        stage_name=stage_name,
        deployed_at=deployed_at,
        export_type="oas30",
        server_url=stage_base_url(api_id=api_id, stage_name=stage_name),
    )
    document["info"]["version"] = _version(deployed_at)
    return document


def sdk_names(*, snapshot: Mapping[str, Any], stage_name: str, deployed_at: datetime) -> SdkNames:
    api = snapshot.get("restApi", {})
    title = api.get("name") or api.get("id") or "API"
    return SdkNames(
        title=title,
        slug=_slug(title),
        version=_version(deployed_at),
        base_url=stage_base_url(api_id=api.get("id", ""), stage_name=stage_name),
    )


# -- running tools ------------------------------------------------------------------------------------------


def tool_env() -> dict[str, str]:
    """The environment of generator processes: this interpreter's scripts (ruff for the Python client) first."""
    env = dict(os.environ)
    scripts = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([scripts, env.get("PATH", "")])
    return env


def run_tool(command: list[str], *, cwd: Path, timeout: float, what: str) -> None:
    """Run one generator step; a missing tool, a non-zero exit or the timeout is an SdkBuildError with its output."""
    try:
        completed = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=tool_env(), check=False
        )
    except FileNotFoundError:
        raise SdkBuildError(f"{what}: {command[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise SdkBuildError(f"{what} did not finish within {timeout:.0f} s") from None
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()[-OUTPUT_TAIL:]
        raise SdkBuildError(f"{what} failed (exit {completed.returncode}):\n{output}")


def render_template(relative: str, names: SdkNames, **extra: str) -> str:
    """Return a file of portal/sdk_templates/ with its `__NAME__` placeholders filled in."""
    text = (TEMPLATES / relative).read_text()
    values = {
        "__TITLE__": names.title,
        "__PROJECT__": names.project,
        "__PACKAGE__": names.package,
        "__CLASS_PREFIX__": names.class_prefix,
        "__VERSION__": names.version,
        "__BASE_URL__": names.base_url,
        **extra,
    }
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def patch_text(path: Path, anchor: str, replacement: str, *, count: int = 1) -> None:
    """Replace an anchor the pinned generator is known to emit; fail the build if the output changed shape."""
    text = path.read_text()
    found = text.count(anchor)
    if found != count:
        raise SdkBuildError(f"{path.name}: expected {anchor!r} {count} time(s) from the generator, found {found}")
    path.write_text(text.replace(anchor, replacement))


# -- the build ----------------------------------------------------------------------------------------------

Generator = Callable[[dict[str, Any], SdkNames, Path, float], Path]


def _generators() -> dict[str, Generator]:
    from portal.sdks import generator_cli, python, typescript

    return {
        SdkLanguage.PYTHON: python.generate,
        SdkLanguage.TYPESCRIPT: typescript.generate,
        SdkLanguage.JAVA: generator_cli.generate_java,
        SdkLanguage.RUBY: generator_cli.generate_ruby,
        SdkLanguage.GO: generator_cli.generate_go,
    }


def zip_directory(source: Path, target: Path, *, top: str) -> None:
    """Zip a directory under one top-level folder, files in a stable order."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, f"{top}/{path.relative_to(source).as_posix()}")


def build_archive(
    *, sdk_type: str, document: dict[str, Any], names: SdkNames, target: Path, timeout: float | None = None
) -> Path:
    """Generate an SDK in a temporary directory and zip it to `target` (replaced atomically)."""
    timeout = float(timeout or settings.PORTAL_SDK_BUILD_TIMEOUT)
    generate = _generators()[sdk_type]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"portico-sdk-{sdk_type}-") as work:
        project = generate(document, names, Path(work), timeout)
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            zip_directory(project, partial, top=f"{names.project}-{sdk_type}")
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return target


def archive_path(*, deployment_id: str, stage_name: str, sdk_type: str) -> Path:
    """Return where a build's zip lives: VAR_DIR/sdks/{deploymentId}/{stage}/{type}.zip."""
    safe_stage = stage_name if re.fullmatch(r"[A-Za-z0-9_-]{1,128}", stage_name) else _hashed(stage_name)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", deployment_id):
        deployment_id = _hashed(deployment_id)
    return Path(settings.VAR_DIR) / "sdks" / deployment_id / safe_stage / f"{sdk_type}.zip"


def _hashed(text: str) -> str:
    return "h-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()
