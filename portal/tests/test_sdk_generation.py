"""The real generators: each SDK is built by the Celery task from a published stage and then used.

- Python: installed in a fresh virtualenv and called against a live in-thread gateway over the database
  config source, under a 1 request/s plan: the calls all end in 200, after a 429 the client retried;
- TypeScript: compiled with `tsc --strict`, then run on Node against the same gateway, with the same result;
- Java, Ruby, Go: the archives are made with the retry layer wired in; Java's RetryInterceptor is compiled
  and exercised against stand-ins of OkHttp's three types (there is no Maven repository here).

Marked `load`: they start JVMs, Node and pip. Under CI=true a missing tool fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings

from apis.services import keys as key_services
from gateway_runtime.tests.servers import ServerThread
from portal import services, tasks
from portal.models import SdkBuild, SdkBuildStatus
from portal.sdks import generator_cli, typescript
from portal.tests.conftest import eventually
from portal.tests.factories import publish
from testing_support import installed, missing

pytestmark = [pytest.mark.load, pytest.mark.xdist_group("sdk-builds"), pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def sdk_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR / "sdks"


def build(stage: Any, sdk_type: str, monkeypatch: pytest.MonkeyPatch, target: Path) -> Path:
    """Request a build and run the Celery task for it (eagerly); return the unzipped project folder."""
    sent: list[int] = []
    monkeypatch.setattr(services, "_enqueue_sdk_build", sent.append)
    started = time.monotonic()
    services.sdk_build_request(stage=stage, sdk_type=sdk_type)
    assert len(sent) == 1
    assert tasks.build_sdk(sent[0]) == SdkBuildStatus.READY, SdkBuild.objects.get(id=sent[0]).error
    record = SdkBuild.objects.get(id=sent[0])
    assert record.size > 0
    print(f"{sdk_type} SDK built in {time.monotonic() - started:.1f} s, {record.size} bytes")
    from portal.selectors import sdk_build_path

    with zipfile.ZipFile(sdk_build_path(build=record)) as archive:
        archive.extractall(target)
    (project,) = target.iterdir()
    return project


@pytest.fixture
def tight(live_gateway: ServerThread, api_owner: Any) -> dict[str, Any]:
    """A published API on the live gateway and a key in a plan of 1 request/s (bursts of 1)."""
    published = publish(api_owner, name="Weather")
    plan = key_services.usage_plan_create(
        owner=api_owner,
        name="Tight",
        api_stages=[{"apiId": published.api.id, "stage": "prod"}],
        throttle={"rateLimit": 1, "burstLimit": 1},
    )
    key, value = key_services.api_key_create(owner=api_owner, name="sdk-test", enabled=True)
    key_services.usage_plan_key_create(plan=plan, key_id=key.id)
    base_url = f"http://127.0.0.1:{live_gateway.port}/_aws/execute-api/{published.api.id}/prod"
    first = eventually(
        lambda: httpx.get(f"{base_url}/hello", headers={"x-api-key": value}), lambda r: r.status_code == 200
    )
    assert first.status_code == 200, first.text
    assert httpx.get(f"{base_url}/hello", headers={"x-api-key": value}).status_code == 429
    time.sleep(1.1)  # the bucket refills before the SDK's first call
    return {"published": published, "key": value, "base_url": base_url}


PYTHON_SCRIPT = """
import json, os, sys
import httpx
from weather_client import api_client
from weather_client.api.default import say_hello

seen = []
send = httpx.HTTPTransport.handle_request

def recording(self, request):
    response = send(self, request)
    seen.append(response.status_code)
    return response

