"""An API's authorizers: list, create, edit, delete."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apis import selectors
from apis.console.forms.components import AuthorizerForm
from apis.console.permissions import console_view
from apis.console.views.base import api_target, form_errors, message_errors, perform, posted
from apis.services import components


@console_view(methods=("GET", "POST"))
def authorizer_list(request: HttpRequest, api_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    form = AuthorizerForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with form_errors(form):
            authorizer = perform(
                request,
                "CreateAuthorizer",
                api_target(api.id, "authorizers"),
                lambda: components.authorizer_create(api=api, **data),
            )
            messages.success(request, f"Created authorizer {authorizer.name}.")
            return redirect("console:authorizer", api_id=api.id, authorizer_id=authorizer.id)
    authorizers = api.authorizers.annotate(method_count=Count("method")).order_by("name")
    context = {"api": api, "tab": "authorizers", "form": form, "authorizers": authorizers}
    return render(request, "console/designer/authorizers.html", context)


@console_view(methods=("GET", "POST"))
def authorizer_edit(request: HttpRequest, api_id: str, authorizer_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    authorizer = selectors.authorizer_get(api=api, authorizer_id=authorizer_id)
    form = AuthorizerForm.for_authorizer(authorizer, posted(request))
    if request.method == "POST" and form.is_valid():
        ops = form.patch_operations()
        with form_errors(form):
            if ops:
                perform(
                    request,
                    "UpdateAuthorizer",
                    api_target(api.id, "authorizers", authorizer.id),
                    lambda: components.authorizer_update(authorizer=authorizer, patch_operations=ops),
                )
            messages.success(request, f"Authorizer {form.cleaned_data['name']} saved." if ops else "Nothing changed.")
            return redirect("console:authorizer", api_id=api.id, authorizer_id=authorizer.id)
    methods = authorizer.method_set.select_related("resource").order_by("resource__path", "http_method")
    context = {"api": api, "tab": "authorizers", "form": form, "authorizer": authorizer, "methods": methods}
    return render(request, "console/designer/authorizer_edit.html", context)


@console_view(methods=("POST",))
def authorizer_delete(request: HttpRequest, api_id: str, authorizer_id: str) -> HttpResponse:
    api = selectors.rest_api_get(api_id=api_id)
    authorizer = selectors.authorizer_get(api=api, authorizer_id=authorizer_id)
    with message_errors(request):
        perform(
            request,
            "DeleteAuthorizer",
            api_target(api.id, "authorizers", authorizer.id),
            lambda: components.authorizer_delete(authorizer=authorizer),
        )
        messages.success(request, f"Deleted authorizer {authorizer.name}.")
        return redirect("console:authorizers", api_id=api.id)
    return redirect("console:authorizer", api_id=api.id, authorizer_id=authorizer.id)
