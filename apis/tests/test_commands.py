"""Management commands behind `make run`: load_demo, create_access_key, bootstrap; and the demo backend."""

from __future__ import annotations

import io
import json
import stat

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from apis import models as m
from apis.demo_backend import PETS
from apis.secrets import decrypt


def run(*args: str, **options: object) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def method(api: m.RestApi, path: str, verb: str) -> m.Method:
    return m.Method.objects.select_related("integration").get(
        resource__rest_api=api, resource__path=path, http_method=verb
    )


# --- load_demo -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_demo_builds_petstore_deployed_to_prod_with_a_plan_and_an_enabled_key(settings):
    settings.DEMO_BACKEND_URL = "http://127.0.0.1:8123/demo-backend"
    settings.GATEWAY_PORT = 8456

    output = run("load_demo")

    api = m.RestApi.objects.get()
    assert api.name == "PetStore"
    assert {r.path for r in api.resources.all()} == {"/", "/pets", "/pets/{petId}", "/{proxy+}"}

    pets = method(api, "/pets", "GET")
    assert pets.integration.type == "MOCK"
    assert json.loads(pets.integration.request_templates["application/json"]) == {"statusCode": 200}
    response = pets.integration.integration_responses.get(status_code="200")
    assert json.loads(response.response_templates["application/json"]) == PETS

    assert pets.api_key_required is False  # one method anyone can call; the others need the demo key
    pet = method(api, "/pets/{petId}", "GET")
    assert pet.api_key_required is True
    assert pet.integration.type == "HTTP_PROXY"
    assert pet.integration.uri == "http://127.0.0.1:8123/demo-backend/pets/{petId}"
    assert pet.integration.request_parameters == {"integration.request.path.petId": "method.request.path.petId"}

    proxy = method(api, "/{proxy+}", "ANY")
    assert proxy.api_key_required is True
    assert proxy.integration.type == "HTTP_PROXY"
    assert proxy.integration.uri == "http://127.0.0.1:8123/demo-backend/{proxy}"

    stage = m.Stage.objects.get(rest_api=api)
    assert stage.stage_name == "prod"
    served = {
        (r["path"], verb) for r in stage.deployment.snapshot["resources"] for verb in r.get("resourceMethods", {})
    }
    assert served == {("/pets", "GET"), ("/pets/{petId}", "GET"), ("/{proxy+}", "ANY")}

    plan = m.UsagePlan.objects.get()
    assert plan.name == "Basic"
    assert plan.throttle == {"rateLimit": 5.0, "burstLimit": 10}
    assert plan.quota == {"limit": 1000, "offset": 0, "period": "DAY"}
    assert list(plan.api_stages.values_list("rest_api_id", "stage_name")) == [(api.id, "prod")]

    key = m.ApiKey.objects.get()
    assert key.enabled
    assert list(plan.plan_keys.values_list("api_key_id", flat=True)) == [key.id]
    value = decrypt(key.value_encrypted)

    assert api.id in output
    assert f"http://{api.id}.execute-api.localhost:8456/prod/pets" in output
    assert value in output


@pytest.mark.django_db
def test_load_demo_twice_keeps_one_of_each_and_prints_the_same_key():
    first = run("load_demo")
    second = run("load_demo")

    assert m.RestApi.objects.count() == 1
    assert m.Stage.objects.count() == 1
    assert m.Deployment.objects.count() == 1
    assert m.UsagePlan.objects.count() == 1
    assert m.UsagePlanStage.objects.count() == 1
    assert m.ApiKey.objects.count() == 1
    assert m.UsagePlanKey.objects.count() == 1
    assert first == second


@pytest.mark.django_db
def test_load_demo_replaces_a_demo_key_stored_under_another_secret_key():
    run("load_demo")
    old = m.ApiKey.objects.get()
    m.ApiKey.objects.update(value_encrypted="not-a-fernet-token")

    output = run("load_demo")

    key = m.ApiKey.objects.get()
    assert key.id != old.id
    assert list(m.UsagePlanKey.objects.values_list("api_key_id", flat=True)) == [key.id]
    assert decrypt(key.value_encrypted) in output


@pytest.mark.django_db
def test_load_demo_leaves_an_owners_own_petstore_alone():
    from apis.services.design import rest_api_create

    own = rest_api_create(owner=None, name="PetStore")

    run("load_demo")

    assert m.RestApi.objects.filter(name="PetStore").count() == 2
    assert not own.resources.exclude(path="/").exists()


@pytest.mark.django_db
def test_load_demo_follows_a_moved_demo_backend_and_redeploys(settings):
    settings.DEMO_BACKEND_URL = "http://127.0.0.1:8000/demo-backend"
    run("load_demo")
    settings.DEMO_BACKEND_URL = "http://127.0.0.1:9000/demo-backend"

    run("load_demo")

    api = m.RestApi.objects.get()
    assert method(api, "/pets/{petId}", "GET").integration.uri == "http://127.0.0.1:9000/demo-backend/pets/{petId}"
    stage = m.Stage.objects.get(rest_api=api)
    assert m.Deployment.objects.count() == 2
    uris = [
        verb_method["methodIntegration"]["uri"]
        for r in stage.deployment.snapshot["resources"]
        for verb_method in r.get("resourceMethods", {}).values()
        if verb_method["methodIntegration"]["type"] == "HTTP_PROXY"
    ]
    assert uris and all(uri.startswith("http://127.0.0.1:9000/demo-backend/") for uri in uris)


