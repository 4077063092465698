"""The Java, Ruby and Go SDKs: OpenAPI Generator's jar (PyPI's openapi-generator-cli) on the machine's Java.

Each gets Portico's retry layer from portal/sdk_templates/ and one patch that wires it in:
- Java (okhttp-gson): `RetryInterceptor.java`, added by `ApiClient.initHttpClient` to its OkHttp client;
- Ruby (typhoeus): `portico_retry.rb`, prepended to `ApiClient#call_api` and required by the gem;
- Go (net/http): `portico_retry.go`, a RoundTripper that `NewConfiguration` puts under its HTTPClient.
The API key needs no patch: the export's `api_key` security scheme makes each generator send it in
`x-api-key` (`setApiKey`, `config.api_key['api_key']`, `ContextAPIKeys`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from portal.sdks import SdkBuildError, SdkNames, patch_text, render_template, run_tool


def generator_jar() -> Path:
    try:
        import openapi_generator_cli
    except ImportError:
        raise SdkBuildError("openapi-generator-cli is not installed (it is in requirements.txt)") from None
    jar = Path(openapi_generator_cli.__file__).parent / "openapi-generator.jar"
    if not jar.is_file():
        raise SdkBuildError(f"openapi-generator-cli has no jar at {jar}")
    return jar


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise SdkBuildError("java is not installed (OpenAPI Generator needs Java 11 or later)")
    return found


def _generate(
    document: dict[str, Any],
    names: SdkNames,
    workdir: Path,
    timeout: float,
    generator: str,
    properties: dict[str, str],
    options: tuple[str, ...] = (),
) -> Path:
    spec = workdir / "openapi.json"
    spec.write_text(json.dumps(document))
    project = workdir / names.project
    command = [java(), "-Xss4m", "-jar", str(generator_jar()), "generate", "-g", generator]
    command += ["-i", str(spec), "-o", str(project), *options]
    command += ["--additional-properties", ",".join(f"{key}={value}" for key, value in properties.items())]
    run_tool(command, cwd=workdir, timeout=timeout, what=f"openapi-generator ({generator})")
    return project


def _prepend_readme(project: Path, template: str, names: SdkNames, **extra: str) -> None:
    readme = project / "README.md"
    original = readme.read_text() if readme.is_file() else ""
    readme.write_text(render_template(template, names, **extra) + "\n" + original)


def generate_java(document: dict[str, Any], names: SdkNames, workdir: Path, timeout: float) -> Path:
    package = f"portico.sdk.{names.package}"
    properties = {
        "invokerPackage": package,
        "apiPackage": f"{package}.api",
        "modelPackage": f"{package}.model",
        "groupId": "portico.sdk",
        "artifactId": names.project,
        "artifactVersion": names.version,
        "hideGenerationTimestamp": "true",
    }
    project = _generate(document, names, workdir, timeout, "java", properties)
    sources = project / "src" / "main" / "java" / Path(*package.split("."))
    interceptor = render_template("java/RetryInterceptor.java", names, __INVOKER_PACKAGE__=package)
    (sources / "RetryInterceptor.java").write_text(interceptor)
    anchor = "        builder.addNetworkInterceptor(getProgressInterceptor());\n"
    patch_text(sources / "ApiClient.java", anchor, anchor + "        builder.addInterceptor(new RetryInterceptor());\n")
    _prepend_readme(project, "java/README.md", names)
    return project


def generate_ruby(document: dict[str, Any], names: SdkNames, workdir: Path, timeout: float) -> Path:
    properties = {"gemName": names.package, "moduleName": names.class_prefix, "gemVersion": names.version}
    project = _generate(document, names, workdir, timeout, "ruby", properties)
    lib = project / "lib"
    retry = render_template("ruby/portico_retry.rb", names, __RUBY_MODULE__=names.class_prefix)
    (lib / names.package / "portico_retry.rb").write_text(retry)
    anchor = f"require '{names.package}/configuration'\n"
    patch_text(lib / f"{names.package}.rb", anchor, anchor + f"require '{names.package}/portico_retry'\n")
    _prepend_readme(project, "ruby/README.md", names, __RUBY_MODULE__=names.class_prefix)
    return project


def go_package(names: SdkNames) -> str:
    return names.slug.replace("_", "") + "client"


def generate_go(document: dict[str, Any], names: SdkNames, workdir: Path, timeout: float) -> Path:
    package = go_package(names)
    properties = {"packageName": package, "packageVersion": names.version, "isGoSubmodule": "false"}
    options = ("--git-host", "portico.local", "--git-user-id", "sdk", "--git-repo-id", f"{names.project}-go")
    project = _generate(document, names, workdir, timeout, "go", properties, options)
    (project / "portico_retry.go").write_text(render_template("go/portico_retry.go", names, __GO_PACKAGE__=package))
    anchor = "\t\tDefaultHeader:    make(map[string]string),\n"
    wiring = "\t\tHTTPClient:       &http.Client{Transport: NewRetryTransport(nil)},\n"
    patch_text(project / "configuration.go", anchor, anchor + wiring)
    _prepend_readme(project, "go/README.md", names, __GO_PACKAGE__=package)
    return project