httpx.HTTPTransport.handle_request = recording
client = api_client(api_key=os.environ["KEY"], base_url=os.environ["BASE"])
answers = [say_hello.sync_detailed(client=client, name="sdk") for _ in range(3)]
print(json.dumps({"statuses": [a.status_code for a in answers], "seen": seen, "hello": answers[0].parsed.hello}))
"""


def test_the_python_sdk_installs_in_a_fresh_venv_and_retries_a_429(
    tight: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project = build(tight["published"].stage, "python", monkeypatch, tmp_path / "python")
    assert "retry" in (project / "README.md").read_text()
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(project)],
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    run = subprocess.run(
        [python, "-c", PYTHON_SCRIPT],
        env={**os.environ, "KEY": tight["key"], "BASE": tight["base_url"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["hello"] == "world"
    assert result["statuses"] == [200, 200, 200]
    assert 429 in result["seen"], result  # throttled at 1/s: the client waited Retry-After and sent again
    assert result["seen"][-1] == 200


TYPESCRIPT_SCRIPT = """
import { configure, sayHello } from './dist/index.js';

const seen = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  seen.push(response.status);
  return response;
};
configure({ apiKey: process.env.KEY, baseUrl: process.env.BASE });
const statuses = [];
let hello;
for (let i = 0; i < 3; i++) {
  const answer = await sayHello({ query: { name: 'sdk' } });
  statuses.push(answer.response.status);
  hello = hello ?? answer.data?.hello;
}
console.log(JSON.stringify({ statuses, seen, hello }));
"""


def test_the_typescript_sdk_compiles_strictly_and_retries_a_429(
    tight: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed("node")
    tsc = Path(settings.BASE_DIR) / "node_modules" / "typescript" / "bin" / "tsc"
    if not (tsc.is_file() and (Path(settings.BASE_DIR) / "node_modules" / "@hey-api").is_dir()):
        missing("the TypeScript tools in node_modules are not installed (run npm ci)")
    project = build(tight["published"].stage, "typescript", monkeypatch, tmp_path / "typescript")
    source = (project / "src" / "client.gen.ts").read_text()
    assert "from './portico.js'" in source
    compiled = subprocess.run(
        ["node", str(tsc), "-p", "tsconfig.json", "--strict"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    (project / "run.mjs").write_text(TYPESCRIPT_SCRIPT)
    run = subprocess.run(
        ["node", "run.mjs"],
        cwd=project,
        env={**os.environ, "KEY": tight["key"], "BASE": tight["base_url"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["hello"] == "world"
    assert result["statuses"] == [200, 200, 200]
    assert 429 in result["seen"], result
    assert result["seen"][-1] == 200


OKHTTP_STUBS = {
    "okhttp3/Interceptor.java": """package okhttp3;
public interface Interceptor {
    Response intercept(Chain chain) throws java.io.IOException;
    interface Chain {
        Request request();
        Response proceed(Request request) throws java.io.IOException;
    }
}
""",
    "okhttp3/Request.java": "package okhttp3;\npublic class Request {}\n",
    "okhttp3/Response.java": """package okhttp3;
