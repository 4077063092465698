"""boto3 against the live management API: custom domain names, base path mappings and tags."""

from __future__ import annotations

import pytest

from apis.tests.aws_calls import all_pages, aws_error, build_pets_api, deploy_stage, status_of

ARN = "arn:aws:apigateway:us-east-1::"


@pytest.fixture
def prod(apigw):
    pets = build_pets_api(apigw)
    deploy_stage(apigw, pets.api_id, "prod")
    return pets


# --- Domain names --------------------------------------------------------------------------------------


def test_it_creates_reads_updates_and_deletes_a_domain_name(apigw):
    created = apigw.create_domain_name(
        domainName="api.example.com",
        certificateName="example",
        endpointConfiguration={"types": ["REGIONAL"]},
        securityPolicy="TLS_1_2",
    )

    assert status_of(created) == 201
    assert created["domainName"] == "api.example.com"
    assert created["domainNameStatus"] == "AVAILABLE"
    fetched = apigw.get_domain_name(domainName="api.example.com")
    assert status_of(fetched) == 200
    assert (fetched["certificateName"], fetched["endpointConfiguration"]) == ("example", {"types": ["REGIONAL"]})

    updated = apigw.update_domain_name(
        domainName="api.example.com",
        patchOperations=[
            {"op": "replace", "path": "/certificateName", "value": "renewed"},
            {"op": "replace", "path": "/securityPolicy", "value": "TLS_1_0"},
        ],
    )
    assert status_of(updated) == 200
    after = apigw.get_domain_name(domainName="api.example.com")
    assert (after["certificateName"], after["securityPolicy"]) == ("renewed", "TLS_1_0")

    assert status_of(apigw.delete_domain_name(domainName="api.example.com")) == 202
    with aws_error(404, "NotFoundException", "Invalid domain name identifier specified"):
        apigw.get_domain_name(domainName="api.example.com")


def test_it_pages_domain_names(apigw):
    names = [f"api{n}.example.com" for n in range(3)]
    for name in names:
        apigw.create_domain_name(domainName=name)

    items, pages = all_pages(apigw.get_domain_names)

    assert sorted(item["domainName"] for item in items) == names
    assert pages == 3


def test_it_refuses_duplicate_and_invalid_domain_names(apigw):
    apigw.create_domain_name(domainName="api.example.com")

    with aws_error(409, "ConflictException", "The domain name you provided already exists."):
        apigw.create_domain_name(domainName="api.example.com")
    with aws_error(400, "BadRequestException", "Invalid domain name specified"):
        apigw.create_domain_name(domainName="not a domain")
    with aws_error(400, "BadRequestException", "Invalid security policy specified"):
        apigw.create_domain_name(domainName="tls.example.com", securityPolicy="SSL_3")
    assert [d["domainName"] for d in apigw.get_domain_names()["items"]] == ["api.example.com"]


def test_an_invalid_domain_patch_changes_nothing(apigw):
    apigw.create_domain_name(domainName="api.example.com", certificateName="original")

    with aws_error(400, "BadRequestException", "Invalid security policy specified"):
        apigw.update_domain_name(
            domainName="api.example.com",
            patchOperations=[
                {"op": "replace", "path": "/certificateName", "value": "changed"},
                {"op": "replace", "path": "/securityPolicy", "value": "SSL_3"},
            ],
        )
    assert apigw.get_domain_name(domainName="api.example.com")["certificateName"] == "original"


# --- Base path mappings --------------------------------------------------------------------------------


def test_a_mapping_without_base_path_is_none(apigw, prod):
    apigw.create_domain_name(domainName="api.example.com")

    created = apigw.create_base_path_mapping(domainName="api.example.com", restApiId=prod.api_id, stage="prod")

    assert status_of(created) == 201
    assert created == {**created, "basePath": "(none)", "restApiId": prod.api_id, "stage": "prod"}
    fetched = apigw.get_base_path_mapping(domainName="api.example.com", basePath="(none)")
    assert status_of(fetched) == 200
    assert fetched["restApiId"] == prod.api_id
    assert status_of(apigw.delete_base_path_mapping(domainName="api.example.com", basePath="(none)")) == 202
    with aws_error(404, "NotFoundException", "Invalid base path mapping identifier specified"):
        apigw.get_base_path_mapping(domainName="api.example.com", basePath="(none)")


