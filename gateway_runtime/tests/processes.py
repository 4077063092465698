"""Gateway processes for tests: `uvicorn gateway_runtime.asgi:application` in subprocesses, and load on them.

Each process reads its settings from the environment, as in production; the runtime config comes either
from a JSON file (`ConfigFile`, FileConfigSource) or from the control plane's database.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from gateway_runtime.tests.redis_support import free_port

ROOT = Path(__file__).resolve().parents[2]


class ConfigFile:
    """A runtime config file the gateways poll; every publish raises its version."""

    def __init__(self, path: Path):
        self.path = path
        self.version = 0

    def publish(self, stages: Sequence[dict], keyring: dict | None = None) -> int:
        """Replace the config atomically and return its new version (every stage gets it as its revision)."""
        self.version += 1
        stages = [{**stage, "revision": self.version} for stage in stages]
        document = {"version": self.version, "stages": stages, "domains": [], "keyring": keyring or {}}
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(document))
        os.replace(temporary, self.path)
        return self.version


class GatewayProcess:
    """One gateway process on a free loopback port; its log goes to a file the test can read."""

    def __init__(self, env: Mapping[str, str], log_path: Path):
        self.port = free_port()
        self.log_path = log_path
        # A var dir of its own, as a gateway on another host has (metering keeps its spool there).
        env = {**env, "PORTICO_VAR_DIR": str(log_path.with_name(f"{log_path.stem}-var"))}
        self._log = log_path.open("wb")
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "gateway_runtime.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ping(self) -> dict[str, Any] | None:
        """Return the /ping document, or None while the process does not answer."""
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    def wait_for(self, version: int, seconds: float = 60) -> None:
        """Wait until the process serves config `version` (or a later one)."""
        deadline = time.monotonic() + seconds
        while True:
            health = self.ping()
            if health is not None and health["configVersion"] >= version:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gateway did not reach config version {version}:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._log.close()


def gateway_env(
    *,
    redis_url: str = "",
    prefix: str = "",
    pepper: str,
    config_file: Path | None = None,
    **extra: str,
) -> dict[str, str]:
    """Return the environment of a gateway process in a test (fast config polling)."""
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "API_KEY_PEPPER": pepper,
        "REDIS_URL": redis_url,
        "GATEWAY_COUNTER_PREFIX": prefix or "portico:",
        "GATEWAY_CONFIG_POLL_SECONDS": "0.2",
        "LOG_LEVEL": "INFO",
        **extra,
    }
    if config_file is not None:
        env["PORTICO_GATEWAY_CONFIG_FILE"] = str(config_file)
    return env


@dataclass
class Result:
    """One request of a load run, as the client saw it."""

    sent: float  # time.monotonic() when it was sent
    gateway: int
    status: int
    latency: float
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # by lower-case name
    control: bool = False  # a request of the control stream (see paced_load)

    def json(self) -> Any:
        return json.loads(self.body)


async def _one(session: aiohttp.ClientSession, index: int, url: str, headers: Mapping[str, str]) -> Result:
    sent = time.monotonic()
    try:
        async with session.get(url, headers=headers) as response:
            body = await response.read()
            headers = {name.lower(): value for name, value in response.headers.items()}
            return Result(sent, index, response.status, time.monotonic() - sent, body, headers)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Result(sent, index, 0, time.monotonic() - sent, repr(exc).encode())


def _session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, force_close=False),
        timeout=aiohttp.ClientTimeout(total=10),
    )


async def concurrent_load(urls: Sequence[str], headers: Mapping[str, str], *, total: int, clients: int) -> list[Result]:
    """Send `total` requests from `clients` concurrent clients, spreading them over `urls` in turn."""
    results: list[Result] = []
    counter = iter(range(total))

    async def client(session: aiohttp.ClientSession) -> None:
        for number in counter:
            index = number % len(urls)
            results.append(await _one(session, index, urls[index], headers))

    async with _session(clients) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return results


async def simultaneous_load(urls: Sequence[str], headers: Mapping[str, str], *, total: int) -> list[Result]:
    """Start `total` requests at the same moment, each on a connection of its own."""
    async with _session(total) as session:
        go = asyncio.Event()

        async def client(number: int) -> Result:
            index = number % len(urls)
            await go.wait()
            return await _one(session, index, urls[index], headers)

        tasks = [asyncio.create_task(client(number)) for number in range(total)]
        await asyncio.sleep(0)
        go.set()
        return list(await asyncio.gather(*tasks))


async def paced_load(
    urls: Sequence[str],
    headers: Mapping[str, str],
    *,
    rps: float,
    seconds: float,
    events: Mapping[float, Any] | None = None,
    control: tuple[Sequence[str], Mapping[str, str]] | None = None,
) -> list[Result]:
    """Offer `rps` requests a second for `seconds`, on schedule whatever the answers take.

    `events` maps a time (seconds into the run) to a callable run in a thread then (stop Redis, …).
    `control` (urls, headers) sends, with every request, one more to the same gateway at the same moment:
    requests that share every delay of the machine and the process, so the difference is what the
    request itself cost.
    """
    started = time.monotonic()
    pending = sorted((events or {}).items())
    tasks: list[asyncio.Task[Result]] = []
    side: list[asyncio.Future[Any]] = []

    async def paired(session: aiohttp.ClientSession, index: int, url: str, headers: Mapping[str, str]) -> Result:
        result = await _one(session, index, url, headers)
        result.control = True
        return result

    async with _session(500) as session:
        for number in range(int(rps * seconds)):
            due = started + number / rps
            while pending and pending[0][0] <= due - started:
                side.append(asyncio.ensure_future(asyncio.to_thread(pending.pop(0)[1])))
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            index = number % len(urls)
            tasks.append(asyncio.create_task(_one(session, index, urls[index], headers)))
            if control is not None:
                tasks.append(asyncio.create_task(paired(session, index, control[0][index], control[1])))
        results = list(await asyncio.gather(*tasks))
        await asyncio.gather(*side)
    return results
