"""Account-wide pages: custom domains with base path mappings, management access keys, the audit log."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apis import models as m
from apis import selectors
from apis.console.forms.account import AccessKeyForm, AuditFilterForm, BasePathMappingForm, DomainNameForm
from apis.console.permissions import Role, console_view
from apis.console.views.base import form_errors, message_errors, perform, posted
from apis.errors import NotFound
from apis.services import access, domains

AUDIT_PAGE_SIZE = 50


def _domain_target(domain: str, *parts: str) -> str:
    return "/".join([f"/domainnames/{domain}", *parts])


@console_view()
def domain_list(request: HttpRequest) -> HttpResponse:
    found = m.DomainName.objects.prefetch_related("mappings__rest_api").order_by("domain_name")
    return render(request, "console/domains/list.html", {"domains": found, "nav": "domains"})


@console_view(methods=("GET", "POST"), read=Role.ADMIN, write=Role.ADMIN)
def domain_create(request: HttpRequest) -> HttpResponse:
    form = DomainNameForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with form_errors(form, "domain_name"):
            domain = perform(
                request,
                "CreateDomainName",
                "/domainnames",
                lambda: domains.domain_name_create(
                    domain_name=data["domain_name"],
                    certificate_name=data["certificate_name"],
                    certificate_arn=data["certificate_arn"],
                    endpoint_configuration={"types": [data["endpoint_type"]]},
                    security_policy=data["security_policy"],
                ),
            )
            messages.success(request, f"Created custom domain {domain.domain_name}.")
            return redirect("console:domain", domain_name=domain.domain_name)
    return render(request, "console/domains/create.html", {"form": form, "nav": "domains"})


def _domain_page(request: HttpRequest, domain: m.DomainName, form: BasePathMappingForm | None = None) -> HttpResponse:
    context = {
        "nav": "domains",
        "domain": domain,
        "mappings": domain.mappings.select_related("rest_api"),
        "form": form or BasePathMappingForm(),
    }
    return render(request, "console/domains/detail.html", context)


@console_view(methods=("GET", "POST"), write=Role.ADMIN)
def domain_detail(request: HttpRequest, domain_name: str) -> HttpResponse:
    domain = selectors.domain_name_get(domain_name=domain_name)
    form = BasePathMappingForm(posted(request))
    if request.method == "POST" and form.is_valid():
        api_id, stage = form.target_parts()
        with form_errors(form, "base_path"):
            perform(
                request,
                "CreateBasePathMapping",
                _domain_target(domain.domain_name, "basepathmappings"),
                lambda: domains.base_path_mapping_create(
                    domain=domain, rest_api_id=api_id, base_path=form.cleaned_data["base_path"], stage=stage
                ),
            )
            messages.success(request, "Added the base path mapping.")
            return redirect("console:domain", domain_name=domain.domain_name)
    return _domain_page(request, domain, form if request.method == "POST" else None)


@console_view(methods=("POST",), write=Role.ADMIN)
def mapping_delete(request: HttpRequest, domain_name: str) -> HttpResponse:
    domain = selectors.domain_name_get(domain_name=domain_name)
    base_path = request.POST.get("base_path", "")
    mapping = selectors.base_path_mapping_get(domain=domain, base_path=base_path)
    with message_errors(request):
        perform(
            request,
            "DeleteBasePathMapping",
            _domain_target(domain.domain_name, "basepathmappings", mapping.base_path or "(none)"),
            lambda: domains.base_path_mapping_delete(mapping=mapping),
        )
        messages.success(request, f"Removed the mapping of /{mapping.base_path}.")
    return redirect("console:domain", domain_name=domain.domain_name)


@console_view(methods=("GET", "POST"), read=Role.ADMIN, write=Role.ADMIN)
def domain_delete(request: HttpRequest, domain_name: str) -> HttpResponse:
    domain = selectors.domain_name_get(domain_name=domain_name)
    if request.method == "POST":
        with message_errors(request):
            perform(
                request,
                "DeleteDomainName",
                _domain_target(domain.domain_name),
                lambda: domains.domain_name_delete(domain=domain),
            )
            messages.success(request, f"Deleted custom domain {domain.domain_name}.")
            return redirect("console:domains")
    context = {
        "nav": "domains",
        "title": f"Delete custom domain {domain.domain_name}",
        "consequences": ["The gateway stops answering for this host name, with all its base path mappings."],
        "cancel_url": reverse("console:domain", args=[domain.domain_name]),
    }
    return render(request, "console/confirm_delete.html", context)


def _visible_access_keys(request: HttpRequest):
    found = m.AccessKey.objects.select_related("user").order_by("-created_date")
    return found if request.console.is_admin else found.filter(user=request.user)


@console_view(methods=("GET", "POST"))
def access_keys(request: HttpRequest) -> HttpResponse:
    form = AccessKeyForm(posted(request))
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            key, secret = perform(
                request,
                "CreateAccessKey",
                "/console/access-keys",
                lambda: access.access_key_create(user=request.user, description=form.cleaned_data["description"]),
            )
            # The secret is shown on this response only; only an encrypted copy is kept for SigV4.
            context = {"nav": "access", "key": key, "secret": secret, "region": _region()}
            return render(request, "console/access/created.html", context)
    context = {"nav": "access", "form": form, "keys": _visible_access_keys(request)}
    return render(request, "console/access/list.html", context)


def _region() -> str:
    from django.conf import settings

    return settings.PORTICO_REGION


@console_view(methods=("POST",))
def access_key_delete(request: HttpRequest, access_key_id: str) -> HttpResponse:
    key = _visible_access_keys(request).filter(access_key_id=access_key_id).first()
    if key is None:
        raise NotFound("Invalid access key identifier specified")
    with message_errors(request):
        perform(
            request,
            "DeleteAccessKey",
            f"/console/access-keys/{key.access_key_id}",
            lambda: access.access_key_delete(key=key),
        )
        messages.success(request, f"Deleted access key {key.access_key_id}; clients signing with it now get 403.")
    return redirect("console:access_keys")


@console_view(read=Role.ADMIN)
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = selectors.audit_events(**form.selector_arguments())
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"nav": "audit", "form": form, "page": page, "query": query.urlencode()}
    return render(request, "console/audit/list.html", context)