public class Response implements java.io.Closeable {
    private final int code;
    private final String retryAfter;
    public Response(int code, String retryAfter) { this.code = code; this.retryAfter = retryAfter; }
    public int code() { return code; }
    public String header(String name) { return "Retry-After".equalsIgnoreCase(name) ? retryAfter : null; }
    @Override public void close() {}
}
""",
}

JAVA_CHECK = """package PACKAGE;
import java.util.*;
import okhttp3.*;
public class RetryCheck {
    static int run(List<Response> answers, int[] calls) throws Exception {
        Deque<Response> queue = new ArrayDeque<>(answers);
        Interceptor.Chain chain = new Interceptor.Chain() {
            public Request request() { return new Request(); }
            public Response proceed(Request request) { calls[0]++; return queue.pop(); }
        };
        return new RetryInterceptor(3, 1, 10, 60000).intercept(chain).code();
    }
    public static void main(String[] args) throws Exception {
        int[] a = {0}, b = {0}, c = {0};
        int retried = run(Arrays.asList(new Response(429, "0"), new Response(503, null), new Response(200, null)), a);
        int tooLong = run(Arrays.asList(new Response(429, "3600"), new Response(200, null)), b);
        int other = run(Arrays.asList(new Response(500, null), new Response(200, null)), c);
        System.out.println(retried + " " + a[0] + " " + tooLong + " " + b[0] + " " + other + " " + c[0]);
    }
}
"""


def test_java_ruby_and_go_archives_are_made_with_the_retry_layer_wired_in(
    api_owner: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed("java")
    generator_cli.generator_jar()
    stage = publish(api_owner, name="Weather").stage

    java = build(stage, "java", monkeypatch, tmp_path / "java")
    sources = java / "src" / "main" / "java" / "portico" / "sdk" / "weather_client"
    assert "builder.addInterceptor(new RetryInterceptor());" in (sources / "ApiClient.java").read_text()
    assert (sources / "api" / "DefaultApi.java").is_file()
    assert "x-api-key" in (sources / "ApiClient.java").read_text()
    installed("javac")
    stubs = tmp_path / "okhttp"
    for name, text in OKHTTP_STUBS.items():
        (stubs / name).parent.mkdir(parents=True, exist_ok=True)
        (stubs / name).write_text(text)
    check = tmp_path / "RetryCheck.java"
    check.write_text(JAVA_CHECK.replace("PACKAGE", "portico.sdk.weather_client"))
    classes = tmp_path / "classes"
    java_files = [*stubs.rglob("*.java"), sources / "RetryInterceptor.java", check]
    javac = subprocess.run(
        ["javac", "-d", str(classes), *map(str, java_files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert javac.returncode == 0, javac.stderr
    ran = subprocess.run(
        ["java", "-cp", str(classes), "portico.sdk.weather_client.RetryCheck"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # 429 then 503 then 200: retried twice; a Retry-After of an hour and a 500 come back at once.
    assert ran.stdout.split() == ["200", "3", "429", "1", "500", "1"], ran.stdout + ran.stderr

    ruby = build(stage, "ruby", monkeypatch, tmp_path / "ruby")
    assert "require 'weather_client/portico_retry'" in (ruby / "lib" / "weather_client.rb").read_text()
    retry = (ruby / "lib" / "weather_client" / "portico_retry.rb").read_text()
    assert "module WeatherClient" in retry
    assert "ApiClient.prepend(PorticoRetry)" in retry
    assert (ruby / "weather_client.gemspec").is_file()

    go = build(stage, "go", monkeypatch, tmp_path / "go")
    assert "HTTPClient:       &http.Client{Transport: NewRetryTransport(nil)}," in (go / "configuration.go").read_text()
    assert (go / "portico_retry.go").read_text().count("package weatherclient") == 1
    assert "package weatherclient" in (go / "client.go").read_text()
    assert (go / "go.mod").read_text().startswith("module portico.local/sdk/weather-client-go")
    for project in (java, ruby, go):
        assert "Retry-After" in (project / "README.md").read_text()


def test_the_typescript_generator_and_compiler_are_pinned() -> None:
    """package.json pins the Node tools the builds run, at versions that work on Node 20."""
    pinned = json.loads((Path(settings.BASE_DIR) / "package.json").read_text())["devDependencies"]
    assert pinned == {"@hey-api/openapi-ts": "0.95.0", "typescript": typescript.TYPESCRIPT_VERSION}


def test_a_richer_api_generates_in_every_language(
    api_owner: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Models, path and header parameters, a request body, an authorizer, ANY and a greedy path."""
    installed("java")
    installed("node")
    from apis.tests.test_openapi import build as build_petstore

    stage = build_petstore(api_owner)
    python = build(stage, "python", monkeypatch, tmp_path / "python")
    imported = subprocess.run(
        [sys.executable, "-c", "import petstore_client.api.default.list_pets, petstore_client.models.pet"],
        cwd=python,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    ts = build(stage, "typescript", monkeypatch, tmp_path / "typescript")
    tsc = Path(settings.BASE_DIR) / "node_modules" / "typescript" / "bin" / "tsc"
    compiled = subprocess.run(
        ["node", str(tsc), "-p", "tsconfig.json", "--strict", "--noEmit"],
        cwd=ts,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    assert "listPets" in (ts / "src" / "sdk.gen.ts").read_text()
    for sdk_type in ("java", "ruby", "go"):
        assert any(build(stage, sdk_type, monkeypatch, tmp_path / sdk_type).rglob("*Pet*"))
