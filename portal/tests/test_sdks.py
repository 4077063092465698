"""SDK builds without the generators: the export they read, the build records, the task, the pages, GetSdk.

A fake generator stands in for the real ones here (test_sdk_generation.py runs those), so these tests
are about what Portico does around a build: queueing after commit, idempotent runs, failures, caching,
who may download what, and the AWS shapes of GetSdk / GetSdkTypes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from openapi_spec_validator import validate

from portal import sdks, selectors, services, tasks
from portal.models import SdkBuild, SdkBuildStatus, Visibility
from portal.tests.factories import publish


@pytest.fixture(autouse=True)
def sdk_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path / "sdks"


class FakeGenerators:
    """Generators that write a small project (or fail), counting their runs."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.fail_with = ""

    def make(self, sdk_type: str) -> Any:
        def generate(document: dict, names: sdks.SdkNames, workdir: Path, timeout: float) -> Path:
            self.runs.append(sdk_type)
            if self.fail_with:
                raise sdks.SdkBuildError(self.fail_with)
            project = workdir / names.project
            project.mkdir()
            (project / "README.md").write_text(f"{names.title} {sdk_type} {document['servers'][0]['url']}\n")
            return project

        return generate


@pytest.fixture
def generators(monkeypatch: pytest.MonkeyPatch) -> FakeGenerators:
    fake = FakeGenerators()
    monkeypatch.setattr(sdks, "_generators", lambda: {t: fake.make(t) for t in sdks.SDK_TYPES})
    return fake


def _commit_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run on-commit hooks at once: a test's own transaction never commits."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the builds services hand to Celery instead of sending them to a broker."""
    found: list[int] = []
    monkeypatch.setattr(services, "_enqueue_sdk_build", found.append)
    return found


