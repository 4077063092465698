"""The method editor: method request, integration request, method responses and integration responses."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apis import models as m
from apis import selectors
from apis.console.forms.design import (
    IntegrationForm,
    IntegrationResponseForm,
    MethodRequestForm,
    MethodResponseForm,
)
from apis.console.permissions import console_view
from apis.console.views.base import api_target, form_errors, message_errors, perform, posted
from apis.errors import NotFound
from apis.services import design


def _load(api_id: str, resource_id: str, http_method: str) -> tuple[m.RestApi, m.Resource, m.Method]:
    api = selectors.rest_api_get(api_id=api_id)
    resource = selectors.resource_get(api=api, resource_id=resource_id)
    return api, resource, selectors.method_get(resource=resource, http_method=http_method)


def _integration(method: m.Method) -> m.Integration | None:
    try:
        return selectors.integration_get(method=method)
    except NotFound:
        return None


def _target(api: m.RestApi, resource: m.Resource, method: m.Method, *parts: Any) -> str:
    return api_target(api.id, "resources", resource.id, "methods", method.http_method, *parts)


def _context(api: m.RestApi, resource: m.Resource, method: m.Method, section: str, **extra: Any) -> dict[str, Any]:
    return {
        "api": api,
        "tab": "resources",
        "resource": resource,
        "method": method,
        "integration": _integration(method),
        "section": section,
        **extra,
    }


def _to_method(api: m.RestApi, resource: m.Resource, method: m.Method, view: str = "console:method") -> HttpResponse:
    return redirect(view, api_id=api.id, resource_id=resource.id, http_method=method.http_method)


@console_view(methods=("GET", "POST"))
def method_request(request: HttpRequest, api_id: str, resource_id: str, http_method: str) -> HttpResponse:
    api, resource, method = _load(api_id, resource_id, http_method)
    form = MethodRequestForm.for_method(method, posted(request))
    if request.method == "POST" and form.is_valid():
        ops = form.patch_operations()
        with form_errors(form):
            if ops:
                perform(
                    request,
                    "UpdateMethod",
                    _target(api, resource, method),
                    lambda: design.method_update(method=method, patch_operations=ops),
                )
            messages.success(request, "Method request saved." if ops else "Nothing changed.")
            return _to_method(api, resource, method)
    return render(request, "console/designer/method.html", _context(api, resource, method, "request", form=form))


@console_view(methods=("POST",))
def method_delete(request: HttpRequest, api_id: str, resource_id: str, http_method: str) -> HttpResponse:
    api, resource, method = _load(api_id, resource_id, http_method)
    with message_errors(request):
        perform(request, "DeleteMethod", _target(api, resource, method), lambda: design.method_delete(method=method))
        messages.success(request, f"Deleted {method.http_method} {resource.path}.")
        return redirect("console:resource", api_id=api.id, resource_id=resource.id)
    return _to_method(api, resource, method)


@console_view(methods=("GET", "POST"))
def integration_request(request: HttpRequest, api_id: str, resource_id: str, http_method: str) -> HttpResponse:
    api, resource, method = _load(api_id, resource_id, http_method)
    integration = _integration(method)
    form = IntegrationForm.for_integration(integration, posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with form_errors(form):
            if integration is None:
                perform(
                    request,
                    "PutIntegration",
                    _target(api, resource, method, "integration"),
                    lambda: design.integration_put(
                        method=method,
                        type=data["type"],
                        http_method=data["http_method"],
                        uri=data["uri"],
                        request_parameters=data["request_parameters"],
                        request_templates=data["request_templates"],
                        passthrough_behavior=data["passthrough_behavior"],
                        content_handling=data["content_handling"],
                        timeout_in_millis=data["timeout_in_millis"],
                    ),
                )
            elif ops := form.patch_operations():
                perform(
                    request,
                    "UpdateIntegration",
                    _target(api, resource, method, "integration"),
                    lambda: design.integration_update(integration=integration, patch_operations=ops),
                )
            messages.success(request, "Integration request saved.")
            return _to_method(api, resource, method, "console:integration")
    return render(
        request, "console/designer/integration.html", _context(api, resource, method, "integration", form=form)
    )


def _method_response_form(response: m.MethodResponse | None, data: Any = None) -> MethodResponseForm:
    initial = {"status_code": "200", "response_parameters": {}, "response_models": {}}
    if response is not None:
        initial = {
            "status_code": response.status_code,
            "response_parameters": dict(response.response_parameters),
            "response_models": dict(response.response_models),
        }
    form = MethodResponseForm(data, initial=initial)
    if response is not None:
        form.fields["status_code"].disabled = True
    return form


@console_view(methods=("GET", "POST"))
def method_responses(request: HttpRequest, api_id: str, resource_id: str, http_method: str) -> HttpResponse:
    api, resource, method = _load(api_id, resource_id, http_method)
    form = _method_response_form(None, posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with form_errors(form):
            perform(
                request,
                "PutMethodResponse",
                _target(api, resource, method, "responses", data["status_code"]),
                lambda: design.method_response_put(
                    method=method,
                    status_code=data["status_code"],
                    response_parameters=data["response_parameters"],
                    response_models=data["response_models"],
                ),
            )
            messages.success(request, f"Added method response {data['status_code']}.")
            return _to_method(api, resource, method, "console:method_responses")
    context = _context(api, resource, method, "method_responses", form=form, responses=method.method_responses.all())
    return render(request, "console/designer/method_responses.html", context)


@console_view(methods=("GET", "POST"))
def method_response(
    request: HttpRequest, api_id: str, resource_id: str, http_method: str, status_code: str
) -> HttpResponse:
    api, resource, method = _load(api_id, resource_id, http_method)
    response = selectors.method_response_get(method=method, status_code=status_code)
    form = _method_response_form(response, posted(request))
    if request.method == "POST" and form.is_valid():
        ops = form.patch_operations()
        with form_errors(form):
            if ops:
                perform(
                    request,
                    "UpdateMethodResponse",
                    _target(api, resource, method, "responses", status_code),
                    lambda: design.method_response_update(response=response, patch_operations=ops),
                )
            messages.success(request, f"Method response {status_code} saved.")
            return _to_method(api, resource, method, "console:method_responses")
    context = _context(api, resource, method, "method_responses", form=form, response=response, kind="method")
    return render(request, "console/designer/response_edit.html", context)


@console_view(methods=("POST",))
def method_response_delete(
    request: HttpRequest, api_id: str, resource_id: str, http_method: str, status_code: str
) -> HttpResponse:
    api, resource, method = _load(api_id, resource_id, http_method)
    response = selectors.method_response_get(method=method, status_code=status_code)
    with message_errors(request):
        perform(
            request,
            "DeleteMethodResponse",
            _target(api, resource, method, "responses", status_code),
            lambda: design.method_response_delete(response=response),
        )
        messages.success(request, f"Deleted method response {status_code}.")
    return _to_method(api, resource, method, "console:method_responses")


def _integration_response_form(
    method: m.Method, response: m.IntegrationResponse | None, data: Any = None
) -> IntegrationResponseForm:
    statuses = [r.status_code for r in method.method_responses.all()]
    initial: dict[str, Any] = {
        "status_code": statuses[0] if statuses else "",
        "selection_pattern": "",
        "content_handling": "",
        "response_parameters": {},
        "response_templates": {},
    }
    if response is not None:
        initial = {
            "status_code": response.status_code,
            "selection_pattern": response.selection_pattern or "",
            "content_handling": response.content_handling,
            "response_parameters": dict(response.response_parameters),
            "response_templates": dict(response.response_templates),
        }
    form = IntegrationResponseForm(data, initial=initial, statuses=statuses or [initial["status_code"]])
    if response is not None:
        form.fields["status_code"].disabled = True
    return form


@console_view(methods=("GET", "POST"))
def integration_responses(request: HttpRequest, api_id: str, resource_id: str, http_method: str) -> HttpResponse:
    api, resource, method = _load(api_id, resource_id, http_method)
    integration = selectors.integration_get(method=method)
    form = _integration_response_form(method, None, posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with form_errors(form):
            perform(
                request,
                "PutIntegrationResponse",
                _target(api, resource, method, "integration", "responses", data["status_code"]),
                lambda: design.integration_response_put(
                    integration=integration,
                    status_code=data["status_code"],
                    selection_pattern=data["selection_pattern"] or None,
                    response_parameters=data["response_parameters"],
                    response_templates=data["response_templates"],
                    content_handling=data["content_handling"],
                ),
            )
            messages.success(request, f"Saved integration response {data['status_code']}.")
            return _to_method(api, resource, method, "console:integration_responses")
    context = _context(
        api, resource, method, "integration_responses", form=form, responses=integration.integration_responses.all()
    )
    return render(request, "console/designer/integration_responses.html", context)


@console_view(methods=("GET", "POST"))
def integration_response(
    request: HttpRequest, api_id: str, resource_id: str, http_method: str, status_code: str
) -> HttpResponse:
    api, resource, method = _load(api_id, resource_id, http_method)
    integration = selectors.integration_get(method=method)
    response = selectors.integration_response_get(integration=integration, status_code=status_code)
    form = _integration_response_form(method, response, posted(request))
    if request.method == "POST" and form.is_valid():
        ops = form.patch_operations()
        with form_errors(form):
            if ops:
                perform(
                    request,
                    "UpdateIntegrationResponse",
                    _target(api, resource, method, "integration", "responses", status_code),
                    lambda: design.integration_response_update(response=response, patch_operations=ops),
                )
            messages.success(request, f"Integration response {status_code} saved.")
            return _to_method(api, resource, method, "console:integration_responses")
    context = _context(api, resource, method, "integration_responses", form=form, response=response, kind="integration")
    return render(request, "console/designer/response_edit.html", context)


@console_view(methods=("POST",))
def integration_response_delete(
    request: HttpRequest, api_id: str, resource_id: str, http_method: str, status_code: str
) -> HttpResponse:
    api, resource, method = _load(api_id, resource_id, http_method)
    integration = selectors.integration_get(method=method)
    response = selectors.integration_response_get(integration=integration, status_code=status_code)
    with message_errors(request):
        perform(
            request,
            "DeleteIntegrationResponse",
            _target(api, resource, method, "integration", "responses", status_code),
            lambda: design.integration_response_delete(response=response),
        )
        messages.success(request, f"Deleted integration response {status_code}.")
    return _to_method(api, resource, method, "console:integration_responses")
