"""An API's gateway responses: every type with its status, customise one (PutGatewayResponse), reset it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apis import models as m
from apis import selectors
from apis.console.forms.components import GatewayResponseForm
from apis.console.permissions import console_view
from apis.console.views.base import api_target, form_errors, message_errors, perform, posted
from apis.services import components


def _target(api: m.RestApi, response_type: str) -> str:
    return api_target(api.id, "gatewayresponses", response_type)


@console_view()
def gateway_response_list(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    context = {"api": api, "tab": "responses", "responses": selectors.gateway_responses(api=api)}
    return render(request, "console/designer/gateway_responses.html", context)


@console_view(methods=("GET", "POST"))
def gateway_response_edit(request: HttpRequest, api_id: str, response_type: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    if response_type not in components.GATEWAY_RESPONSE_TYPES:
        raise Http404("Unknown gateway response type")
    put = m.GatewayResponse.objects.filter(rest_api=api, response_type=response_type).first()
    default = components.gateway_response_default(response_type)
    initial = {
        "status_code": put.status_code if put else "",
        "response_parameters": put.response_parameters if put else {},
        "response_templates": put.response_templates if put else default["responseTemplates"],
    }
    form = GatewayResponseForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with form_errors(form):
            perform(
                request,
                "PutGatewayResponse",
                _target(api, response_type),
                lambda: components.gateway_response_put(
                    api=api,
                    response_type=response_type,
                    status_code=data["status_code"] or None,
                    response_parameters=data["response_parameters"],
                    response_templates=data["response_templates"],
                ),
            )
            messages.success(request, f"Saved gateway response {response_type}; deploy the API to serve it.")
            return redirect("console:gateway_response", api_id=api.id, response_type=response_type)
    context = {
        "api": api,
        "tab": "responses",
        "form": form,
        "response_type": response_type,
        "customised": put is not None,
        "default_status": default["statusCode"],
    }
    return render(request, "console/designer/gateway_response_edit.html", context)


@console_view(methods=("POST",))
def gateway_response_delete(request: HttpRequest, api_id: str, response_type: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    response = m.GatewayResponse.objects.filter(rest_api=api, response_type=response_type).first()
    if response is None:
        raise Http404("This gateway response is not customised")
    with message_errors(request):
        perform(
            request,
            "DeleteGatewayResponse",
            _target(api, response_type),
            lambda: components.gateway_response_delete(response=response),
        )
        messages.success(request, f"Reset {response_type} to the default; deploy the API to serve it.")
    return redirect("console:gateway_responses", api_id=api.id)
