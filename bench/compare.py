"""Side by side, in one run: the backend direct, nginx, Caddy and Portico's gateway, interleaved A B C A B C.

    .venv/bin/python bench/compare.py                       # 32 connections, 10 s per run, 3 rounds
    .venv/bin/python bench/compare.py --duration 5 --rounds 3 --variants a,d --workers 2
    .venv/bin/python bench/compare.py --servers uvicorn,granian
    .venv/bin/python bench/compare.py --variants a,d --tree candidate=../other-checkout   # A/B two trees

Everything listens on 127.0.0.1. One fixed backend (nginx returning a 54-byte JSON body, keep-alive) sits
behind every target:

- direct: wrk against the backend itself;
- nginx: proxy_pass with upstream keep-alive (bench/nginx/proxy.conf, worker_processes = --proxy-workers);
- caddy: reverse_proxy (bench/caddy/Caddyfile);
- Portico's gateway, one process tree per variant and worker count, started the way production starts it
  (`uvicorn gateway_runtime.asgi:application --workers N --loop uvloop --http httptools --no-access-log`)
  over a JSON config file (PORTICO_GATEWAY_CONFIG_FILE), one HTTP_PROXY route to the backend:
  (a) open method; (b) + API key; (c) + key + throttle + quota counted in Redis; (d) + metering on.

Each variant is a stage config and an environment (VARIANTS below). Before measuring, each gateway is
checked to really do what its variant says (403 without the key, counters in Redis, events in the
stream); a variant whose feature is not in this tree is left out and the report says so.

Reports, per target: requests/s, p50 and p99 latency, CPU µs per request of the target's own process tree
(from /proc: stays meaningful on a shared machine, where requests/s does not) and of the backend,
as medians with min-max over the rounds; for the gateway, the per-round ratios to direct, nginx and Caddy.
Writes bench/results/compare-<time>.md and .json. The run takes about
`targets x (2 + rounds x duration)` seconds plus startup; every wrk run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness

from gateway_runtime.keyring import api_key_digest

STAGE = "prod"
API_KEY = "bench-key-0123456789abcdefghijklmnopqrstuvwxyz"
ROUTE = "/items/{id}"
# High enough never to refuse during a run, so every request takes from each bucket and the quota.
GENEROUS_RATE = 1_000_000.0
GENEROUS_QUOTA = 1_000_000_000


@dataclass(frozen=True)
class Variant:
    """A gateway configuration to measure: what the stage config turns on, and the environment it needs."""

    key: str
    label: str
    api_key: bool = False
    limits: bool = False
    metering: bool = False


VARIANTS = {
    "a": Variant("a", "(a) open method"),
    "b": Variant("b", "(b) + API key", api_key=True),
    "c": Variant("c", "(c) + key + throttle + quota (Redis)", api_key=True, limits=True),
    "d": Variant("d", "(d) + metering", api_key=True, limits=True, metering=True),
}


def api_id(variant: Variant, workers: int, server: str, tree: int = 0) -> str:
    """Return a 10-character API id per gateway, so counters and events never mix between them."""
    return f"bench{variant.key}{workers}{server[0]}{tree}x"[:10]


def stage_config(variant: Variant, identifier: str, backend_port: int) -> dict[str, Any]:
    """Return the stage config (docs/runtime-config.md) of a variant: one HTTP_PROXY method to the backend."""
    method: dict[str, Any] = {
        "httpMethod": "GET",
        "authorizationType": "NONE",
        "apiKeyRequired": variant.api_key,
        "methodIntegration": {
            "type": "HTTP_PROXY",
            "httpMethod": "GET",
            "uri": f"http://127.0.0.1:{backend_port}/items/{{id}}",
            "timeoutInMillis": 29000,
        },
    }
    stage: dict[str, Any] = {
        "apiId": identifier,
        "stageName": STAGE,
        "revision": 1,
        "deploymentId": "benchdeploy",
        "snapshot": {
            "formatVersion": 1,
            "restApi": {"id": identifier, "name": f"bench {variant.key}", "apiKeySource": "HEADER"},
            "resources": [
                {"id": "root000000", "path": "/", "resourceMethods": {}},
                {"id": "items00000", "parentId": "root000000", "pathPart": "items", "path": "/items"},
                {
                    "id": "item000000",
                    "parentId": "items00000",
                    "pathPart": "{id}",
                    "path": ROUTE,
                    "resourceMethods": {"GET": method},
                },
            ],
            "gatewayResponses": [],
        },
        "variables": {},
        "methodSettings": {},
    }
    if variant.limits:
        stage["methodSettings"] = {
            "*/*": {"throttlingRateLimit": GENEROUS_RATE, "throttlingBurstLimit": int(GENEROUS_RATE)}
        }
    return stage


def keyring(variant: Variant, identifier: str, pepper: str) -> dict[str, Any]:
    """Return the published keyring: one enabled key in one plan covering the stage (with limits for c, d)."""
    if not variant.api_key:
        return {}
    plan: dict[str, Any] = {"stages": {f"{identifier}/{STAGE}": {}}}
    if variant.limits:
        plan["throttle"] = {"rateLimit": GENEROUS_RATE, "burstLimit": int(GENEROUS_RATE)}
        plan["quota"] = {"limit": GENEROUS_QUOTA, "period": "DAY", "offset": 0}
    digest = api_key_digest(API_KEY.encode(), pepper.encode())
    return {
        "plans": {"benchplan": plan},
        "keys": {digest: {"id": "benchkey00", "enabled": True, "plans": ["benchplan"]}},
    }


def environment(
    variant: Variant, identifier: str, config_file: Path, run_dir: Path, redis_url: str, root: Path = harness.ROOT
) -> dict[str, str]:
    """Return the gateway's environment: settings come from config/settings.py, as in production."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PORTICO_GATEWAY_CONFIG_FILE": str(config_file),
        "PORTICO_VAR_DIR": str(run_dir / f"var-{identifier}"),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(root),
        # Counters: in Redis for (c) and (d); (a) and (b) limit nothing, so no account-level throttle either.
        "REDIS_URL": redis_url if variant.limits else "",
        "GATEWAY_COUNTER_PREFIX": f"bench:{identifier}:",
        "GATEWAY_ACCOUNT_RATE_LIMIT": str(GENEROUS_RATE) if variant.limits else "off",
        "GATEWAY_ACCOUNT_BURST_LIMIT": str(int(GENEROUS_RATE)),
        "USAGE_METERING": "1" if variant.metering else "0",
        "USAGE_STREAM": f"bench:{identifier}:events",
    }
    for name in ("CELERY_BROKER_URL", "DATABASE_URL"):
        env.pop(name, None)
    return env


