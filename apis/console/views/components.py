"""An API's models (JSON Schema editor) and request validators, and the test-invoke page."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apis import selectors
from apis.console.forms.design import ModelForm, RequestValidatorForm, TestInvokeForm
from apis.console.permissions import Role, console_view
from apis.console.views.base import api_target, form_errors, is_htmx, message_errors, perform, posted
from apis.services import components
from apis.services.invoking import method_test_invoke


@console_view()
def model_list(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    context = {"api": api, "tab": "models", "models": api.models.order_by("name")}
    return render(request, "console/designer/models.html", context)


@console_view(methods=("GET", "POST"), read=Role.EDITOR)
def model_create(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    starter = json.dumps(
        {"$schema": "http://json-schema.org/draft-04/schema#", "title": "", "type": "object", "properties": {}},
        indent=2,
    )
    form = ModelForm(posted(request), initial={"schema": starter, "content_type": "application/json"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with form_errors(form, "schema" if data["schema"] else None):
            model = perform(
                request,
                "CreateModel",
                api_target(api.id, "models"),
                lambda: components.model_create(
                    api=api,
                    name=data["name"],
                    content_type=data["content_type"],
                    schema=data["schema"],
                    description=data["description"],
                ),
            )
            messages.success(request, f"Created model {model.name}.")
            return redirect("console:model", api_id=api.id, name=model.name)
    return render(request, "console/designer/model_edit.html", {"api": api, "tab": "models", "form": form})


@console_view(methods=("GET", "POST"))
def model_edit(request: HttpRequest, api_id: str, name: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    model = selectors.model_get(api=api, name=name)
    initial = {
        "name": model.name,
        "content_type": model.content_type,
        "description": model.description,
        "schema": model.schema,
    }
    form = ModelForm(posted(request), initial=initial)
    form.fields["name"].disabled = True
    form.fields["content_type"].disabled = True
    if request.method == "POST" and form.is_valid():
        ops = form.patch_operations()
        with form_errors(form, "schema"):
            if ops:
                perform(
                    request,
                    "UpdateModel",
                    api_target(api.id, "models", model.name),
                    lambda: components.model_update(model=model, patch_operations=ops),
                )
            messages.success(request, f"Model {model.name} saved.")
            return redirect("console:model", api_id=api.id, name=model.name)
    context = {"api": api, "tab": "models", "form": form, "model": model}
    return render(request, "console/designer/model_edit.html", context)


@console_view(methods=("POST",))
def model_delete(request: HttpRequest, api_id: str, name: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    model = selectors.model_get(api=api, name=name)
    with message_errors(request):
        perform(
            request,
            "DeleteModel",
            api_target(api.id, "models", model.name),
            lambda: components.model_delete(model=model),
        )
        messages.success(request, f"Deleted model {model.name}.")
        return redirect("console:models", api_id=api.id)
    return redirect("console:model", api_id=api.id, name=model.name)


@console_view(methods=("GET", "POST"))
def validators(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    form = RequestValidatorForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with form_errors(form, "name"):
            perform(
                request,
                "CreateRequestValidator",
                api_target(api.id, "requestvalidators"),
                lambda: components.request_validator_create(api=api, **data),
            )
            messages.success(request, f"Created request validator {data['name']}.")
            return redirect("console:validators", api_id=api.id)
    context = {"api": api, "tab": "validators", "form": form, "validators": api.request_validators.all()}
    return render(request, "console/designer/validators.html", context)


@console_view(methods=("POST",))
def validator_delete(request: HttpRequest, api_id: str, validator_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    validator = selectors.request_validator_get(api=api, validator_id=validator_id)
    with message_errors(request):
        perform(
            request,
            "DeleteRequestValidator",
            api_target(api.id, "requestvalidators", validator.id),
            lambda: components.request_validator_delete(validator=validator),
        )
        messages.success(request, f"Deleted request validator {validator.name or validator.id}.")
    return redirect("console:validators", api_id=api.id)


@console_view(methods=("GET", "POST"), read=Role.EDITOR)
def method_test(request: HttpRequest, api_id: str, resource_id: str, http_method: str) -> HttpResponse:
    """Run TestInvokeMethod on the undeployed definition; it may call backends, so editors only."""
    api = selectors.rest_api_get(api_id=api_id)
    resource = selectors.resource_get(api=api, resource_id=resource_id)
    method = selectors.method_get(resource=resource, http_method=http_method)
    form = TestInvokeForm(posted(request), path=resource.path)
    result = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with form_errors(form):
            result = method_test_invoke(
                api=api,
                resource=resource,
                http_method=method.http_method,
                path_with_query=form.path_with_query(),
                headers=data["headers"],
                body=data["body"],
                stage_variables=data["stage_variables"],
            )
    context = {
        "api": api,
        "tab": "resources",
        "resource": resource,
        "method": method,
        "integration": getattr(method, "integration", None),
        "section": "test",
        "form": form,
        "result": result,
    }
    if is_htmx(request) and request.method == "POST":
        return render(request, "console/designer/_test_panel.html", context)
    return render(request, "console/designer/method_test.html", context)
