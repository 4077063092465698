"""Operations on custom domain names, base path mappings and tags."""

from __future__ import annotations

import re

from apis import models as m
from apis import selectors, shapes
from apis.aws_api.framework import Call, paginate
from apis.errors import BadRequest, NotFound
from apis.services import domains, tags


def _domain(call: Call) -> m.DomainName:
    return selectors.domain_name_get(domain_name=call.params["domain_name"])


def _domain_shape(domain: m.DomainName) -> dict:
    found = selectors.tags_for(resource_arn=shapes.domain_name_arn(domain.domain_name))
    return shapes.domain_name_shape(domain, tags=found or None)


def create_domain_name(call: Call) -> dict:
    domain = domains.domain_name_create(
        domain_name=call.text("domainName", required=True),
        certificate_name=call.text("certificateName"),
        certificate_arn=call.text("certificateArn"),
        regional_certificate_name=call.text("regionalCertificateName"),
        regional_certificate_arn=call.text("regionalCertificateArn"),
        endpoint_configuration=call.mapping("endpointConfiguration"),
        security_policy=call.field("securityPolicy", str),
        tags=call.mapping("tags"),
    )
    return _domain_shape(domain)


def get_domain_name(call: Call) -> dict:
    return _domain_shape(_domain(call))


def get_domain_names(call: Call) -> dict:
    return paginate(call, m.DomainName.objects.all(), _domain_shape)


def update_domain_name(call: Call) -> dict:
    return _domain_shape(domains.domain_name_update(domain=_domain(call), patch_operations=call.patch_operations()))


def delete_domain_name(call: Call) -> None:
    domains.domain_name_delete(domain=_domain(call))


def _mapping(call: Call) -> m.BasePathMapping:
    return selectors.base_path_mapping_get(domain=_domain(call), base_path=call.params["base_path"])


def create_base_path_mapping(call: Call) -> dict:
    mapping = domains.base_path_mapping_create(
        domain=_domain(call),
        rest_api_id=call.text("restApiId", required=True),
        base_path=call.field("basePath", str),
        stage=call.field("stage", str),
    )
    return shapes.base_path_mapping_shape(mapping)


def get_base_path_mapping(call: Call) -> dict:
    return shapes.base_path_mapping_shape(_mapping(call))


def get_base_path_mappings(call: Call) -> dict:
    return paginate(call, m.BasePathMapping.objects.filter(domain_name=_domain(call)), shapes.base_path_mapping_shape)


def update_base_path_mapping(call: Call) -> dict:
    mapping = domains.base_path_mapping_update(mapping=_mapping(call), patch_operations=call.patch_operations())
    return shapes.base_path_mapping_shape(mapping)


def delete_base_path_mapping(call: Call) -> None:
    domains.base_path_mapping_delete(mapping=_mapping(call))


# --- Tags ----------------------------------------------------------------------------------------------

TAGGABLE = re.compile(
    r"^arn:aws:apigateway:(?P<region>[^:]+)::/(?:restapis/(?P<api>[a-z0-9]+)(?:/stages/(?P<stage>[^/]+))?"
    r"|apikeys/(?P<key>[a-z0-9]+)|usageplans/(?P<plan>[a-z0-9]+)|domainnames/(?P<domain>[^/]+))$"
)


def _tagged_arn(call: Call) -> str:
    """Return the ARN of an existing taggable resource, or raise as AWS does."""
    resource_arn = call.params["resource_arn"]
    match = TAGGABLE.match(resource_arn)
    # Clients build ARNs from their own region; one Portico serves every region name.
    if match is None:
        raise BadRequest(f"Invalid ARN specified in the request: {resource_arn}")
    exists = (
        (match["stage"] and m.Stage.objects.filter(rest_api_id=match["api"], stage_name=match["stage"]).exists())
        or (match["api"] and not match["stage"] and m.RestApi.objects.filter(id=match["api"]).exists())
        or (match["key"] and m.ApiKey.objects.filter(id=match["key"]).exists())
        or (match["plan"] and m.UsagePlan.objects.filter(id=match["plan"]).exists())
        or (match["domain"] and m.DomainName.objects.filter(domain_name=match["domain"]).exists())
    )
    if not exists:
        raise NotFound("Invalid resource identifier specified")
    return resource_arn


def tag_resource(call: Call) -> None:
    found = call.mapping("tags")
    if not found:
        raise BadRequest("tags must be a non-empty map")
    tags.tags_add(resource_arn=_tagged_arn(call), tags=found)


def untag_resource(call: Call) -> None:
    keys = call.query.getlist("tagKeys")
    if not keys:
        raise BadRequest("tagKeys is required")
    tags.tags_remove(resource_arn=_tagged_arn(call), keys=keys)


def get_tags(call: Call) -> dict:
    return {"tags": selectors.tags_for(resource_arn=_tagged_arn(call))}
