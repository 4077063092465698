"""Tags of APIs, usage plans, API keys and custom domains (stages keep theirs in `stages.py`), by ARN.

Every kind of object gets the same two views from `tag_views`: its tags page, which also adds the posted tag
(TagResource), and the removal of one tag (UntagResource).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apis import selectors
from apis.console.forms.stages import TagForm
from apis.console.permissions import Role, View, console_view
from apis.console.views.base import form_errors, message_errors, perform, posted
from apis.services import tags
from apis.shapes import api_key_arn, domain_name_arn, rest_api_arn, usage_plan_arn


@dataclass(frozen=True)
class Tagged:
    """A kind of object with a tags page: `<name>_tags` and `<name>_tag_delete` are its URL names."""

    name: str
    load: Callable[..., Any]  # its selector, called with the URL's keyword arguments
    id_field: str  # the attribute that is both the URL argument and the end of the ARN
    arn: Callable[[str], str]
    template: str
    context: dict[str, str] = field(default_factory=dict)  # besides the object itself, under `name`
    write: Role = Role.EDITOR


def tag_views(kind: Tagged) -> tuple[View, View]:
    """Return the tags page and the tag removal view of one kind of object."""

    def locate(kwargs: dict[str, Any]) -> tuple[Any, str, str]:
        """Load the object the URL names; return it, its ARN and its tags page."""
        obj = kind.load(**kwargs)
        ident = getattr(obj, kind.id_field)
        return obj, kind.arn(ident), reverse(f"console:{kind.name}_tags", args=[ident])

    def tags_page(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """Show the object's tags, or add the posted one (TagResource) and come back to the page."""
        obj, arn, page = locate(kwargs)
        form = TagForm(posted(request))
        if request.method == "POST" and form.is_valid():
            key, value = form.cleaned_data["key"], form.cleaned_data["value"]
            with form_errors(form, "key"):
                perform(
                    request, "TagResource", f"/tags/{arn}", lambda: tags.tags_add(resource_arn=arn, tags={key: value})
                )
                messages.success(request, f"Added tag {key}.")
                return redirect(page)
        delete_url = reverse(f"console:{kind.name}_tag_delete", args=[getattr(obj, kind.id_field)])
        context = {
            kind.name: obj,
            **kind.context,
            "form": form,
            "tags": selectors.tags_for(resource_arn=arn),
            "delete_url": delete_url,
        }
        return render(request, kind.template, context)

    def tag_delete(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """Remove the posted tag key (UntagResource) and go back to the tags page."""
        _, arn, page = locate(kwargs)
        key = request.POST.get("key", "")
        with message_errors(request):
            perform(request, "UntagResource", f"/tags/{arn}", lambda: tags.tags_remove(resource_arn=arn, keys=[key]))
            messages.success(request, f"Removed tag {key}.")
        return redirect(page)

    tags_page.__name__ = tags_page.__qualname__ = f"{kind.name}_tags"
    tag_delete.__name__ = tag_delete.__qualname__ = f"{kind.name}_tag_delete"
    return (
        console_view(methods=("GET", "POST"), write=kind.write)(tags_page),
        console_view(methods=("POST",), write=kind.write)(tag_delete),
    )


api_tags, api_tag_delete = tag_views(
    Tagged(
        name="api",
        load=selectors.rest_api_get,
        id_field="id",
        arn=rest_api_arn,
        template="console/apis/tags.html",
        context={"tab": "tags"},
    )
)
plan_tags, plan_tag_delete = tag_views(
    Tagged(
        name="plan",
        load=selectors.usage_plan_get,
        id_field="id",
        arn=usage_plan_arn,
        template="console/plans/tags.html",
        context={"nav": "plans"},
    )
)
key_tags, key_tag_delete = tag_views(
    Tagged(
        name="key",
        load=selectors.api_key_get,
        id_field="id",
        arn=api_key_arn,
        template="console/keys/tags.html",
        context={"nav": "keys"},
    )
)
domain_tags, domain_tag_delete = tag_views(
    Tagged(
        name="domain",
        load=selectors.domain_name_get,
        id_field="domain_name",
        arn=domain_name_arn,
        template="console/domains/tags.html",
        context={"nav": "domains"},
        write=Role.ADMIN,
    )
)