@pytest.fixture
def queued(sent: list[int], monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Like `sent`, with the on-commit hooks run at once."""
    _commit_at_once(monkeypatch)
    return sent


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the Celery task at once when a build is queued, as CELERY_TASK_ALWAYS_EAGER would."""
    monkeypatch.setattr(services, "_enqueue_sdk_build", tasks.build_sdk)
    _commit_at_once(monkeypatch)


# --- the document and names ----------------------------------------------------------------------------


def test_the_sdk_export_is_valid_openapi_with_the_stage_url_as_its_only_server(published: Any) -> None:
    deployment = published.stage.deployment
    document = sdks.sdk_document(snapshot=deployment.snapshot, stage_name="prod", deployed_at=deployment.created_date)
    validate(document)
    assert document["servers"] == [{"url": f"http://{published.api.id}.execute-api.localhost:8080/prod"}]
    assert document["paths"]["/hello"]["get"]["operationId"] == "SayHello"
    scheme = document["components"]["securitySchemes"]["api_key"]
    assert scheme == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    major, middle, _time = (int(part) for part in document["info"]["version"].split("."))
    assert major == deployment.created_date.year
    assert middle == deployment.created_date.month * 100 + deployment.created_date.day


@pytest.mark.parametrize(
    ("api_name", "slug", "package", "class_prefix"),
    [
        ("Weather", "weather", "weather_client", "WeatherClient"),
        ("Pet Store v2!", "pet_store_v2", "pet_store_v2_client", "PetStoreV2Client"),
        ("3D prints", "api_3d_prints", "api_3d_prints_client", "Api3dPrintsClient"),
        ("¿¿", "api", "api_client", "ApiClient"),
    ],
)
def test_package_names_come_from_the_api_name(api_name: str, slug: str, package: str, class_prefix: str) -> None:
    names = sdks.sdk_names(
        snapshot={"restApi": {"id": "a1b2c3d4e5", "name": api_name}}, stage_name="prod", deployed_at=timezone.now()
    )
    assert (names.slug, names.package, names.class_prefix) == (slug, package, class_prefix)
    assert names.project == package.replace("_", "-")
    assert names.base_url.endswith("/prod")


def test_archive_paths_stay_under_the_sdk_folder(sdk_dir: Path) -> None:
    assert sdks.archive_path(deployment_id="abc123", stage_name="prod", sdk_type="go") == sdk_dir / "abc123/prod/go.zip"
    odd = sdks.archive_path(deployment_id="../x", stage_name="../../etc", sdk_type="go")
    assert odd.parent.parent.parent == sdk_dir
    assert ".." not in odd.parts


# --- builds and the task -------------------------------------------------------------------------------


def test_a_request_queues_one_build_after_commit_and_repeats_change_nothing(
    published: Any, sent: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        build = services.sdk_build_request(stage=published.stage, sdk_type="python")
        assert sent == []  # nothing is sent before the transaction commits
    assert sent == [build.id]
    assert build.status == SdkBuildStatus.QUEUED
    with django_capture_on_commit_callbacks(execute=True):
        again = services.sdk_build_request(stage=published.stage, sdk_type="python")
    assert again.id == build.id
    assert sent == [build.id]


def test_the_task_builds_a_zip_once_and_a_ready_build_is_not_rebuilt(
    published: Any, generators: FakeGenerators, queued: list[int], sdk_dir: Path
) -> None:
    build = services.sdk_build_request(stage=published.stage, sdk_type="typescript")
    assert tasks.build_sdk(build.id) == SdkBuildStatus.READY
    build.refresh_from_db()
    path = sdk_dir / build.deployment_id / "prod" / "typescript.zip"
    assert build.status == SdkBuildStatus.READY
    assert build.size == path.stat().st_size > 0
    assert build.sha256 == sdks.file_sha256(path)
    assert build.recipe == sdks.sdk_recipe("typescript")
    with zipfile.ZipFile(path) as archive:
        readme = archive.read("weather-client-typescript/README.md").decode()
    assert f"{published.api.id}.execute-api.localhost:8080/prod" in readme
    # A redelivered message, or a second request, does not run the generator again.
    assert tasks.build_sdk(build.id) == SdkBuildStatus.READY
    assert services.sdk_build_request(stage=published.stage, sdk_type="typescript").status == SdkBuildStatus.READY
    assert generators.runs == ["typescript"]


def test_a_lost_zip_or_a_new_generator_version_builds_again(
    published: Any, generators: FakeGenerators, eager: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = services.sdk_build_request(stage=published.stage, sdk_type="go")
    selectors.sdk_build_path(build=build).unlink()
    services.sdk_build_request(stage=published.stage, sdk_type="go")
    monkeypatch.setattr(sdks, "sdk_recipe", lambda sdk_type: "openapi-generator-cli 99.0.0")
    services.sdk_build_request(stage=published.stage, sdk_type="go")
    assert generators.runs == ["go", "go", "go"]
    assert SdkBuild.objects.get(id=build.id).recipe == "openapi-generator-cli 99.0.0"


def test_a_failed_build_keeps_the_tools_message_and_runs_again_only_when_asked(
    published: Any, generators: FakeGenerators, eager: None
) -> None:
    generators.fail_with = "java is not installed"
    build = services.sdk_build_request(stage=published.stage, sdk_type="java")
    build.refresh_from_db()
    assert (build.status, build.error) == (SdkBuildStatus.FAILED, "java is not installed")
    assert tasks.build_sdk(build.id) == SdkBuildStatus.FAILED  # a redelivered task does not retry it
    services.sdk_build_request(stage=published.stage, sdk_type="java")  # GetSdk in a loop: no new run
    assert generators.runs == ["java"]
    generators.fail_with = ""
    services.sdk_build_request(stage=published.stage, sdk_type="java", retry_failed=True)
    build.refresh_from_db()
    assert (build.status, build.error) == (SdkBuildStatus.READY, "")
    assert generators.runs == ["java", "java"]


def test_a_build_whose_worker_died_is_started_again(
    published: Any, generators: FakeGenerators, queued: list[int], settings: Any
) -> None:
    build = services.sdk_build_request(stage=published.stage, sdk_type="ruby")
    SdkBuild.objects.filter(id=build.id).update(status=SdkBuildStatus.BUILDING, started_at=timezone.now())
    assert tasks.build_sdk(build.id) == SdkBuildStatus.BUILDING  # another worker has it
    long_ago = timezone.now() - timedelta(seconds=settings.PORTAL_SDK_BUILD_TIMEOUT * 3)
    SdkBuild.objects.filter(id=build.id).update(started_at=long_ago)
    services.sdk_build_request(stage=published.stage, sdk_type="ruby")
    assert queued == [build.id, build.id]
    assert tasks.build_sdk(build.id) == SdkBuildStatus.READY
    assert generators.runs == ["ruby"]


def test_two_stages_on_one_deployment_get_builds_with_their_own_url(
    published: Any, generators: FakeGenerators, eager: None
) -> None:
    from apis.services import deployments

    beta = deployments.stage_create(api=published.api, stage_name="beta", deployment_id=published.stage.deployment_id)
    first = services.sdk_build_request(stage=published.stage, sdk_type="python")
    second = services.sdk_build_request(stage=beta, sdk_type="python")
    assert first.id != second.id
    with zipfile.ZipFile(selectors.sdk_build_path(build=second)) as archive:
        assert archive.read("weather-client-python/README.md").decode().strip().endswith("/beta")


# --- portal pages --------------------------------------------------------------------------------------


def test_the_sdk_page_offers_every_language_and_polls_a_build_until_it_is_ready(
    published: Any, alice: Any, generators: FakeGenerators, queued: list[int]
) -> None:
    page = alice.get("/apis/weather-api/sdks/")
    assert page.status_code == 200
    for sdk_type in ("python", "typescript", "java", "ruby", "go"):
        assert f'data-testid="sdk-{sdk_type}" data-status="none"' in page.content.decode()
    assert alice.get("/apis/weather-api/sdks/python/download/").status_code == 404

    card = alice.post("/apis/weather-api/sdks/python/build/", HTTP_HX_REQUEST="true")
    assert card.status_code == 200
    html = card.content.decode()
    assert 'data-status="queued"' in html
    assert 'hx-trigger="every 2s"' in html

    tasks.build_sdk(queued[0])
    polled = alice.get("/apis/weather-api/sdks/python/").content.decode()
    assert 'data-status="ready"' in polled
    assert "hx-trigger" not in polled
    download = alice.get("/apis/weather-api/sdks/python/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert 'filename="weather-api-prod-python-sdk.zip"' in download["Content-Disposition"]
    body = b"".join(download.streaming_content)
    assert zipfile.ZipFile(io.BytesIO(body)).namelist() == ["weather-client-python/README.md"]


def test_a_failed_build_shows_why_and_offers_to_try_again(
    published: Any, alice: Any, api_owner: Any, generators: FakeGenerators, eager: None
) -> None:
    generators.fail_with = "openapi-generator (go) failed <exit 1>:\n/tmp/portico-sdk-go-x/openapi.json: boom"
    card = alice.post("/apis/weather-api/sdks/go/build/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="failed"' in card
    assert "openapi-generator (go) failed &lt;exit 1&gt;:" in card
    assert "/tmp/portico-sdk" not in card  # the tool's output stays with the owners
    assert "Try again" in card
    from portal.tests.conftest import signed_in

    owner_view = signed_in(api_owner).get("/apis/weather-api/sdks/").content.decode()
    assert "/tmp/portico-sdk-go-x/openapi.json: boom" in owner_view


def test_visitors_may_download_but_only_signed_in_consumers_start_builds(
    client: Any, published: Any, queued: list[int]
) -> None:
    page = client.get("/apis/weather-api/sdks/").content.decode()
    assert "Sign in to generate" in page
    answer = client.post("/apis/weather-api/sdks/python/build/")
    assert answer.status_code == 302
    assert "/accounts/login/" in answer["Location"]
    assert queued == []


def test_hidden_listings_and_unknown_sdk_types_are_404(
    api_owner: Any, alice: Any, bob: Any, published: Any, queued: list[int]
) -> None:
    from portal.models import ConsumerGroup

    group = ConsumerGroup.objects.create(name="partners")
    publish(api_owner, name="Secret", visibility=Visibility.GROUPS, groups=(group,))
    for path in ("/apis/secret-api/sdks/", "/apis/secret-api/sdks/python/", "/apis/secret-api/sdks/python/download/"):
        assert bob.get(path).status_code == 404
    assert bob.post("/apis/secret-api/sdks/python/build/").status_code == 404
    assert alice.post("/apis/weather-api/sdks/cobol/build/").status_code == 404
    assert alice.get("/apis/weather-api/sdks/cobol/").status_code == 404
    assert queued == []


# --- GetSdk / GetSdkTypes ------------------------------------------------------------------------------


@pytest.fixture
def apigw(transactional_db: None) -> Iterator[Any]:
    from apis.services.access import access_key_create
    from apis.tests.conftest import ServerThread, free_port, make_client
    from config.asgi import application
    from portal.tests.factories import OwnerFactory

    owner = OwnerFactory()
    key, secret = access_key_create(user=owner)
    with ServerThread(application, free_port()) as server:
        yield make_client(server, {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": secret}), owner


def test_boto3_lists_the_sdk_types_in_aws_shape(apigw: Any) -> None:
    client, _ = apigw
    answer = client.get_sdk_types()
    assert [item["id"] for item in answer["items"]] == ["python", "typescript", "java", "ruby", "go"]
    assert answer["items"][0] == {
        "id": "python",
        "friendlyName": "Python",
        "description": sdks.SDK_TYPES["python"].description,
        "configurationProperties": [],
    }
    page = client.get_sdk_types(limit=2)
    assert [item["id"] for item in page["items"]] == ["python", "typescript"]
    assert page["position"]
    assert client.get_sdk_type(id="java")["friendlyName"] == "Java"


def test_boto3_gets_a_zip_and_is_told_to_come_back_while_it_builds(
    apigw: Any, generators: FakeGenerators, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.exceptions

    client, owner = apigw
    published = publish(owner)
    sent: list[int] = []
    monkeypatch.setattr(services, "_enqueue_sdk_build", sent.append)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client.get_sdk(restApiId=published.api.id, stageName="prod", sdkType="java")
    error = info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "5"
    assert len(sent) == 1

    tasks.build_sdk(sent[0])
    answer = client.get_sdk(restApiId=published.api.id, stageName="prod", sdkType="java")
    assert answer["contentType"] == "application/octet-stream"
    assert answer["contentDisposition"] == 'attachment; filename="weather-prod-java-sdk.zip"'
    names = zipfile.ZipFile(io.BytesIO(answer["body"].read())).namelist()
    assert names == ["weather-client-java/README.md"]
    assert generators.runs == ["java"]


def test_boto3_sees_aws_errors_for_unknown_sdk_types_stages_and_failed_builds(
    apigw: Any, generators: FakeGenerators, eager: None
) -> None:
    import botocore.exceptions

    client, owner = apigw
    published = publish(owner)
    cases = [
        ({"stageName": "prod", "sdkType": "cobol"}, 400, "BadRequestException"),
        ({"stageName": "nope", "sdkType": "python"}, 404, "NotFoundException"),
    ]
    generators.fail_with = "node is not installed"
    cases.append(({"stageName": "prod", "sdkType": "typescript"}, 400, "BadRequestException"))
    for kwargs, status, code in cases:
        with pytest.raises(botocore.exceptions.ClientError) as info:
            client.get_sdk(restApiId=published.api.id, **kwargs)
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
        assert info.value.response["Error"]["Code"] == code
    assert "node is not installed" in info.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client.get_sdk_type(id="cobol")
    assert info.value.response["Error"]["Code"] == "NotFoundException"
