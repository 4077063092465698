"""APIs: the list with search, create (new, clone, example), settings and delete."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apis import selectors
from apis.console import selectors as console_selectors
from apis.console.forms.design import ConfirmNameForm, RestApiCreateForm, RestApiSettingsForm
from apis.console.permissions import Role, console_view
from apis.console.views.base import api_target, form_errors, perform, posted
from apis.services import cloning, design, scaffolding


@console_view()
def home(request: HttpRequest) -> HttpResponse:
    return redirect("console:api_list")


@console_view()
def api_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    apis = console_selectors.rest_apis_search(query=query)
    return render(request, "console/apis/list.html", {"apis": apis, "query": query})


@console_view(methods=("GET", "POST"), read=Role.EDITOR)
def api_create(request: HttpRequest) -> HttpResponse:
    form = RestApiCreateForm(posted(request), initial={"mode": request.GET.get("mode", "new")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with form_errors(form):
            if data["mode"] == "clone":
                source = selectors.rest_api_get(api_id=data["clone_from"])
                api = perform(
                    request,
                    "CreateRestApi",
                    "/restapis",
                    lambda: cloning.rest_api_clone(
                        owner=request.user, source=source, name=data["name"], description=data["description"]
                    ),
                )
            elif data["mode"] == "example":
                api = perform(
                    request,
                    "CreateRestApi",
                    "/restapis",
                    lambda: scaffolding.rest_api_create_example(
                        owner=request.user, name=data["name"], description=data["description"]
                    ),
                )
            else:
                api = perform(
                    request,
                    "CreateRestApi",
                    "/restapis",
                    lambda: design.rest_api_create(
                        owner=request.user,
                        name=data["name"],
                        description=data["description"],
                        endpoint_configuration={"types": [data["endpoint_type"]]},
                    ),
                )
            messages.success(request, f"Created API {api.name} ({api.id}).")
            return redirect("console:resources", api_id=api.id)
    return render(request, "console/apis/create.html", {"form": form})


@console_view()
def api_detail(request: HttpRequest, api_id: str) -> HttpResponse:
    selectors.rest_api_get(api_id=api_id)
    return redirect("console:resources", api_id=api_id)


@console_view(methods=("GET", "POST"))
def api_settings(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    form = RestApiSettingsForm.for_api(api, posted(request))
    if request.method == "POST" and form.is_valid():
        ops = form.patch_operations()
        with form_errors(form):
            if ops:
                perform(
                    request,
                    "UpdateRestApi",
                    api_target(api.id),
                    lambda: design.rest_api_update(api=api, patch_operations=ops),
                )
            messages.success(request, "Settings saved." if ops else "Nothing changed.")
            return redirect("console:api_settings", api_id=api.id)
    return render(request, "console/apis/settings.html", {"api": api, "form": form, "tab": "settings"})


@console_view(methods=("GET", "POST"), read=Role.EDITOR)
def api_delete(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    form = ConfirmNameForm(posted(request), expected=api.name)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            perform(request, "DeleteRestApi", api_target(api.id), lambda: design.rest_api_delete(api=api))
            messages.success(request, f"Deleted API {api.name}.")
            return redirect("console:api_list")
    context = {
        "api": api,
        "form": form,
        "title": f"Delete API {api.name}",
        "consequences": [
            f"{api.stages.count()} stage(s) stop serving traffic at once.",
            "Every resource, method, model and deployment of the API is deleted.",
            "Usage plans lose this API's stages.",
        ],
        "cancel_url": reverse("console:api_settings", args=[api.id]),
    }
    return render(request, "console/confirm_delete.html", context)
