"""The API designer's resource tree: add, rename, move and remove resources, enable CORS, add methods."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apis import models as m
from apis import selectors
from apis.console.forms.components import ResourceMoveForm
from apis.console.forms.design import CorsForm, MethodCreateForm, ResourceCreateForm
from apis.console.permissions import Role, console_view
from apis.console.selectors import resource_tree
from apis.console.views.base import api_target, form_errors, message_errors, perform, posted
from apis.services import cors, design, scaffolding


def _page(
    request: HttpRequest,
    api: m.RestApi,
    resource_id: str | None,
    *,
    resource_form: ResourceCreateForm | None = None,
    method_form: MethodCreateForm | None = None,
    move_form: ResourceMoveForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tree = resource_tree(api=api)
    selected = next((node.resource for node in tree if node.resource.id == resource_id), tree[0].resource)
    context: dict[str, Any] = {
        "api": api,
        "tab": "resources",
        "tree": tree,
        "selected": selected,
        "methods": list(selected.methods.all()),
        "resource_form": resource_form or ResourceCreateForm(),
        "method_form": method_form or MethodCreateForm(),
        "move_form": None if selected.is_root else move_form or ResourceMoveForm(resource=selected),
    }
    return render(request, "console/designer/resources.html", context, status=status)


@console_view()
def resources(request: HttpRequest, api_id: str, resource_id: str | None = None) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    if resource_id is not None:
        selectors.resource_get(api=api, resource_id=resource_id)
    return _page(request, api, resource_id)


@console_view(methods=("POST",))
def resource_create(request: HttpRequest, api_id: str, resource_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    parent = selectors.resource_get(api=api, resource_id=resource_id)
    form = ResourceCreateForm(request.POST)
    if form.is_valid():
        with form_errors(form, "path_part"):
            child = perform(
                request,
                "CreateResource",
                api_target(api.id, "resources", parent.id),
                lambda: design.resource_create(api=api, parent_id=parent.id, path_part=form.cleaned_data["path_part"]),
            )
            messages.success(request, f"Created resource {child.path}.")
            return redirect("console:resource", api_id=api.id, resource_id=child.id)
    return _page(request, api, parent.id, resource_form=form)


@console_view(methods=("POST",))
def resource_update(request: HttpRequest, api_id: str, resource_id: str) -> HttpResponse:
    """Rename a resource or move it under another parent; its descendants' paths follow."""
    api = selectors.rest_api_get(api_id=api_id)
    resource = selectors.resource_get(api=api, resource_id=resource_id)
    form = ResourceMoveForm(request.POST, resource=resource)
    if form.is_valid():
        ops = form.patch_operations()
        with form_errors(form, "path_part"):
            if ops:
                perform(
                    request,
                    "UpdateResource",
                    api_target(api.id, "resources", resource.id),
                    lambda: design.resource_update(resource=resource, patch_operations=ops),
                )
            messages.success(request, f"The resource is now {resource.path}." if ops else "Nothing changed.")
            return redirect("console:resource", api_id=api.id, resource_id=resource.id)
    return _page(request, api, resource.id, move_form=form)


@console_view(methods=("POST",))
def resource_delete(request: HttpRequest, api_id: str, resource_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    resource = selectors.resource_get(api=api, resource_id=resource_id)
    with message_errors(request):
        perform(
            request,
            "DeleteResource",
            api_target(api.id, "resources", resource.id),
            lambda: design.resource_delete(resource=resource),
        )
        messages.success(request, f"Deleted resource {resource.path} and everything under it.")
        return redirect("console:resource", api_id=api.id, resource_id=resource.parent_id)
    return redirect("console:resource", api_id=api.id, resource_id=resource.id)


@console_view(methods=("POST",))
def method_create(request: HttpRequest, api_id: str, resource_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    resource = selectors.resource_get(api=api, resource_id=resource_id)
    form = MethodCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        with form_errors(form):
            method = perform(
                request,
                "PutMethod",
                api_target(api.id, "resources", resource.id, "methods", data["http_method"]),
                lambda: scaffolding.method_create_with_integration(
                    resource=resource,
                    http_method=data["http_method"],
                    integration_type=data["integration_type"],
                    integration_http_method=data["integration_http_method"],
                    uri=data["uri"],
                ),
            )
            messages.success(request, f"Created {method.http_method} {resource.path}.")
            return redirect("console:method", api_id=api.id, resource_id=resource.id, http_method=method.http_method)
    return _page(request, api, resource.id, method_form=form)


@console_view(methods=("GET", "POST"), read=Role.EDITOR)
def resource_cors(request: HttpRequest, api_id: str, resource_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    resource = selectors.resource_get(api=api, resource_id=resource_id)
    verbs = sorted({method.http_method for method in resource.methods.all()} | {"OPTIONS"})
    form = CorsForm(posted(request), initial={"allow_methods": verbs})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with form_errors(form):
            perform(
                request,
                "EnableCors",
                api_target(api.id, "resources", resource.id),
                lambda: cors.resource_cors_enable(
                    resource=resource,
                    allow_methods=data["allow_methods"],
                    allow_headers=data["allow_headers"],
                    allow_origin=data["allow_origin"],
                ),
            )
            messages.success(request, f"Enabled CORS on {resource.path}: OPTIONS answers the preflight.")
            return redirect("console:resource", api_id=api.id, resource_id=resource.id)
    context = {"api": api, "tab": "resources", "resource": resource, "form": form}
    return render(request, "console/designer/cors.html", context)
