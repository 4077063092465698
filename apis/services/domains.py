"""Writes of custom domain names and their base path mappings."""

from __future__ import annotations

import re

from django.db import transaction

from apis import models as m
from apis.errors import BadRequest, Conflict
from apis.patching import PatchOp, apply_patch, route
from apis.services.runtime import runtime_config_bump
from apis.services.tags import tags_delete_all, tags_replace

DOMAIN = re.compile(r"^(?=.{1,253}$)(\*\.)?([a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z0-9\-]{1,63}$")
BASE_PATH = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")
SECURITY_POLICIES = {"TLS_1_0", "TLS_1_2"}


@transaction.atomic
def domain_name_create(
    *,
    domain_name: str,
    certificate_name: str = "",
    certificate_arn: str = "",
    regional_certificate_name: str = "",
    regional_certificate_arn: str = "",
    endpoint_configuration: dict | None = None,
    security_policy: str | None = None,
    tags: dict[str, str] | None = None,
) -> m.DomainName:
    """Register a custom domain name the gateway will answer for."""
    from apis.shapes import domain_name_arn

    name = (domain_name or "").strip().lower().rstrip(".")
    if not DOMAIN.match(name):
        raise BadRequest(f"Invalid domain name specified: {domain_name}")
    policy = security_policy or "TLS_1_2"
    if policy not in SECURITY_POLICIES:
        raise BadRequest(f"Invalid security policy specified: {security_policy}")
    if m.DomainName.objects.filter(domain_name=name).exists():
        raise Conflict("The domain name you provided already exists.")
    domain = m.DomainName.objects.create(
        domain_name=name,
        certificate_name=certificate_name or "",
        certificate_arn=certificate_arn or "",
        regional_certificate_name=regional_certificate_name or "",
        regional_certificate_arn=regional_certificate_arn or "",
        endpoint_configuration=endpoint_configuration or {"types": ["EDGE"]},
        security_policy=policy,
    )
    if tags:
        tags_replace(resource_arn=domain_name_arn(name), tags=tags)
    runtime_config_bump()
    return domain


@transaction.atomic
def domain_name_update(*, domain: m.DomainName, patch_operations: list[PatchOp]) -> m.DomainName:
    """Apply patch operations to a domain name's certificate and policy fields."""

    def text_attr(attr: str):
        def handler(op: PatchOp, _: dict) -> None:
            setattr(domain, attr, "" if op.op == "remove" else op.text)

        return handler

    def policy(op: PatchOp, _: dict) -> None:
        if op.text not in SECURITY_POLICIES:
            raise BadRequest(f"Invalid security policy specified: {op.text}")
        domain.security_policy = op.text

    apply_patch(
        patch_operations,
        [
            route("/certificateName", "replace", text_attr("certificate_name")),
            route("/certificateArn", "replace", text_attr("certificate_arn")),
            route("/regionalCertificateName", "replace", text_attr("regional_certificate_name")),
            route("/regionalCertificateArn", "replace", text_attr("regional_certificate_arn")),
            route("/securityPolicy", "replace", policy),
        ],
    )
    domain.save()
    return domain


@transaction.atomic
def domain_name_delete(*, domain: m.DomainName) -> None:
    """Delete a domain name and its mappings."""
    from apis.shapes import domain_name_arn

    tags_delete_all(resource_arn=domain_name_arn(domain.domain_name))
    domain.delete()
    runtime_config_bump()


def _normalise_base_path(base_path: str | None) -> str:
    path = (base_path or "").strip().strip("/")
    if path in {"", "(none)"}:
        return ""
    if not BASE_PATH.match(path):
        raise BadRequest(f"Invalid base path specified: {base_path}")
    return path


def _check_target(rest_api_id: str, stage: str) -> None:
    if not m.RestApi.objects.filter(id=rest_api_id).exists():
        raise BadRequest("Invalid REST API identifier specified")
    if stage and not m.Stage.objects.filter(rest_api_id=rest_api_id, stage_name=stage).exists():
        raise BadRequest("Invalid stage identifier specified")


@transaction.atomic
def base_path_mapping_create(
    *, domain: m.DomainName, rest_api_id: str, base_path: str | None = None, stage: str | None = None
) -> m.BasePathMapping:
    """Map a base path of a domain name to an API stage."""
    path = _normalise_base_path(base_path)
    _check_target(rest_api_id, stage or "")
    if m.BasePathMapping.objects.filter(domain_name=domain, base_path=path).exists():
        raise Conflict("Base path already exists for this domain name")
    mapping = m.BasePathMapping.objects.create(
        domain_name=domain, base_path=path, rest_api_id=rest_api_id, stage=stage or ""
    )
    runtime_config_bump()
    return mapping


@transaction.atomic
def base_path_mapping_update(*, mapping: m.BasePathMapping, patch_operations: list[PatchOp]) -> m.BasePathMapping:
    """Apply patch operations to a base path mapping."""

    def base_path(op: PatchOp, _: dict) -> None:
        mapping.base_path = _normalise_base_path(op.text)

    def rest_api(op: PatchOp, _: dict) -> None:
        mapping.rest_api_id = op.text

    def stage(op: PatchOp, _: dict) -> None:
        mapping.stage = "" if op.op == "remove" else op.text

    apply_patch(
        patch_operations,
        [
            route("/basePath", "replace", base_path),
            route("/restapiId", "replace", rest_api),
            route("/stage", "replace remove", stage),
        ],
    )
    _check_target(mapping.rest_api_id, mapping.stage)
    clash = m.BasePathMapping.objects.filter(domain_name=mapping.domain_name, base_path=mapping.base_path)
    if clash.exclude(pk=mapping.pk).exists():
        raise Conflict("Base path already exists for this domain name")
    mapping.save()
    runtime_config_bump()
    return mapping


@transaction.atomic
def base_path_mapping_delete(*, mapping: m.BasePathMapping) -> None:
    """Delete a base path mapping."""
    mapping.delete()
    runtime_config_bump()