# -- targets -----------------------------------------------------------------------------------------------


@dataclass
class Target:
    """Something wrk measures: a URL, the headers to send, and the service whose CPU counts."""

    name: str
    label: str
    url: str
    service: harness.Service | None
    headers: dict[str, str] = field(default_factory=dict)
    variant: Variant | None = None
    workers: int = 0
    server: str = ""
    api_id: str = ""
    skipped: str = ""
    runs: list[dict[str, Any]] = field(default_factory=list)


def gateway_command(server: str, port: int, workers: int) -> list[str]:
    bin_dir = Path(sys.executable).parent
    if server == "granian":
        return [
            str(bin_dir / "granian"),
            *("--interface", "asgi", "--host", "127.0.0.1", "--port", str(port)),
            *("--workers", str(workers), "--loop", "uvloop", "--http", "1", "--no-ws"),
            *("--log-level", "warning", "gateway_runtime.asgi:application"),
        ]
    return [
        str(bin_dir / "uvicorn"),
        "gateway_runtime.asgi:application",
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--loop", "uvloop", "--http", "httptools", "--no-access-log", "--no-server-header", "--log-level", "warning"),
    ]


def gateway_target(
    variant: Variant,
    workers: int,
    server: str,
    tree: tuple[str, int, Path],
    run_dir: Path,
    backend_port: int,
    redis_url: str,
    pepper: str,
) -> Target:
    """Write a variant's config file and return its gateway as a target (not started yet)."""
    tree_name, tree_index, root = tree
    identifier = api_id(variant, workers, server, tree_index)
    config_file = run_dir / f"gateway-{identifier}.json"
    document = {
        "version": 1,
        "stages": [stage_config(variant, identifier, backend_port)],
        "domains": [],
        "keyring": keyring(variant, identifier, pepper),
    }
    config_file.write_text(json.dumps(document))
    env = environment(variant, identifier, config_file, run_dir, redis_url, root)
    env["SECRET_KEY"] = env["API_KEY_PEPPER"] = pepper
    port = harness.free_port()
    suffix = f"-{tree_name}" if tree_name else ""
    service = harness.Service(
        f"gateway-{variant.key}-{workers}w-{server}{suffix}",
        gateway_command(server, port, workers),
        env=env,
        cwd=root,
        log=run_dir / f"gateway-{identifier}.log",
    )
    headers = {"Host": f"{identifier}.execute-api.localhost:{port}"}
    if variant.api_key:
        headers["x-api-key"] = API_KEY
    plural = "s" if workers > 1 else ""
    return Target(
        service.name,
        f"gateway {variant.label}, {workers} worker{plural} ({server}{', ' + tree_name if tree_name else ''})",
        f"http://127.0.0.1:{port}/{STAGE}/items/1",
        service,
        headers=headers,
        variant=variant,
        workers=workers,
        server=server,
        api_id=identifier,
    )