def test_it_maps_multi_level_base_paths(apigw, prod):
    apigw.create_domain_name(domainName="api.example.com")

    created = apigw.create_base_path_mapping(
        domainName="api.example.com", restApiId=prod.api_id, basePath="v2/orders", stage="prod"
    )
    apigw.create_base_path_mapping(domainName="api.example.com", restApiId=prod.api_id, basePath="v1", stage="prod")

    assert created["basePath"] == "v2/orders"
    fetched = apigw.get_base_path_mapping(domainName="api.example.com", basePath="v2/orders")
    assert (fetched["basePath"], fetched["stage"]) == ("v2/orders", "prod")
    listed = apigw.get_base_path_mappings(domainName="api.example.com")
    assert status_of(listed) == 200
    assert sorted(item["basePath"] for item in listed["items"]) == ["v1", "v2/orders"]

    updated = apigw.update_base_path_mapping(
        domainName="api.example.com",
        basePath="v2/orders",
        patchOperations=[{"op": "replace", "path": "/basePath", "value": "v3/orders/eu"}],
    )
    assert status_of(updated) == 200
    assert apigw.get_base_path_mapping(domainName="api.example.com", basePath="v3/orders/eu")["stage"] == "prod"
    with aws_error(404, "NotFoundException", "Invalid base path mapping identifier specified"):
        apigw.get_base_path_mapping(domainName="api.example.com", basePath="v2/orders")

    assert status_of(apigw.delete_base_path_mapping(domainName="api.example.com", basePath="v3/orders/eu")) == 202
    assert [item["basePath"] for item in apigw.get_base_path_mappings(domainName="api.example.com")["items"]] == ["v1"]


def test_it_moves_a_mapping_to_another_stage(apigw, prod):
    deploy_stage(apigw, prod.api_id, "beta")
    apigw.create_domain_name(domainName="api.example.com")
    apigw.create_base_path_mapping(domainName="api.example.com", restApiId=prod.api_id, basePath="pets", stage="prod")

    apigw.update_base_path_mapping(
        domainName="api.example.com",
        basePath="pets",
        patchOperations=[{"op": "replace", "path": "/stage", "value": "beta"}],
    )

    assert apigw.get_base_path_mapping(domainName="api.example.com", basePath="pets")["stage"] == "beta"
    with aws_error(400, "BadRequestException", "Invalid stage identifier specified"):
        apigw.update_base_path_mapping(
            domainName="api.example.com",
            basePath="pets",
            patchOperations=[{"op": "replace", "path": "/stage", "value": "nope"}],
        )
    assert apigw.get_base_path_mapping(domainName="api.example.com", basePath="pets")["stage"] == "beta"


def test_it_pages_base_path_mappings(apigw, prod):
    apigw.create_domain_name(domainName="api.example.com")
    for base_path in ("a", "b/c", "d"):
        apigw.create_base_path_mapping(domainName="api.example.com", restApiId=prod.api_id, basePath=base_path)

    items, pages = all_pages(apigw.get_base_path_mappings, domainName="api.example.com")

    assert sorted(item["basePath"] for item in items) == ["a", "b/c", "d"]
    assert pages == 3


def test_it_refuses_bad_mappings(apigw, prod):
    apigw.create_domain_name(domainName="api.example.com")
    apigw.create_base_path_mapping(domainName="api.example.com", restApiId=prod.api_id, basePath="pets", stage="prod")

    with aws_error(409, "ConflictException", "Base path already exists for this domain name"):
        apigw.create_base_path_mapping(domainName="api.example.com", restApiId=prod.api_id, basePath="pets")
    with aws_error(400, "BadRequestException", "Invalid REST API identifier specified"):
        apigw.create_base_path_mapping(domainName="api.example.com", restApiId="nosuchapi0", basePath="x")
    with aws_error(400, "BadRequestException", "Invalid stage identifier specified"):
        apigw.create_base_path_mapping(domainName="api.example.com", restApiId=prod.api_id, basePath="x", stage="no")
    with aws_error(400, "BadRequestException", "Invalid base path specified"):
        apigw.create_base_path_mapping(domainName="api.example.com", restApiId=prod.api_id, basePath="a b")
    with aws_error(404, "NotFoundException", "Invalid domain name identifier specified"):
        apigw.create_base_path_mapping(domainName="nope.example.com", restApiId=prod.api_id, basePath="x")
    assert [m["basePath"] for m in apigw.get_base_path_mappings(domainName="api.example.com")["items"]] == ["pets"]


def test_deleting_a_domain_deletes_its_mappings(apigw, prod):
    apigw.create_domain_name(domainName="api.example.com")
    apigw.create_base_path_mapping(domainName="api.example.com", restApiId=prod.api_id, stage="prod")

    apigw.delete_domain_name(domainName="api.example.com")
    apigw.create_domain_name(domainName="api.example.com")

    assert apigw.get_base_path_mappings(domainName="api.example.com")["items"] == []


# --- Tags ----------------------------------------------------------------------------------------------


@pytest.fixture
def taggable(apigw, prod) -> dict[str, str]:
    """The ARN of one resource of every taggable kind."""
    key = apigw.create_api_key(name="tagged")["id"]
    plan = apigw.create_usage_plan(name="tagged")["id"]
    apigw.create_domain_name(domainName="tagged.example.com")
    return {
        "restapi": f"{ARN}/restapis/{prod.api_id}",
        "stage": f"{ARN}/restapis/{prod.api_id}/stages/prod",
        "apikey": f"{ARN}/apikeys/{key}",
        "usageplan": f"{ARN}/usageplans/{plan}",
        "domainname": f"{ARN}/domainnames/tagged.example.com",
    }


