"""boto3 against the live management API: API keys, key imports, usage plans and usage plan keys."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.apps import apps
from django.db import models

from apis import models as m
from apis.tests.aws_calls import all_pages, aws_error, build_pets_api, deploy_stage, raw_call, status_of

VALUE = "k" * 19 + "-value-of-the-key"


@pytest.fixture
def prod(apigw):
    """An API deployed to a `prod` stage, for usage plans to cover."""
    pets = build_pets_api(apigw)
    deploy_stage(apigw, pets.api_id, "prod")
    return pets


# --- API keys ------------------------------------------------------------------------------------------


def test_it_creates_reads_updates_and_deletes_an_api_key(apigw):
    created = apigw.create_api_key(name="partner", description="a partner", enabled=True, customerId="cust-1")

    assert status_of(created) == 201
    assert len(created["value"]) >= 20
    assert (created["name"], created["enabled"], created["customerId"]) == ("partner", True, "cust-1")
    fetched = apigw.get_api_key(apiKey=created["id"])
    assert status_of(fetched) == 200
    assert "value" not in fetched
    assert apigw.get_api_key(apiKey=created["id"], includeValue=True)["value"] == created["value"]

    updated = apigw.update_api_key(
        apiKey=created["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "replace", "path": "/enabled", "value": "false"},
            {"op": "replace", "path": "/description", "value": "former partner"},
            {"op": "replace", "path": "/customerId", "value": "cust-2"},
        ],
    )
    assert status_of(updated) == 200
    after = apigw.get_api_key(apiKey=created["id"])
    assert (after["name"], after["enabled"], after["description"], after["customerId"]) == (
        "renamed",
        False,
        "former partner",
        "cust-2",
    )

    assert status_of(apigw.delete_api_key(apiKey=created["id"])) == 202
    with aws_error(404, "NotFoundException", "Invalid API Key identifier specified"):
        apigw.get_api_key(apiKey=created["id"])


def test_a_new_key_is_disabled_unless_asked_and_keeps_a_given_value(apigw):
    created = apigw.create_api_key(name="given", value=VALUE)

    assert created["value"] == VALUE
    assert created["enabled"] is False


def test_it_adds_and_removes_stage_keys(apigw, prod):
    key = apigw.create_api_key(name="staged", stageKeys=[{"restApiId": prod.api_id, "stageName": "prod"}])
    assert key["stageKeys"] == [f"{prod.api_id}/prod"]

    apigw.update_api_key(
        apiKey=key["id"], patchOperations=[{"op": "remove", "path": "/stages", "value": f"{prod.api_id}/prod"}]
    )
    assert "stageKeys" not in apigw.get_api_key(apiKey=key["id"])

    with aws_error(400, "BadRequestException", "Invalid stage key"):
        apigw.update_api_key(
            apiKey=key["id"], patchOperations=[{"op": "add", "path": "/stages", "value": f"{prod.api_id}/nope"}]
        )


def test_it_lists_keys_with_values_only_when_asked(apigw):
    values = {apigw.create_api_key(name=f"key-{n}")["value"] for n in range(2)}

    without = apigw.get_api_keys()
    with_values = apigw.get_api_keys(includeValues=True)

    assert status_of(without) == 200
    assert all("value" not in item for item in without["items"])
    assert {item["value"] for item in with_values["items"]} == values


def test_it_pages_api_keys_one_at_a_time(apigw):
    ids = {apigw.create_api_key(name=f"key-{n}")["id"] for n in range(3)}

    items, pages = all_pages(apigw.get_api_keys)

    assert sorted(item["id"] for item in items) == sorted(ids)
    assert pages == 3


def test_it_filters_keys_by_name_and_customer(apigw):
    alpha = apigw.create_api_key(name="alpha-mobile", customerId="acme")
    apigw.create_api_key(name="alpha-web", customerId="globex")
    apigw.create_api_key(name="beta-web", customerId="acme")

    by_name = apigw.get_api_keys(nameQuery="alpha")
    by_customer = apigw.get_api_keys(customerId="acme")
    by_both = apigw.get_api_keys(nameQuery="alpha", customerId="acme")

    assert sorted(k["name"] for k in by_name["items"]) == ["alpha-mobile", "alpha-web"]
    assert sorted(k["name"] for k in by_customer["items"]) == ["alpha-mobile", "beta-web"]
    assert [k["id"] for k in by_both["items"]] == [alpha["id"]]


@pytest.mark.parametrize("value", ["x" * 19, "x" * 129, "has a space in it 1234", "tab\tinside-the-value-123"])
def test_it_rejects_a_key_value_of_the_wrong_shape(apigw, value):
    with aws_error(400, "BadRequestException", "API Key value"):
        apigw.create_api_key(name="bad", value=value)
    assert apigw.get_api_keys()["items"] == []


@pytest.mark.parametrize("length", [20, 128])
def test_it_accepts_key_values_at_the_length_limits(apigw, length):
    value = ("abc123XYZ" * 20)[:length]

    created = apigw.create_api_key(name="edge", value=value)

    assert apigw.get_api_key(apiKey=created["id"], includeValue=True)["value"] == value


def test_it_answers_409_for_a_duplicate_key_value(apigw):
    apigw.create_api_key(name="first", value=VALUE)

    with aws_error(409, "ConflictException", "API Key already exists"):
        apigw.create_api_key(name="second", value=VALUE)
    assert [k["name"] for k in apigw.get_api_keys()["items"]] == ["first"]


def test_an_unknown_key_patch_path_changes_nothing(apigw):
    key = apigw.create_api_key(name="stable", enabled=True)

    with aws_error(400, "BadRequestException", "Invalid patch path"):
        apigw.update_api_key(
            apiKey=key["id"],
            patchOperations=[
                {"op": "replace", "path": "/enabled", "value": "false"},
                {"op": "replace", "path": "/value", "value": VALUE},
            ],
        )
    assert apigw.get_api_key(apiKey=key["id"])["enabled"] is True


def test_it_answers_404_for_an_unknown_key(apigw):
    message = "Invalid API Key identifier specified"
    with aws_error(404, "NotFoundException", message):
        apigw.get_api_key(apiKey="nosuchkey0")
    with aws_error(404, "NotFoundException", message):
        apigw.update_api_key(apiKey="nosuchkey0", patchOperations=[{"op": "replace", "path": "/name", "value": "x"}])
    with aws_error(404, "NotFoundException", message):
        apigw.delete_api_key(apiKey="nosuchkey0")


def _text_columns_of_every_control_plane_table() -> str:
    dumped = []
    for model in apps.get_app_config("apis").get_models():
        text = (models.CharField, models.TextField, models.JSONField)
        names = [f.attname for f in model._meta.concrete_fields if isinstance(f, text)]
        if not names:
            continue
        for row in model.objects.values_list(*names):
            dumped.extend(json.dumps(cell) if not isinstance(cell, str) else cell for cell in row)
    return "\n".join(dumped)


def test_no_plaintext_key_value_is_stored(apigw):
    plan = apigw.create_usage_plan(name="basic")
    given = apigw.create_api_key(name="given", value=VALUE, enabled=True)["value"]
    generated = apigw.create_api_key(name="generated")["value"]
    imported_value = "imported-key-value-0123456789"
    csv = f"name,key,description,enabled,usageplanIds\nimported,{imported_value},from csv,true,{plan['id']}\n"
    assert apigw.import_api_keys(body=csv.encode(), format="csv")["ids"]
    with aws_error(409, "ConflictException"):
        apigw.create_api_key(name="rejected", value=VALUE)  # failures are audited; the value must not be
    stored = _text_columns_of_every_control_plane_table()
    key_columns = [
        value
        for row in m.ApiKey.objects.values_list("name", "description", "customer_id", "value_digest", "value_encrypted")
        for value in row
    ]

    for value in (given, generated, imported_value):
        assert value not in stored
        assert all(value not in column for column in key_columns)
    assert m.ApiKey.objects.count() == 3


# --- ImportApiKeys -------------------------------------------------------------------------------------


def test_it_imports_keys_from_csv(apigw):
    plan = apigw.create_usage_plan(name="imported")
    csv = (
        "Name,key,description,Enabled,usageplanIds\n"
        f"one,first-imported-key-value-000,first,true,{plan['id']}\n"
        "two,second-imported-key-value-00,second,false,\n"
    )

    imported = apigw.import_api_keys(body=csv.encode(), format="csv")

    assert status_of(imported) == 201
    assert len(imported["ids"]) == 2
    assert imported.get("warnings", []) == []
    keys = {k["name"]: k for k in apigw.get_api_keys(includeValues=True)["items"]}
    assert keys["one"]["value"] == "first-imported-key-value-000"
    assert (keys["one"]["enabled"], keys["two"]["enabled"]) == (True, False)
    assert [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [keys["one"]["id"]]


def test_an_import_warns_about_bad_lines_and_keeps_the_good_ones(apigw):
    csv = "name,key\ngood,good-imported-key-value-00\nshort,tooshort\n"

    imported = apigw.import_api_keys(body=csv.encode(), format="csv")

    assert len(imported["ids"]) == 1
    assert len(imported["warnings"]) == 1 and "Line 3" in imported["warnings"][0]
    assert [k["name"] for k in apigw.get_api_keys()["items"]] == ["good"]


def test_an_import_that_fails_on_warnings_creates_nothing(apigw):
    csv = "name,key,usageplanIds\ngood,good-imported-key-value-00,\nbad,bad-imported-key-value-000,nosuch\n"

    with aws_error(400, "BadRequestException", "Invalid Usage Plan ID specified"):
        apigw.import_api_keys(body=csv.encode(), format="csv", failOnWarnings=True)

    assert apigw.get_api_keys()["items"] == []


def test_an_import_without_a_key_column_is_rejected(apigw):
    with aws_error(400, "BadRequestException", "a 'key' column is required"):
        apigw.import_api_keys(body=b"name,description\nx,y\n", format="csv")


# --- Usage plans ---------------------------------------------------------------------------------------


def test_it_creates_reads_and_deletes_a_usage_plan(apigw, prod):
    created = apigw.create_usage_plan(
        name="gold",
        description="for partners",
        apiStages=[
            {"apiId": prod.api_id, "stage": "prod", "throttle": {"/pets/GET": {"burstLimit": 5, "rateLimit": 2.5}}}
        ],
        throttle={"burstLimit": 100, "rateLimit": 50.0},
        quota={"limit": 10000, "offset": 1, "period": "MONTH"},
        tags={"tier": "gold"},
    )

    assert status_of(created) == 201
    fetched = apigw.get_usage_plan(usagePlanId=created["id"])
    assert status_of(fetched) == 200
    assert fetched["apiStages"] == [
        {"apiId": prod.api_id, "stage": "prod", "throttle": {"/pets/GET": {"burstLimit": 5, "rateLimit": 2.5}}}
    ]
    assert fetched["throttle"] == {"burstLimit": 100, "rateLimit": 50.0}
    assert fetched["quota"] == {"limit": 10000, "offset": 1, "period": "MONTH"}
    assert fetched["tags"] == {"tier": "gold"}

    assert status_of(apigw.delete_usage_plan(usagePlanId=created["id"])) == 202
    with aws_error(404, "NotFoundException", "Invalid Usage Plan ID specified"):
        apigw.get_usage_plan(usagePlanId=created["id"])


def test_it_patches_a_usage_plan(apigw, prod):
    other = build_pets_api(apigw, name="other")
    deploy_stage(apigw, other.api_id, "live")
    plan = apigw.create_usage_plan(
        name="silver", apiStages=[{"apiId": prod.api_id, "stage": "prod"}], quota={"limit": 100, "period": "DAY"}
    )

    patched = apigw.update_usage_plan(
        usagePlanId=plan["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "platinum"},
            {"op": "replace", "path": "/throttle/rateLimit", "value": "20"},
            {"op": "replace", "path": "/throttle/burstLimit", "value": "40"},
            {"op": "replace", "path": "/quota/limit", "value": "500"},
            {"op": "replace", "path": "/quota/period", "value": "WEEK"},
            {"op": "add", "path": "/apiStages", "value": f"{other.api_id}:live"},
            {"op": "remove", "path": "/apiStages", "value": f"{prod.api_id}:prod"},
            {"op": "replace", "path": f"/apiStages/{other.api_id}:live/throttle/~1pets/GET/rateLimit", "value": "3"},
        ],
    )

    assert status_of(patched) == 200
    fetched = apigw.get_usage_plan(usagePlanId=plan["id"])
    assert fetched["name"] == "platinum"
    assert fetched["throttle"] == {"rateLimit": 20.0, "burstLimit": 40}
    assert fetched["quota"] == {"limit": 500, "offset": 0, "period": "WEEK"}
    assert fetched["apiStages"] == [
        {"apiId": other.api_id, "stage": "live", "throttle": {"/pets/GET": {"rateLimit": 3.0}}}
    ]

    apigw.update_usage_plan(
        usagePlanId=plan["id"],
        patchOperations=[{"op": "remove", "path": "/throttle"}, {"op": "remove", "path": "/quota"}],
    )
    cleared = apigw.get_usage_plan(usagePlanId=plan["id"])
    assert "throttle" not in cleared and "quota" not in cleared


def test_a_plan_patch_with_one_bad_operation_changes_nothing(apigw, prod):
    plan = apigw.create_usage_plan(name="bronze", quota={"limit": 10, "period": "DAY"})

    with aws_error(400, "BadRequestException", "Quota period must be one of DAY, WEEK or MONTH"):
        apigw.update_usage_plan(
            usagePlanId=plan["id"],
            patchOperations=[
                {"op": "add", "path": "/apiStages", "value": f"{prod.api_id}:prod"},
                {"op": "replace", "path": "/name", "value": "changed"},
                {"op": "replace", "path": "/quota/period", "value": "YEAR"},
            ],
        )

    fetched = apigw.get_usage_plan(usagePlanId=plan["id"])
    assert fetched["name"] == "bronze"
    assert "apiStages" not in fetched
    assert fetched["quota"] == {"limit": 10, "offset": 0, "period": "DAY"}


def test_a_plan_with_an_unknown_api_stage_is_not_created(apigw, prod):
    with aws_error(400, "BadRequestException", "Invalid API Stage"):
        apigw.create_usage_plan(
            name="broken",
            apiStages=[{"apiId": prod.api_id, "stage": "prod"}, {"apiId": prod.api_id, "stage": "nope"}],
            tags={"doomed": "yes"},
        )

    assert apigw.get_usage_plans()["items"] == []
    assert not m.UsagePlan.objects.exists() and not m.UsagePlanStage.objects.exists() and not m.Tag.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quota": {"limit": 0, "period": "DAY"}}, "Quota limit must be greater than 0"),
        ({"quota": {"limit": 5, "period": "DAY", "offset": 1}}, "Quota offset for period DAY"),
        ({"throttle": {"burstLimit": -1}}, "Throttle limits must not be negative"),
    ],
)
def test_it_rejects_invalid_limits(apigw, kwargs, message):
    with aws_error(400, "BadRequestException", message):
        apigw.create_usage_plan(name="bad", **kwargs)
    assert apigw.get_usage_plans()["items"] == []


def test_it_pages_usage_plans_and_filters_them_by_key(apigw):
    plans = [apigw.create_usage_plan(name=f"plan-{n}")["id"] for n in range(3)]
    key = apigw.create_api_key(name="member")["id"]
    apigw.create_usage_plan_key(usagePlanId=plans[1], keyId=key, keyType="API_KEY")

    items, pages = all_pages(apigw.get_usage_plans)
    by_key = apigw.get_usage_plans(keyId=key)

    assert sorted(item["id"] for item in items) == sorted(plans)
    assert pages == 3
    assert [p["id"] for p in by_key["items"]] == [plans[1]]


def test_it_answers_404_for_an_unknown_plan(apigw):
    message = "Invalid Usage Plan ID specified"
    with aws_error(404, "NotFoundException", message):
        apigw.get_usage_plan(usagePlanId="nosuch")
    with aws_error(404, "NotFoundException", message):
        apigw.update_usage_plan(
            usagePlanId="nosuch", patchOperations=[{"op": "replace", "path": "/name", "value": "x"}]
        )
    with aws_error(404, "NotFoundException", message):
        apigw.delete_usage_plan(usagePlanId="nosuch")
    with aws_error(404, "NotFoundException", message):
        apigw.get_usage_plan_keys(usagePlanId="nosuch")


# --- Usage plan keys -----------------------------------------------------------------------------------


def test_it_links_reads_pages_and_unlinks_usage_plan_keys(apigw):
    plan = apigw.create_usage_plan(name="linked")["id"]
    keys = [apigw.create_api_key(name=f"key-{n}")["id"] for n in range(3)]

    created = apigw.create_usage_plan_key(usagePlanId=plan, keyId=keys[0], keyType="API_KEY")
    assert status_of(created) == 201
    assert (created["id"], created["type"], created["name"]) == (keys[0], "API_KEY", "key-0")
    for key in keys[1:]:
        apigw.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")

    fetched = apigw.get_usage_plan_key(usagePlanId=plan, keyId=keys[1])
    assert status_of(fetched) == 200
    assert fetched["name"] == "key-1"
    items, pages = all_pages(apigw.get_usage_plan_keys, usagePlanId=plan)
    assert sorted(item["id"] for item in items) == sorted(keys)
    assert pages == 3

    assert status_of(apigw.delete_usage_plan_key(usagePlanId=plan, keyId=keys[0])) == 202
    with aws_error(404, "NotFoundException", "Invalid API Key identifier specified"):
        apigw.get_usage_plan_key(usagePlanId=plan, keyId=keys[0])
    assert apigw.get_api_key(apiKey=keys[0])["id"] == keys[0]


def test_it_refuses_duplicate_and_unknown_plan_keys(apigw):
    plan = apigw.create_usage_plan(name="linked")["id"]
    key = apigw.create_api_key(name="member")["id"]
    apigw.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")

    with aws_error(409, "ConflictException"):
        apigw.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")
    with aws_error(404, "NotFoundException", "Invalid API Key identifier specified"):
        apigw.create_usage_plan_key(usagePlanId=plan, keyId="nosuchkey0", keyType="API_KEY")
    assert len(apigw.get_usage_plan_keys(usagePlanId=plan)["items"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "p", "apiStages": [{"apiId": "x", "stage": "y", "throttle": ["/pets/GET"]}]}',
        b'{"name": "p", "apiStages": ["x:y"]}',
        b'{"name": "p", "throttle": {"rateLimit": "fast"}}',
        b'{"name": "p", "quota": {"limit": "many", "period": "DAY"}}',
    ],
)
def test_it_answers_400_for_plan_fields_of_the_wrong_type(live_web, credentials, apigw, prod, body):
    body = body.replace(b'"apiId": "x", "stage": "y"', f'"apiId": "{prod.api_id}", "stage": "prod"'.encode())

    response = raw_call(live_web.url, "POST", "/usageplans", credentials=credentials, body=body)

    assert response.status == 400, response.body
    assert response.error_type == "BadRequestException"
    assert apigw.get_usage_plans()["items"] == []


# --- Usage ---------------------------------------------------------------------------------------------


@pytest.fixture
def metered(apigw):
    """A usage plan with a daily quota of 100 and one key in it."""
    plan = apigw.create_usage_plan(name="metered", quota={"limit": 100, "period": "DAY"})["id"]
    key = apigw.create_api_key(name="metered", enabled=True)["id"]
    apigw.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")
    return plan, key


def test_it_reports_daily_usage_of_every_key_in_a_plan(apigw, metered):
    plan, key = metered
    today = dt.datetime.now(dt.UTC).date()

    usage = apigw.get_usage(
        usagePlanId=plan, startDate=(today - dt.timedelta(days=1)).isoformat(), endDate=today.isoformat()
    )

    assert status_of(usage) == 200
    assert (usage["usagePlanId"], usage["startDate"], usage["endDate"]) == (
        plan,
        (today - dt.timedelta(days=1)).isoformat(),
        today.isoformat(),
    )
    assert usage["items"] == {key: [[0, 100], [0, 100]]}
    with aws_error(400, "BadRequestException", "The end date must not be before the start date"):
        apigw.get_usage(usagePlanId=plan, startDate=today.isoformat(), endDate="2000-01-01")
    with aws_error(404, "NotFoundException", "Invalid Usage Plan ID specified"):
        apigw.get_usage(usagePlanId="nosuch", startDate=today.isoformat(), endDate=today.isoformat())


def test_it_sets_what_is_left_of_a_keys_quota(apigw, metered):
    plan, key = metered

    usage = apigw.update_usage(
        usagePlanId=plan, keyId=key, patchOperations=[{"op": "replace", "path": "/remaining", "value": "40"}]
    )

    assert status_of(usage) == 200
    # `used` is what was really counted (nothing yet); `remaining` is what the patch set.
    assert usage["items"] == {key: [[0, 40]]}
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert apigw.get_usage(usagePlanId=plan, startDate=today, endDate=today)["items"] == {key: [[0, 40]]}
    with aws_error(400, "BadRequestException", "The remaining quota must not be negative"):
        apigw.update_usage(
            usagePlanId=plan, keyId=key, patchOperations=[{"op": "replace", "path": "/remaining", "value": "-1"}]
        )
    unlimited = apigw.create_usage_plan(name="unlimited")["id"]
    apigw.create_usage_plan_key(usagePlanId=unlimited, keyId=key, keyType="API_KEY")
    with aws_error(400, "BadRequestException", "has no quota"):
        apigw.update_usage(
            usagePlanId=unlimited, keyId=key, patchOperations=[{"op": "replace", "path": "/remaining", "value": "1"}]
        )
