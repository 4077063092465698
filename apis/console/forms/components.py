"""Forms of an API's authorizers and gateway responses, and of renaming or moving a resource."""

from __future__ import annotations

from typing import Any

from django import forms

from apis import models as m
from apis.console.forms.fields import ConsoleForm, ListField, MappingField, TemplatesField, pointer
from apis.patching import PatchOp
from apis.services.components import AUTHORIZER_TYPES

RESPONSE_PARAMETER_PREFIX = "gatewayresponse."


class AuthorizerForm(ConsoleForm):
    name = forms.CharField(max_length=255)
    type = forms.ChoiceField(
        choices=[(t, t) for t in sorted(AUTHORIZER_TYPES)],
        initial="TOKEN",
        help_text="TOKEN and REQUEST call a Lambda authorizer; COGNITO_USER_POOLS checks a user pool's tokens.",
    )
    authorizer_uri = forms.CharField(
        required=False,
        label="Authorizer URI",
        help_text="The Lambda function's invocation URI (TOKEN and REQUEST).",
    )
    authorizer_credentials = forms.CharField(required=False, label="Invoke role ARN")
    identity_source = forms.CharField(
        required=False,
        initial="method.request.header.Authorization",
        help_text="e.g. <code>method.request.header.Authorization</code>; several for REQUEST, comma-separated.",
    )
    identity_validation_expression = forms.CharField(required=False, label="Token validation (regular expression)")
    provider_arns = ListField(label="User pool ARNs", help_text="COGNITO_USER_POOLS: one ARN a line.")
    authorizer_result_ttl_in_seconds = forms.IntegerField(
        min_value=0, max_value=3600, initial=300, required=False, label="Result cache TTL (seconds)"
    )

    TEXT = {
        "name": "/name",
        "type": "/type",
        "authorizer_uri": "/authorizerUri",
        "authorizer_credentials": "/authorizerCredentials",
        "identity_source": "/identitySource",
        "identity_validation_expression": "/identityValidationExpression",
    }
    REMOVABLE = {"authorizer_credentials", "identity_validation_expression"}

    @classmethod
    def for_authorizer(cls, authorizer: m.Authorizer, data: Any = None) -> AuthorizerForm:
        initial = {name: getattr(authorizer, name) for name in cls.TEXT}
        initial["provider_arns"] = list(authorizer.provider_arns or [])
        initial["authorizer_result_ttl_in_seconds"] = authorizer.authorizer_result_ttl_in_seconds
        return cls(data, initial=initial)

    def service_arguments(self) -> dict[str, Any]:
        return dict(self.cleaned_data)

    def patch_operations(self) -> list[PatchOp]:
        old, new = self.initial, self.cleaned_data
        ops = []
        for name, path in self.TEXT.items():
            if (new[name] or "") == (old[name] or ""):
                continue
            if not new[name] and name in self.REMOVABLE:
                ops.append(PatchOp(op="remove", path=path))
            else:
                ops.append(PatchOp(op="replace", path=path, value=new[name]))
        before, after = old["provider_arns"], new["provider_arns"]
        ops += [PatchOp(op="remove", path=f"/providerARNs/{pointer(a)}") for a in before if a not in after]
        ops += [PatchOp(op="add", path=f"/providerARNs/{pointer(a)}") for a in after if a not in before]
        ttl = new["authorizer_result_ttl_in_seconds"]
        if ttl is not None and ttl != old["authorizer_result_ttl_in_seconds"]:
            ops.append(PatchOp(op="replace", path="/authorizerResultTtlInSeconds", value=str(ttl)))
        return ops


class GatewayResponseForm(ConsoleForm):
    status_code = forms.RegexField(
        regex=r"^[1-5]\d\d$",
        required=False,
        label="Status code",
        help_text="Empty keeps the status the gateway would send.",
    )
    response_parameters = MappingField(
        prefix=RESPONSE_PARAMETER_PREFIX,
        label="Headers and parameters",
        help_text="One a line, e.g. <code>header.Access-Control-Allow-Origin = '*'</code>.",
    )
    response_templates = TemplatesField(label="Body templates")


class ResourceMoveForm(ConsoleForm):
    path_part = forms.CharField(label="Path part", max_length=255)
    parent = forms.ChoiceField(label="Parent resource")

    def __init__(self, *args: Any, resource: m.Resource, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"path_part": resource.path_part, "parent": resource.parent_id})
        kwargs.setdefault("prefix", "move")
        super().__init__(*args, **kwargs)
        self.resource = resource
        under = resource.path.rstrip("/") + "/"
        parents = m.Resource.objects.filter(rest_api_id=resource.rest_api_id).exclude(id=resource.id).order_by("path")
        self.fields["parent"].choices = [
            (r.id, r.path) for r in parents if not r.path.startswith(under) and not r.path_part.endswith("+}")
        ]

    def patch_operations(self) -> list[PatchOp]:
        data, ops = self.cleaned_data, []
        if data["path_part"] != self.resource.path_part:
            ops.append(PatchOp(op="replace", path="/pathPart", value=data["path_part"]))
        if data["parent"] != self.resource.parent_id:
            ops.append(PatchOp(op="replace", path="/parentId", value=data["parent"]))
        return ops