def verify_gateway(target: Target, redis_url: str) -> str:
    """Return why a gateway does not do what its variant says ("" when it does)."""
    variant = target.variant
    assert variant is not None
    status, body = harness.http_get(target.url, target.headers)
    if status != 200 or body != harness.BACKEND_BODY:
        return f"answered {status} {body[:120]!r} instead of the backend's body"
    if variant.api_key:
        without = {name: value for name, value in target.headers.items() if name.lower() != "x-api-key"}
        status, body = harness.http_get(target.url, without)
        if status != 403:
            return f"answered {status} without an API key: API keys are not enforced in this tree"
    if variant.limits or variant.metering:
        client = redis.Redis.from_url(redis_url)
        try:
            for _ in range(20):
                harness.http_get(target.url, target.headers)
            deadline = time.monotonic() + 3
            counters = events = 0
            while time.monotonic() < deadline:
                counters = sum(1 for _ in client.scan_iter(match=f"bench:{target.api_id}:*", count=1000))
                events = client.xlen(f"bench:{target.api_id}:events")
                if (not variant.limits or counters) and (not variant.metering or events):
                    break
                time.sleep(0.1)
        finally:
            client.close()
        if variant.limits and not counters:
            return "no throttle or quota counters appeared in Redis: Redis counters are not in this tree"
        if variant.metering and not events:
            return "no usage events reached the Redis stream: metering is not in this tree"
    return ""


def measure(target: Target, backend: harness.Service, args: argparse.Namespace, duration: float) -> dict[str, Any]:
    services = [service for service in (target.service, backend) if service is not None]
    before = {id(service): service.cpu() for service in services}
    result = harness.run_wrk(
        target.url, headers=target.headers, connections=args.connections, threads=args.threads, duration=duration
    )
    after = {id(service): service.cpu() for service in services}
    requests = max(result["requests"], 1)
    if target.service is not None:
        result["cpu_us_per_request"] = round(
            (after[id(target.service)] - before[id(target.service)]) / requests * 1e6, 1
        )
    result["backend_cpu_us_per_request"] = round((after[id(backend)] - before[id(backend)]) / requests * 1e6, 1)
    result["load_1m"] = harness.load_average()[0]
    return result


# -- report ------------------------------------------------------------------------------------------------


