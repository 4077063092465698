#!/usr/bin/env python
"""Where a gateway worker's CPU goes under load: py-spy samples one worker while wrk drives it.

    .venv/bin/pip install py-spy                                   # once; a profiler, not a dependency
    .venv/bin/python bench/profile_gateway.py --variant d          # 1 worker, 32 connections, 10 s
    .venv/bin/python bench/profile_gateway.py --variant a --top 40

Starts the same nginx backend, private redis-server and gateway variant as compare.py (one uvicorn
worker), runs wrk against it while `py-spy record` samples the worker, and prints the functions with the
most samples: self (on top of the stack) and total (anywhere on it), in percent of all samples. Traffic
stays on 127.0.0.1; the run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import collections
import secrets
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare
import harness


def _frames(stack: str) -> list[str]:
    # py-spy's raw format: "thread;frame;frame;... count", a frame being "function (file:line)".
    return [frame.rsplit(":", 1)[0] + ")" if ":" in frame else frame for frame in stack.split(";")[1:]]


def summarise(raw: Path, top: int) -> str:
    own: collections.Counter[str] = collections.Counter()
    anywhere: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = _frames(stack)
        if not frames:
            continue
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            anywhere[frame] += samples
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "self %  function"]
    lines += [f"{100 * n / total:6.1f}  {name}" for name, n in own.most_common(top)]
    lines += ["", "total %  function"]
    lines += [f"{100 * n / total:6.1f}  {name}" for name, n in anywhere.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="d", choices=sorted(compare.VARIANTS))
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        sys.exit("py-spy is not installed: .venv/bin/pip install py-spy")
    variant = compare.VARIANTS[args.variant]
    harness.ensure_tools(["nginx", "wrk", "redis-server"])
    run_dir = harness.make_run_dir("profile")
    backend_port = harness.free_port()
    backend = harness.nginx_service(
        "backend", harness.nginx_config("backend.conf", run_dir, port=backend_port), run_dir
    )
    redis_port = harness.free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    binary = harness.which("redis-server")
    assert binary is not None
    redis = harness.Service(
        "redis",
        [binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        log=run_dir / "redis.log",
    )
    target = compare.gateway_target(
        variant, 1, "uvicorn", ("", 0, harness.ROOT), run_dir, backend_port, redis_url, secrets.token_urlsafe(32)
    )
    assert target.service is not None
    services = [backend, redis, target.service]
    try:
        for service in services:
            service.start()
        harness.wait_until_up(target.url, target.headers, service=target.service)
        problem = compare.verify_gateway(target, redis_url)
        if problem:
            sys.exit(f"the gateway does not do what variant {variant.key} says: {problem}")
        harness.run_wrk(target.url, headers=target.headers, connections=args.connections, threads=1, duration=2)
        # uvicorn --workers 1 runs the app in its own process: the newest of the tree is the worker.
        workers = target.service.refresh_pids()
        raw = run_dir / "profile.txt"
        command = [str(py_spy), "record", "--pid", str(workers[-1]), "--rate", str(args.rate)]
        command += ["--duration", str(args.duration), "--nonblocking", "--format", "raw", "--output", str(raw)]
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        result: dict = {}
        driver = threading.Thread(
            target=lambda: result.update(
                harness.run_wrk(
                    target.url,
                    headers=target.headers,
                    connections=args.connections,
                    threads=1,
                    duration=args.duration,
                )
            )
        )
        driver.start()
        driver.join()
        _, errors = spy.communicate(timeout=args.duration + 30)
        if spy.returncode:
            sys.exit(f"py-spy failed: {errors.decode(errors='replace')}")
        print(f"{target.label}: {result.get('rps', 0):,.0f} requests/s under py-spy ({args.rate} Hz)")
        print(summarise(raw, args.top))
        print(f"raw samples: {raw}")
    finally:
        for service in reversed(services):
            service.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