@pytest.mark.parametrize("kind", ["restapi", "stage", "apikey", "usageplan", "domainname"])
def test_it_tags_and_untags_every_taggable_resource(apigw, taggable, kind):
    arn = taggable[kind]

    tagged = apigw.tag_resource(resourceArn=arn, tags={"team": "pets", "env": "prod", "cost": "42"})
    assert status_of(tagged) == 204
    assert apigw.get_tags(resourceArn=arn)["tags"] == {"team": "pets", "env": "prod", "cost": "42"}

    apigw.tag_resource(resourceArn=arn, tags={"env": "staging"})
    untagged = apigw.untag_resource(resourceArn=arn, tagKeys=["team", "cost", "never-set"])
    assert status_of(untagged) == 204

    fetched = apigw.get_tags(resourceArn=arn)
    assert status_of(fetched) == 200
    assert fetched["tags"] == {"env": "staging"}
    others = [other for name, other in taggable.items() if name != kind]
    assert all(apigw.get_tags(resourceArn=other).get("tags", {}) == {} for other in others)


def test_tags_given_at_creation_show_on_the_resource(apigw, prod):
    api = apigw.create_rest_api(name="tagged", tags={"a": "1"})
    deployment = apigw.create_deployment(restApiId=prod.api_id)["id"]
    stage = apigw.create_stage(restApiId=prod.api_id, stageName="tagged", deploymentId=deployment, tags={"b": "2"})
    key = apigw.create_api_key(name="tagged", tags={"c": "3"})
    plan = apigw.create_usage_plan(name="tagged", tags={"d": "4"})
    domain = apigw.create_domain_name(domainName="tagged.example.com", tags={"e": "5"})

    assert apigw.get_rest_api(restApiId=api["id"])["tags"] == {"a": "1"}
    assert apigw.get_stage(restApiId=prod.api_id, stageName=stage["stageName"])["tags"] == {"b": "2"}
    assert apigw.get_api_key(apiKey=key["id"])["tags"] == {"c": "3"}
    assert apigw.get_usage_plan(usagePlanId=plan["id"])["tags"] == {"d": "4"}
    assert apigw.get_domain_name(domainName=domain["domainName"])["tags"] == {"e": "5"}
    assert apigw.get_tags(resourceArn=f"{ARN}/apikeys/{key['id']}")["tags"] == {"c": "3"}


def test_tags_go_with_the_resource(apigw, taggable):
    apigw.tag_resource(resourceArn=taggable["apikey"], tags={"x": "1"})
    key_id = taggable["apikey"].rsplit("/", 1)[1]

    apigw.delete_api_key(apiKey=key_id)

    with aws_error(404, "NotFoundException", "Invalid resource identifier specified"):
        apigw.get_tags(resourceArn=taggable["apikey"])


def test_it_refuses_to_tag_unknown_or_invalid_arns(apigw, taggable):
    with aws_error(404, "NotFoundException", "Invalid resource identifier specified"):
        apigw.tag_resource(resourceArn=f"{ARN}/restapis/nosuchapi0", tags={"a": "b"})
    with aws_error(404, "NotFoundException", "Invalid resource identifier specified"):
        apigw.get_tags(resourceArn=f"{ARN}/restapis/nosuchapi0/stages/prod")
    with aws_error(400, "BadRequestException", "Invalid ARN specified in the request"):
        apigw.tag_resource(resourceArn="arn:aws:s3:::bucket", tags={"a": "b"})
    with aws_error(400, "BadRequestException", "Invalid tag key"):
        apigw.tag_resource(resourceArn=taggable["restapi"], tags={"aws:reserved": "b"})
    assert apigw.get_tags(resourceArn=taggable["restapi"]).get("tags", {}) == {}


def test_a_tag_request_over_the_limit_adds_nothing(apigw, taggable):
    apigw.tag_resource(resourceArn=taggable["usageplan"], tags={f"k{n}": "v" for n in range(45)})

    with aws_error(400, "BadRequestException", "at most 50 tags"):
        apigw.tag_resource(resourceArn=taggable["usageplan"], tags={f"new{n}": "v" for n in range(6)})

    assert len(apigw.get_tags(resourceArn=taggable["usageplan"])["tags"]) == 45


def test_it_accepts_tag_arns_built_in_any_region(live_web, credentials) -> None:
    from apis.tests.conftest import make_client

    client = make_client(live_web, credentials, region="eu-west-3")
    api = client.create_rest_api(name="regional")
    arn = f"arn:aws:apigateway:eu-west-3::/restapis/{api['id']}"
    client.tag_resource(resourceArn=arn, tags={"team": "payments"})
    assert client.get_tags(resourceArn=arn)["tags"] == {"team": "payments"}


def test_an_unknown_management_path_answers_in_aws_json(live_web, owner) -> None:
    import json
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(f"{live_web.url}/aws/no-such-thing/here")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
        assert exc.headers["x-amzn-ErrorType"] == "UnknownOperationException"
        assert json.loads(exc.read()) == {"message": "Unknown operation"}
    else:
        raise AssertionError("expected a 404")