def summarise(target: Target) -> dict[str, Any]:
    runs = target.runs
    summary: dict[str, Any] = {
        "rps": harness.spread([run["rps"] for run in runs]),
        "p50_ms": harness.spread([run["p50_ms"] for run in runs], 2),
        "p99_ms": harness.spread([run["p99_ms"] for run in runs], 2),
        "backend_cpu_us_per_request": harness.spread([run["backend_cpu_us_per_request"] for run in runs]),
        "non_2xx": sum(run["non_2xx"] for run in runs),
        "socket_errors": [run["socket_errors"] for run in runs if run["socket_errors"]],
    }
    if all("cpu_us_per_request" in run for run in runs):
        summary["cpu_us_per_request"] = harness.spread([run["cpu_us_per_request"] for run in runs])
    return summary


def ratios(target: Target, references: dict[str, Target]) -> dict[str, Any]:
    """Per-round ratios (same round, so drift hits both sides alike), as median with min-max."""
    out: dict[str, Any] = {}
    for name, reference in references.items():
        pairs = list(zip(target.runs, reference.runs, strict=False))
        if not pairs:
            continue
        out[f"rps_over_{name}"] = harness.spread([mine["rps"] / theirs["rps"] for mine, theirs in pairs], 3)
        out[f"p99_over_{name}"] = harness.spread([mine["p99_ms"] / theirs["p99_ms"] for mine, theirs in pairs], 3)
    return out


def _cell(spread: dict[str, float] | None, digits: int = 0) -> str:
    if not spread:
        return "-"
    fmt = f"{{:,.{digits}f}}"
    return f"{fmt.format(spread['median'])} ({fmt.format(spread['min'])}-{fmt.format(spread['max'])})"


def check_targets(summary: dict[str, Any], server: str, tree: str) -> list[dict[str, Any]]:
    """Return the issue's targets, each with the figure measured (median of per-round ratios) and a verdict."""
    checks: list[dict[str, Any]] = []
    suffix = f"{server}-{tree}" if tree else server
    where = f" ({server}{', ' + tree if tree else ''})"

    def add(name: str, gateway: str, key: str, goal: float, floor: float | None, lower_is_better: bool) -> None:
        found = summary["targets"].get(f"gateway-{gateway}-{suffix}")
        if not found or key not in found.get("ratios", {}):
            checks.append({"target": name + where, "measured": None, "verdict": "not measured"})
            return
        value = found["ratios"][key]["median"]
        met = value <= goal if lower_is_better else value >= goal
        verdict = "met" if met else "missed"
        if not met and floor is not None and value >= floor:
            verdict = f"missed goal, above the {floor}x floor"
        checks.append({"target": name + where, "measured": value, "goal": goal, "verdict": verdict})

    add("(d) 2 workers rps ≥ 1.0x Caddy (floor 0.6x)", "d-2w", "rps_over_caddy", 1.0, 0.6, False)
    add("(d) 2 workers p99 ≤ 2x Caddy's p99", "d-2w", "p99_over_caddy", 2.0, None, True)
    add("(a) 2 workers rps ≥ 0.8x Caddy", "a-2w", "rps_over_caddy", 0.8, None, False)
    add("(a) 1 worker rps ≥ 0.8x Caddy", "a-1w", "rps_over_caddy", 0.8, None, False)
    return checks


