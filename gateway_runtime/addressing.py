"""Find the stage a request is for, from its Host header and path.

The forms a client may use:

- `{apiId}.{public host}[:port]/{stage}/...` (the execute-api host; `public host` is configurable),
- `/_aws/execute-api/{apiId}/{stage}/...` and `/restapis/{apiId}/{stage}/_user_request_/...`
  (path forms of existing local tooling, on any host),
- a custom domain name by Host header, then its base path mappings (longest base path wins; `(none)` is the
  empty base path).

An unknown API or stage, or an execute-api form for an API with `disableExecuteApiEndpoint`, resolves to
nothing and the gateway answers 403 Forbidden, as AWS does. Custom domains keep working for such APIs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway_runtime.compiler import CompiledDomain, CompiledStage
    from gateway_runtime.runtime import RuntimeConfig

AWS_PATH_PREFIX = "/_aws/execute-api/"
RESTAPIS_PREFIX = "/restapis/"
USER_REQUEST_PART = "_user_request_"

Resolved = tuple["CompiledStage", str]


def host_name(host: str) -> str:
    """Return the lower-case host name of a Host header, without the port."""
    if host.startswith("["):
        return host[: host.find("]") + 1].lower()
    return host.partition(":")[0].lower().rstrip(".")


def _first_segment(path: str) -> tuple[str, str]:
    """Split `/first/rest...` into `first` and `/rest...` (`/` when nothing follows)."""
    first, slash, rest = path.lstrip("/").partition("/")
    return first, (slash + rest) or "/"


def _execute_api(runtime: RuntimeConfig, api_id: str, path: str) -> Resolved | None:
    stage_name, route_path = _first_segment(path)
    stage = runtime.stage(api_id, stage_name)
    if stage is None or stage.execute_api_disabled:
        return None
    return stage, route_path


def _custom_domain(runtime: RuntimeConfig, domain: CompiledDomain, path: str) -> Resolved | None:
    segments = path.lstrip("/").split("/")
    # Longest base path first; each candidate is one dict lookup, so this costs the mapping depth at most.
    for depth in range(min(len(segments), domain.max_depth), -1, -1):
        base_path = "/".join(segments[:depth])
        mapping = domain.mappings.get(base_path)
        if mapping is None:
            continue
        # Segments were split on "/", so what follows a non-empty base path is empty or starts with "/".
        rest = (path.lstrip("/")[len(base_path) :] if base_path else path) or "/"
        if mapping.stage is None:
            stage_name, rest = _first_segment(rest)
        else:
            stage_name = mapping.stage
        stage = runtime.stage(mapping.api_id, stage_name)
        return None if stage is None else (stage, rest)
    return None


def resolve(runtime: RuntimeConfig, host: str, path: str, public_host: str) -> Resolved | None:
    """Return the stage and the stage-relative (still percent-encoded) path, or None for 403 Forbidden."""
    name = host_name(host)
    domain = runtime.domains.get(name)
    if domain is not None:
        return _custom_domain(runtime, domain, path)
    if name.endswith(public_host) and len(name) > len(public_host) + 1 and name[-len(public_host) - 1] == ".":
        api_id = name[: -len(public_host) - 1]
        return None if "." in api_id else _execute_api(runtime, api_id, path)
    if path.startswith(AWS_PATH_PREFIX):
        api_id, rest = _first_segment(path[len(AWS_PATH_PREFIX) - 1 :])
        return _execute_api(runtime, api_id, rest)
    if path.startswith(RESTAPIS_PREFIX):
        api_id, rest = _first_segment(path[len(RESTAPIS_PREFIX) - 1 :])
        stage_name, rest = _first_segment(rest)
        marker, rest = _first_segment(rest)
        if marker != USER_REQUEST_PART:
            return None
        return _execute_api(runtime, api_id, f"/{stage_name}{rest}")
    return None