@pytest.mark.django_db
def test_load_demo_gives_the_demo_to_the_named_owner():
    user = get_user_model().objects.create_user("alice")

    run("load_demo", owner="alice")

    assert m.RestApi.objects.get().owner == user
    assert m.ApiKey.objects.get().owner == user


@pytest.mark.django_db
def test_load_demo_rejects_an_unknown_owner():
    with pytest.raises(CommandError, match="nobody"):
        run("load_demo", owner="nobody")
    assert not m.RestApi.objects.exists()


# --- create_access_key ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_access_key_prints_one_json_line_with_working_credentials():
    user = get_user_model().objects.create_user("owner")

    output = run("create_access_key", "owner")

    lines = output.strip().splitlines()
    assert len(lines) == 1
    printed = json.loads(lines[0])
    assert set(printed) == {"accessKeyId", "secretAccessKey"}
    key = m.AccessKey.objects.get(access_key_id=printed["accessKeyId"])
    assert key.user == user
    assert decrypt(key.secret_encrypted) == printed["secretAccessKey"]


@pytest.mark.django_db
def test_create_access_key_registers_the_credentials_it_is_given():
    get_user_model().objects.create_user("owner")

    output = run(
        "create_access_key",
        "owner",
        "--access-key-id",
        "AKIDEXAMPLE000000001",
        "--secret-access-key",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    )

    assert json.loads(output) == {
        "accessKeyId": "AKIDEXAMPLE000000001",
        "secretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    }
    key = m.AccessKey.objects.get(access_key_id="AKIDEXAMPLE000000001")
    assert decrypt(key.secret_encrypted) == "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


@pytest.mark.django_db
def test_create_access_key_refuses_an_id_that_is_taken():
    get_user_model().objects.create_user("owner")
    run("create_access_key", "owner", "--access-key-id", "AKIDEXAMPLE000000001")

    with pytest.raises(CommandError, match="already exists"):
        run("create_access_key", "owner", "--access-key-id", "AKIDEXAMPLE000000001")
    assert m.AccessKey.objects.count() == 1


@pytest.mark.django_db
def test_create_access_key_rejects_an_unknown_user():
    with pytest.raises(CommandError, match="ghost"):
        run("create_access_key", "ghost")
    assert not m.AccessKey.objects.exists()


# --- bootstrap -----------------------------------------------------------------------------------------


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.DEBUG = True  # as under `make run`; with DEBUG off bootstrap would also collect static files
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, for tests only
    return tmp_path


@pytest.mark.django_db
def test_bootstrap_creates_the_admin_and_prints_the_same_login_and_key_on_every_run(var_dir):
    first = run("bootstrap")
    second = run("bootstrap")

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    saved = json.loads((var_dir / "admin.json").read_text())
    assert admin.check_password(saved["password"])
    assert stat.S_IMODE((var_dir / "admin.json").stat().st_mode) == 0o600
    key = m.AccessKey.objects.get(user=admin)
    assert saved["password"] in first
    assert key.access_key_id in first
    assert decrypt(key.secret_encrypted) in first
    assert m.RestApi.objects.get().owner == admin
    assert first == second


@pytest.mark.django_db
def test_bootstrap_issues_a_new_access_key_when_the_stored_secret_cannot_be_read(var_dir):
    run("bootstrap", "--no-demo")
    m.AccessKey.objects.update(secret_encrypted="not-a-fernet-token")

    output = run("bootstrap", "--no-demo")

    readable = [k for k in m.AccessKey.objects.all() if k.secret_encrypted != "not-a-fernet-token"]
    assert len(readable) == 1
    assert readable[0].access_key_id in output


@pytest.mark.django_db
def test_bootstrap_does_not_claim_to_know_a_password_that_was_changed(var_dir):
    run("bootstrap", "--no-demo")
    saved = json.loads((var_dir / "admin.json").read_text())["password"]
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-by-hand-1234")
    admin.save()

    output = run("bootstrap", "--no-demo")

    assert saved not in output
    assert "changepassword" in output


# --- demo backend --------------------------------------------------------------------------------------


def test_demo_backend_lists_pets(client):
    response = client.get("/demo-backend/pets")
    assert response.status_code == 200
    assert response.json() == PETS


def test_demo_backend_returns_one_pet_or_a_json_404(client):
    assert client.get("/demo-backend/pets/2").json() == PETS[1]
    missing = client.get("/demo-backend/pets/42")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json"
    assert "42" in missing.json()["message"]


def test_demo_backend_echoes_other_requests_without_a_csrf_token():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/demo-backend/orders/7?expand=items&expand=customer",
        data=b'{"quantity": 2}',
        content_type="application/json",
        HTTP_X_TRACE="abc",
    )

    assert response.status_code == 200
    echoed = response.json()
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/demo-backend/orders/7"
    assert echoed["query"] == {"expand": ["items", "customer"]}
    assert echoed["headers"]["X-Trace"] == "abc"
    assert echoed["body"] == '{"quantity": 2}'
    assert echoed["isBase64Encoded"] is False