def markdown(document: dict[str, Any]) -> str:
    summary = document["summary"]
    load = document["load_average"]
    settings = document["settings"]
    lines = [
        f"# bench/compare.py — {document['time']}",
        "",
        f"{document['machine']['cpus']} CPUs, Python {document['machine']['python']}, "
        f"load average {load['before']} before, {load['after']} after (1/5/15 min); "
        f"wrk {settings['connections']} connections, {settings['threads']} thread(s), "
        f"{settings['duration']} s per run, {settings['rounds']} rounds interleaved. "
        "Medians with (min-max) over the rounds; CPU is each target's own process tree (from /proc).",
        "",
        "| target | requests/s | p50 ms | p99 ms | CPU µs/request | backend CPU µs/request | "
        "x direct | x nginx | x Caddy | p99 x Caddy |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for item in summary["targets"].values():
        r = item.get("ratios", {})
        lines.append(
            f"| {item['label']} | {_cell(item['rps'])} | {_cell(item['p50_ms'], 2)} | {_cell(item['p99_ms'], 2)} | "
            f"{_cell(item.get('cpu_us_per_request'))} | {_cell(item['backend_cpu_us_per_request'])} | "
            f"{_cell(r.get('rps_over_direct'), 2)} | {_cell(r.get('rps_over_nginx'), 2)} | "
            f"{_cell(r.get('rps_over_caddy'), 2)} | {_cell(r.get('p99_over_caddy'), 2)} |"
        )
    if summary["skipped"]:
        lines += ["", "Left out (the feature is not in this tree yet, or the target did not start):", ""]
        lines += [f"- {label}: {reason}" for label, reason in summary["skipped"].items()]
    failed = [name for name, item in summary["targets"].items() if item["non_2xx"] or item["socket_errors"]]
    if failed:
        lines += ["", f"Errors during the runs (non-2xx or socket errors): {', '.join(failed)}"]
    lines += ["", "| issue target | measured | verdict |", "|---|--:|---|"]
    for check in summary["checks"]:
        measured = "-" if check["measured"] is None else f"{check['measured']:.2f}x"
        lines.append(f"| {check['target']} | {measured} | {check['verdict']} |")
    lines += ["", f"Command: `{document['command']}`", ""]
    return "\n".join(lines)


# -- the run -----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk per target before the rounds")
    parser.add_argument("--variants", default="a,b,c,d", help="gateway variants, from a,b,c,d")
    parser.add_argument("--workers", default="1,2", help="gateway worker counts")
    parser.add_argument("--servers", default="uvicorn", help="uvicorn and/or granian (granian: pip install it)")
    parser.add_argument("--proxy-workers", type=int, default=2, help="nginx proxy worker_processes")
    parser.add_argument("--no-references", action="store_true", help="measure the gateway and direct only")
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="also run the gateway variants from another checkout (A/B a change in the same run)",
    )
    args = parser.parse_args()
    variants = [VARIANTS[key.strip()] for key in args.variants.split(",") if key.strip()]
    worker_counts = [int(count) for count in args.workers.split(",") if count.strip()]
    servers = [server.strip() for server in args.servers.split(",") if server.strip()]
    if "granian" in servers and not (Path(sys.executable).parent / "granian").exists():
        sys.exit("granian is not installed in this environment (pip install granian)")
    tools = ["nginx", "wrk"] + ([] if args.no_references else ["caddy"])
    if any(variant.limits or variant.metering for variant in variants):
        tools.append("redis-server")
    harness.ensure_tools(tools)

    run_dir = harness.make_run_dir("compare")
    load_before = harness.load_average()
    backend_port = harness.free_port()
    backend = harness.nginx_service(
        "backend", harness.nginx_config("backend.conf", run_dir, port=backend_port), run_dir
    )
    services: list[harness.Service] = [backend]
    targets: list[Target] = [
        Target("direct", "backend direct (nginx)", f"http://127.0.0.1:{backend_port}/items/1", None)
    ]
    redis_url = ""
    if not args.no_references:
        port = harness.free_port()
        config = harness.nginx_config(
            "proxy.conf", run_dir, port=port, backend_port=backend_port, workers=args.proxy_workers
        )
        proxy = harness.nginx_service("nginx", config, run_dir)
        services.append(proxy)
        targets.append(
            Target(
                "nginx", f"nginx proxy_pass ({args.proxy_workers} workers)", f"http://127.0.0.1:{port}/items/1", proxy
            )
        )
        port = harness.free_port()
        caddyfile = run_dir / "Caddyfile"
        text = (harness.ROOT / "bench" / "caddy" / "Caddyfile").read_text()
        caddyfile.write_text(text.replace("{port}", str(port)).replace("{backend_port}", str(backend_port)))
        caddy_env = {**os.environ, "HOME": str(run_dir), "XDG_DATA_HOME": str(run_dir), "XDG_CONFIG_HOME": str(run_dir)}
        binary = harness.which("caddy")
        assert binary is not None
        caddy = harness.Service(
            "caddy",
            [binary, "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
            env=caddy_env,
            log=run_dir / "caddy.log",
        )
        services.append(caddy)
        targets.append(Target("caddy", "Caddy reverse_proxy", f"http://127.0.0.1:{port}/items/1", caddy))
    if "redis-server" in tools:
        port = harness.free_port()
        binary = harness.which("redis-server")
        assert binary is not None
        redis_url = f"redis://127.0.0.1:{port}/0"
        services.append(
            harness.Service(
                "redis",
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                log=run_dir / "redis.log",
            )
        )
    pepper = secrets.token_urlsafe(32)
    trees = [("", harness.ROOT)] + [
        (name, Path(path).resolve()) for name, _, path in (entry.partition("=") for entry in args.tree)
    ]
    for tree_index, (tree, root) in enumerate(trees):
        for server in servers:
            for variant in variants:
                for workers in worker_counts:
                    target = gateway_target(
                        variant, workers, server, (tree, tree_index, root), run_dir, backend_port, redis_url, pepper
                    )
                    assert target.service is not None
                    services.append(target.service)
                    targets.append(target)

    skipped: dict[str, str] = {}
    try:
        for service in services:
            service.start()
        for target in targets:
            try:
                harness.wait_until_up(target.url, target.headers, service=target.service or backend)
                if target.variant is not None:
                    target.skipped = verify_gateway(target, redis_url)
            except RuntimeError as exc:
                target.skipped = str(exc)
            if target.skipped:
                skipped[target.label] = target.skipped
                print(f"leaving out {target.label}: {target.skipped}", flush=True)
                if target.service is not None:
                    target.service.stop()
        targets = [target for target in targets if not target.skipped]
        for service in services:
            if service.alive():
                service.refresh_pids()
        for target in targets:
            measure(target, backend, args, args.warmup)  # warm-up: pools, caches, Redis scripts loaded
        for round_number in range(1, args.rounds + 1):
            for target in targets:
                result = measure(target, backend, args, args.duration)
                target.runs.append(result)
                print(
                    f"round {round_number} {target.name:24s} {result['rps']:9.1f} rps  p50 {result['p50_ms']:7.2f} ms  "
                    f"p99 {result['p99_ms']:7.2f} ms  CPU {result.get('cpu_us_per_request', '-')} µs/req  "
                    f"non-2xx {result['non_2xx']}  load {result['load_1m']}",
                    flush=True,
                )
        rss = {target.name: harness.rss_bytes(target.service.pids) for target in targets if target.service}
    finally:
        for service in reversed(services):
            service.stop()

    references = {target.name: target for target in targets if target.name in ("direct", "nginx", "caddy")}
    summary: dict[str, Any] = {"targets": {}, "skipped": skipped}
    for target in targets:
        item = {"label": target.label, **summarise(target), "rss_mb": round(rss.get(target.name, 0) / 2**20, 1)}
        if target.variant is not None:
            item["ratios"] = ratios(target, references)
        summary["targets"][target.name] = item
    summary["checks"] = [
        check
        for tree, _ in trees
        for server in servers
        for check in check_targets(summary, server, tree)
        if check["measured"] is not None
    ]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "benchmark": "compare",
        "time": stamp,
        "command": " ".join([".venv/bin/python", "bench/compare.py", *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load_average": {"before": load_before, "after": harness.load_average()},
        "settings": vars(args),
        "runs": {target.name: target.runs for target in targets},
        "summary": summary,
    }
    harness.RESULTS.mkdir(parents=True, exist_ok=True)
    base = harness.RESULTS / f"compare-{stamp}"
    base.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n")
    report = markdown(document)
    base.with_suffix(".md").write_text(report)
    print(report)
    print(f"wrote {base.relative_to(harness.ROOT)}.md and .json")
    shutil.rmtree(run_dir, ignore_errors=True)
    errors = any(item["non_2xx"] or item["socket_errors"] for item in summary["targets"].values())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
