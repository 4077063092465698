"""Scale of configuration: many APIs in one gateway process, with gateway_runtime's compiler and router.

    .venv/bin/python bench/config_scale.py [--apis 1000] [--routes 50]

Measures, in this process:

- resident memory of one gateway process holding `apis` deployed APIs (one stage each) of `routes` methods
  each, compiled through the gateway's own reload path (ConfigPoller.refresh → apply_delta → compile_stage),
  over the baseline of the same process with gateway_runtime imported;
- the time to reload one changed stage among them (the poller's refresh: version, load, compile, swap);
- the time to match a route in a stage of 10 and of 10,000 routes (Router.match on a compiled stage; a mix
  of literal, parameter, greedy and missing paths), and to resolve the stage from the Host header then
  match, in the big config.

Times are this process's CPU time (time.process_time), which other work on a shared machine does not
stretch. Writes bench/results/config_scale-<time>.json and .md, with the issue's targets.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness

from gateway_runtime.addressing import resolve
from gateway_runtime.compiler import compile_stage
from gateway_runtime.config import ConfigDelta, GatewaySettings, stage_key
from gateway_runtime.runtime import ConfigPoller, RuntimeConfig

TARGET_MATCH_US = 20.0
TARGET_RELOAD_MS = 200.0
TARGET_RSS_MB = 400.0


def _method(api: str, index: int, verb: str, path: str) -> dict[str, Any]:
    """Return a method definition: mostly HTTP_PROXY with a mapping, every fifth an HTTP one with templates."""
    uri_path = path.replace("{proxy+}", "{proxy}")
    integration: dict[str, Any] = {
        "type": "HTTP_PROXY",
        "httpMethod": verb,
        "uri": f"http://{api}.backend.internal:8080{uri_path}",
        "connectionType": "INTERNET",
        "requestParameters": {"integration.request.header.X-Api": "'" + api + "'"},
        "passthroughBehavior": "WHEN_NO_MATCH",
        "timeoutInMillis": 29000,
        "cacheNamespace": f"{api}{index:04d}",
        "cacheKeyParameters": [],
    }
    if index % 5 == 0:
        integration.update(
            {
                "type": "HTTP",
                "requestTemplates": {"application/json": '{"id": "$input.params(\'id\')", "body": $input.json(\'$\')}'},
                "integrationResponses": {
                    "200": {
                        "statusCode": "200",
                        "selectionPattern": None,
                        "responseParameters": {"method.response.header.X-Id": "integration.response.header.X-Id"},
                        "responseTemplates": {"application/json": "{\"data\": $input.json('$')}"},
                    },
                    "404": {"statusCode": "404", "selectionPattern": "4\\d{2}", "responseTemplates": {}},
                },
            }
        )
    return {
        "httpMethod": verb,
        "authorizationType": "NONE",
        "apiKeyRequired": index % 2 == 0,
        "operationName": f"Operation{index}",
        "requestParameters": {"method.request.querystring.type": False},
        "requestModels": {},
        "methodResponses": {"200": {"statusCode": "200", "responseParameters": {}, "responseModels": {}}},
        "methodIntegration": integration,
    }


def resource_path(index: int) -> str:
    """Return the path of a resource: literals, parameters at several depths, one greedy catch-all."""
    if index == 0:
        return "/{proxy+}"
    shape = index % 4
    if shape == 0:
        return f"/v1/things{index}"
    if shape == 1:
        return f"/v1/things{index}/{{id}}"
    if shape == 2:
        return f"/v1/things{index}/{{id}}/items/{{itemId}}"
    return f"/v2/group{index % 7}/things{index}/{{id}}"


def stage_config(api: str, routes: int, revision: int = 1) -> dict[str, Any]:
    """Return a stage config with `routes` methods: GET and POST on routes/2 resources."""
    resources: list[dict[str, Any]] = [{"id": "root000000", "path": "/", "resourceMethods": {}}]
    for index in range((routes + 1) // 2):
        path = resource_path(index)
        verbs = ("GET", "POST") if 2 * index + 1 < routes else ("GET",)
        resources.append(
            {
                "id": f"r{index:09d}",
                "path": path,
                "resourceMethods": {verb: _method(api, 2 * index + n, verb, path) for n, verb in enumerate(verbs)},
            }
        )
    return {
        "apiId": api,
        "stageName": "prod",
        "revision": revision,
        "deploymentId": f"d{revision:09d}",
        "snapshot": {
            "formatVersion": 1,
            "restApi": {"id": api, "name": f"API {api}", "apiKeySource": "HEADER", "binaryMediaTypes": []},
            "resources": resources,
            "models": [],
            "requestValidators": [],
            "authorizers": [],
            "gatewayResponses": [
                {
                    "responseType": "MISSING_AUTHENTICATION_TOKEN",
                    "statusCode": "404",
                    "responseParameters": {},
                    "responseTemplates": {"application/json": '{"message":$context.error.messageString}'},
                }
            ],
        },
        "variables": {"backend": f"{api}.backend.internal"},
        "methodSettings": {"*/*": {"throttlingRateLimit": 100.0, "throttlingBurstLimit": 200}},
        "accessLogSettings": None,
        "canarySettings": None,
        "tracingEnabled": False,
    }


def api_name(index: int) -> str:
    return f"a{index:09d}"


class GeneratedSource:
    """A config source that builds stage configs when asked and keeps none (as the database source)."""

    def __init__(self, apis: int, routes: int):
        self.apis = apis
        self.routes = routes
        self.version_number = 1
        self.revisions = {stage_key(api_name(index), "prod"): 1 for index in range(apis)}
        # Time spent making configs up: the benchmark's own work, not the gateway's.
        self.generating_s = 0.0

    def bump(self, index: int) -> None:
        self.revisions[stage_key(api_name(index), "prod")] += 1
        self.version_number += 1

    async def version(self) -> int:
        return self.version_number

    async def load(self, known: dict[str, int]) -> ConfigDelta:
        started = time.process_time()
        changed = {}
        for index in range(self.apis):
            key = stage_key(api_name(index), "prod")
            if known.get(key) != self.revisions[key]:
                changed[key] = stage_config(api_name(index), self.routes, self.revisions[key])
        self.generating_s += time.process_time() - started
        return ConfigDelta(changed=changed, removed=[], domains=[], keyring={})


def rss_mb() -> float:
    gc.collect()
    return harness.rss_bytes([os.getpid()]) / 2**20


def time_gc() -> float:
    """Return the median time of a full garbage collection, in ms."""
    samples = []
    for _ in range(3):
        started = time.process_time()
        gc.collect()
        samples.append((time.process_time() - started) * 1000)
    return statistics.median(samples)


def match_paths(routes: int) -> list[tuple[str, str]]:
    """Return requests spread over a stage's routes: literal, one and two parameters, greedy, and a miss."""
    half = (routes + 1) // 2
    picks = sorted({1, 2, 3, 4, half // 3, half // 2, half - 1} - {0})
    out: list[tuple[str, str]] = []
    for index in picks:
        concrete = resource_path(index).replace("{id}", "42").replace("{itemId}", "7")
        out.append(("GET", concrete))
    out.append(("GET", "/no/such/route/at/all"))  # caught by the greedy resource
    out.append(("DELETE", "/v1/things4"))  # no such verb: a miss after backtracking
    return out


def time_per_call(function: Any, calls: list[tuple[Any, ...]], repeat: int = 7, number: int = 2000) -> float:
    """Return the median over `repeat` runs of the µs per call, cycling through `calls`."""
    samples = []
    for _ in range(repeat):
        started = time.process_time()
        for _ in range(number // len(calls) + 1):
            for arguments in calls:
                function(*arguments)
        elapsed = time.process_time() - started
        samples.append(elapsed / ((number // len(calls) + 1) * len(calls)) * 1e6)
    return statistics.median(samples)


def measure_matching(routes: int) -> float:
    stage = compile_stage(stage_config("matchapi01", routes))
    requests = match_paths(routes)
    for verb, path in requests[:-1]:
        assert stage.router.match(verb, path) is not None, (verb, path)
    return time_per_call(stage.router.match, requests)


async def measure_config(apis: int, routes: int) -> dict[str, Any]:
    settings = GatewaySettings()
    holder: dict[str, RuntimeConfig] = {"config": RuntimeConfig()}
    source = GeneratedSource(apis, routes)
    poller = ConfigPoller(
        source, settings, lambda config: holder.__setitem__("config", config), lambda: holder["config"]
    )
    baseline = rss_mb()
    started = time.process_time()
    await poller.refresh()
    load_s = time.process_time() - started - source.generating_s
    loaded = rss_mb()
    # A full collection walks every object of the config; gc.freeze() moves them out of its way.
    full_gc_ms = time_gc()
    gc.freeze()
    frozen_gc_ms = time_gc()
    gc.unfreeze()
    runtime = holder["config"]
    assert len(runtime.stages) == apis
    reloads = []
    for index in range(7):
        source.bump(index * (apis // 7))
        started = time.process_time()
        assert await poller.refresh()
        reloads.append((time.process_time() - started) * 1000)
    runtime = holder["config"]
    public_host = settings.public_host
    lookups = []
    for index in (0, apis // 2, apis - 1):
        api = api_name(index)
        for verb, path in match_paths(routes)[:3]:
            lookups.append((api, verb, f"/prod{path}"))

    def resolve_and_match(api: str, verb: str, path: str) -> Any:
        found = resolve(runtime, f"{api}.{public_host}", path, public_host)
        assert found is not None
        stage, route_path = found
        return stage.router.match(verb, route_path)

    return {
        "apis": apis,
        "routes_per_api": routes,
        "baseline_rss_mb": round(baseline, 1),
        "rss_mb": round(loaded, 1),
        "rss_added_mb": round(loaded - baseline, 1),
        "initial_load_s": round(load_s, 2),
        "full_gc_ms": round(full_gc_ms, 1),
        "full_gc_after_freeze_ms": round(frozen_gc_ms, 1),
        "reload_one_stage_ms": harness.spread(reloads, 2),
        "resolve_and_match_us": round(time_per_call(resolve_and_match, lookups), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apis", type=int, default=1000)
    parser.add_argument("--routes", type=int, default=50, help="methods per API")
    args = parser.parse_args()
    load_before = harness.load_average()
    # Memory first, in a process that has done nothing else yet.
    scale = asyncio.run(measure_config(args.apis, args.routes))
    matching = {str(routes): round(measure_matching(routes), 2) for routes in (10, 10_000)}
    load = {"before": load_before, "after": harness.load_average()}
    reload_ms = scale["reload_one_stage_ms"]["median"]
    checks = [
        ("route match at 10,000 routes <= 20 µs", f"{matching['10000']} µs", matching["10000"] <= TARGET_MATCH_US),
        ("reload of one changed stage <= 200 ms", f"{reload_ms} ms", reload_ms <= TARGET_RELOAD_MS),
        (
            f"resident memory for {args.apis} APIs x {args.routes} routes <= 400 MB",
            f"{scale['rss_mb']} MB",
            scale["rss_mb"] <= TARGET_RSS_MB,
        ),
    ]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "benchmark": "config_scale",
        "time": stamp,
        "command": " ".join([".venv/bin/python", "bench/config_scale.py", *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load_average": load,
        "scale": scale,
        "route_match_us": matching,
        "checks": [{"target": name, "measured": value, "met": met} for name, value, met in checks],
    }
    lines = [
        f"# bench/config_scale.py — {stamp}",
        "",
        f"Load average {load['before']} before, {load['after']} after.",
        "",
        "| figure | value |",
        "|---|--:|",
        f"| process RSS, gateway_runtime imported, nothing loaded | {scale['baseline_rss_mb']} MB |",
        f"| process RSS with {args.apis} APIs x {args.routes} routes | {scale['rss_mb']} MB "
        f"(+{scale['rss_added_mb']} MB) |",
        f"| first load of all of them (compile and install) | {scale['initial_load_s']} s |",
        f"| one full garbage collection with them loaded | {scale['full_gc_ms']} ms "
        f"({scale['full_gc_after_freeze_ms']} ms after gc.freeze()) |",
        f"| reload of one changed stage (median, min-max of 7) | {reload_ms} ms "
        f"({scale['reload_one_stage_ms']['min']}-{scale['reload_one_stage_ms']['max']}) |",
        f"| route match, stage of 10 routes | {matching['10']} µs |",
        f"| route match, stage of 10,000 routes | {matching['10000']} µs |",
        f"| resolve (Host header) + match among {args.apis} APIs | {scale['resolve_and_match_us']} µs |",
        "",
        "| issue target | measured | verdict |",
        "|---|--:|---|",
        *[f"| {name} | {value} | {'met' if met else 'missed'} |" for name, value, met in checks],
        "",
    ]
    report = "\n".join(lines)
    harness.RESULTS.mkdir(parents=True, exist_ok=True)
    base = harness.RESULTS / f"config_scale-{stamp}"
    base.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n")
    base.with_suffix(".md").write_text(report)
    print(report)
    print(f"wrote {base.relative_to(harness.ROOT)}.md and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
