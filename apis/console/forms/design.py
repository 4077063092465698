"""Forms of the API designer: APIs, resources, methods, integrations, responses, models, test invoke."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from apis import models as m
from apis.console.forms.fields import (
    ConsoleForm,
    ListField,
    MappingField,
    TemplatesField,
    bool_text,
    code_area,
    map_ops,
    pointer,
)
from apis.patching import PatchOp
from apis.services.cors import DEFAULT_ALLOW_HEADERS
from apis.services.design import AUTHORIZATION_TYPES, HTTP_METHODS, INTEGRATION_TYPES

VERBS = [(v, v) for v in ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT") if v in HTTP_METHODS]
ENDPOINT_TYPES = [("REGIONAL", "Regional"), ("EDGE", "Edge-optimized"), ("PRIVATE", "Private")]
PASSTHROUGH = [
    ("WHEN_NO_MATCH", "When no template matches the request Content-Type"),
    ("WHEN_NO_TEMPLATES", "When there are no templates defined"),
    ("NEVER", "Never"),
]
CONTENT_HANDLING = [
    ("", "Passthrough"),
    ("CONVERT_TO_TEXT", "Convert to text"),
    ("CONVERT_TO_BINARY", "Convert to binary"),
]
HEADER_PREFIX = "method.response.header."


def choices_of(values: Any) -> list[tuple[str, str]]:
    return [(v, v) for v in sorted(values)]


# --- APIs --------------------------------------------------------------------------------------------


class RestApiCreateForm(ConsoleForm):
    MODES = [("new", "New API"), ("clone", "Clone existing API"), ("example", "Example API")]

    mode = forms.ChoiceField(choices=MODES, initial="new", widget=forms.RadioSelect, label="Create")
    name = forms.CharField(max_length=255)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    endpoint_type = forms.ChoiceField(choices=ENDPOINT_TYPES, initial="REGIONAL", label="API endpoint type")
    clone_from = forms.ChoiceField(required=False, label="API to clone")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        apis = m.RestApi.objects.order_by("name").values_list("id", "name")
        self.fields["clone_from"].choices = [("", "—")] + [(i, f"{n} ({i})") for i, n in apis]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("mode") == "clone" and not data.get("clone_from"):
            self.add_error("clone_from", "Choose the API to clone.")
        return data


class RestApiSettingsForm(ConsoleForm):
    name = forms.CharField(max_length=255)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    endpoint_type = forms.ChoiceField(choices=ENDPOINT_TYPES, label="API endpoint type")
    api_key_source = forms.ChoiceField(choices=m.ApiKeySource.choices, label="API key source")
    binary_media_types = ListField(help_text="One media type a line, e.g. image/png or */*.")
    disable_execute_api_endpoint = forms.BooleanField(
        required=False, label="Disable the default execute-api endpoint (clients must use a custom domain)"
    )

    @classmethod
    def for_api(cls, api: m.RestApi, data: Any = None) -> RestApiSettingsForm:
        types = (api.endpoint_configuration or {}).get("types") or ["EDGE"]
        initial = {
            "name": api.name,
            "description": api.description,
            "endpoint_type": types[0],
            "api_key_source": api.api_key_source,
            "binary_media_types": list(api.binary_media_types or []),
            "disable_execute_api_endpoint": api.disable_execute_api_endpoint,
        }
        return cls(data, initial=initial)

    def patch_operations(self) -> list[PatchOp]:
        old, new = self.initial, self.cleaned_data
        ops = []
        for field, path in (("name", "/name"), ("description", "/description"), ("api_key_source", "/apiKeySource")):
            if new[field] != old[field]:
                ops.append(PatchOp(op="replace", path=path, value=new[field]))
        if new["endpoint_type"] != old["endpoint_type"]:
            ops.append(PatchOp(op="replace", path="/endpointConfiguration/types/0", value=new["endpoint_type"]))
        old_types, new_types = set(old["binary_media_types"]), set(new["binary_media_types"])
        ops += [PatchOp(op="remove", path=f"/binaryMediaTypes/{pointer(t)}") for t in sorted(old_types - new_types)]
        ops += [PatchOp(op="add", path=f"/binaryMediaTypes/{pointer(t)}") for t in sorted(new_types - old_types)]
        if new["disable_execute_api_endpoint"] != old["disable_execute_api_endpoint"]:
            ops.append(
                PatchOp(
                    op="replace",
                    path="/disableExecuteApiEndpoint",
                    value=bool_text(new["disable_execute_api_endpoint"]),
                )
            )
        return ops


class ConfirmNameForm(ConsoleForm):
    confirm = forms.CharField(label="Type the name to confirm")

    def __init__(self, *args: Any, expected: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm(self) -> str:
        if self.cleaned_data["confirm"].strip() != self.expected:
            raise forms.ValidationError(f"Type {self.expected} exactly to confirm.")
        return self.cleaned_data["confirm"]


# --- Resources and methods ---------------------------------------------------------------------------


class ResourceCreateForm(ConsoleForm):
    path_part = forms.CharField(
        label="Resource name",
        max_length=255,
        help_text="A path segment such as <code>items</code>, a variable <code>{id}</code>, "
        "or a greedy variable <code>{proxy+}</code>.",
    )


class CorsForm(ConsoleForm):
    allow_methods = forms.MultipleChoiceField(
        choices=VERBS, widget=forms.CheckboxSelectMultiple, label="Access-Control-Allow-Methods", required=False
    )
    allow_headers = forms.CharField(initial=DEFAULT_ALLOW_HEADERS, label="Access-Control-Allow-Headers")
    allow_origin = forms.CharField(initial="*", label="Access-Control-Allow-Origin")


class MethodCreateForm(ConsoleForm):
    http_method = forms.ChoiceField(choices=VERBS, initial="GET", label="Method")
    integration_type = forms.ChoiceField(choices=choices_of(INTEGRATION_TYPES), initial="MOCK")
    integration_http_method = forms.ChoiceField(
        choices=[("", "—"), *VERBS], required=False, label="Integration HTTP method"
    )
    uri = forms.CharField(
        required=False,
        label="Endpoint URL",
        help_text="For HTTP integrations, e.g. <code>https://backend.example/items/{id}</code>; "
        "stage variables as <code>${stageVariables.host}</code>.",
    )


class MethodRequestForm(ConsoleForm):
    authorization_type = forms.ChoiceField(choices=choices_of(AUTHORIZATION_TYPES))
    authorizer_id = forms.ChoiceField(required=False, label="Authorizer")
    api_key_required = forms.BooleanField(required=False, label="API key required")
    operation_name = forms.CharField(required=False, max_length=255)
    request_validator_id = forms.ChoiceField(required=False, label="Request validator")
    request_parameters = MappingField(
        booleans=True,
        help_text="One a line: <code>method.request.querystring.page = false</code>; "
        "true makes the parameter required.",
    )
    request_models = MappingField(
        label="Request models", help_text="One a line: <code>application/json = ModelName</code>."
    )

    @classmethod
    def for_method(cls, method: m.Method, data: Any = None) -> MethodRequestForm:
        form = cls(
            data,
            initial={
                "authorization_type": method.authorization_type,
                "authorizer_id": method.authorizer_id or "",
                "api_key_required": method.api_key_required,
                "operation_name": method.operation_name,
                "request_validator_id": method.request_validator_id or "",
                "request_parameters": dict(method.request_parameters),
                "request_models": dict(method.request_models),
            },
        )
        api_id = method.resource.rest_api_id
        validators = m.RequestValidator.objects.filter(rest_api_id=api_id)
        authorizers = m.Authorizer.objects.filter(rest_api_id=api_id)
        form.fields["request_validator_id"].choices = [("", "None")] + [(v.id, v.name or v.id) for v in validators]
        form.fields["authorizer_id"].choices = [("", "None")] + [(a.id, a.name) for a in authorizers]
        return form

    def patch_operations(self) -> list[PatchOp]:
        old, new = self.initial, self.cleaned_data
        ops = []
        if new["authorization_type"] != old["authorization_type"]:
            ops.append(PatchOp(op="replace", path="/authorizationType", value=new["authorization_type"]))
        for field, path in (("authorizer_id", "/authorizerId"), ("request_validator_id", "/requestValidatorId")):
            if new[field] != old[field]:
                ops.append(
                    PatchOp(op="replace", path=path, value=new[field])
                    if new[field]
                    else PatchOp(op="remove", path=path)
                )
        if new["api_key_required"] != old["api_key_required"]:
            ops.append(PatchOp(op="replace", path="/apiKeyRequired", value=bool_text(new["api_key_required"])))
        if new["operation_name"] != old["operation_name"]:
            ops.append(PatchOp(op="replace", path="/operationName", value=new["operation_name"]))
        ops += map_ops("/requestParameters", old["request_parameters"], new["request_parameters"], bool_text)
        ops += map_ops("/requestModels", old["request_models"], new["request_models"])
        return ops


class IntegrationForm(ConsoleForm):
    type = forms.ChoiceField(choices=choices_of(INTEGRATION_TYPES), label="Integration type")
    http_method = forms.ChoiceField(choices=[("", "—"), *VERBS], required=False, label="HTTP method")
    uri = forms.CharField(
        required=False,
        label="Endpoint URL / URI",
        help_text="Stage variables may appear as <code>${stageVariables.name}</code>; path variables as "
        "<code>{name}</code>.",
    )
    timeout_in_millis = forms.IntegerField(min_value=50, max_value=29000, label="Timeout (ms)")
    passthrough_behavior = forms.ChoiceField(choices=PASSTHROUGH, label="Request body passthrough")
    content_handling = forms.ChoiceField(choices=CONTENT_HANDLING, required=False)
    request_parameters = MappingField(
        label="Parameter mappings",
        help_text="One a line: <code>integration.request.header.x-id = method.request.path.id</code> "
        "(sources: method.request.*, stageVariables.*, context.*, or a 'literal').",
    )
    request_templates = TemplatesField(label="Mapping templates")

    @classmethod
    def for_integration(cls, integration: m.Integration | None, data: Any = None) -> IntegrationForm:
        initial: dict[str, Any] = {
            "type": "MOCK",
            "http_method": "",
            "uri": "",
            "timeout_in_millis": 29000,
            "passthrough_behavior": "WHEN_NO_MATCH",
            "content_handling": "",
            "request_parameters": {},
            "request_templates": {},
        }
        if integration is not None:
            initial.update(
                type=integration.type,
                http_method=integration.http_method,
                uri=integration.uri,
                timeout_in_millis=integration.timeout_in_millis,
                passthrough_behavior=integration.passthrough_behavior,
                content_handling=integration.content_handling,
                request_parameters=dict(integration.request_parameters),
                request_templates=dict(integration.request_templates),
            )
        return cls(data, initial=initial)

    def patch_operations(self) -> list[PatchOp]:
        old, new = self.initial, self.cleaned_data
        ops = []
        scalar = (
            ("type", "/type"),
            ("http_method", "/httpMethod"),
            ("uri", "/uri"),
            ("passthrough_behavior", "/passthroughBehavior"),
        )
        for field, path in scalar:
            if new[field] != old[field]:
                ops.append(PatchOp(op="replace", path=path, value=new[field]))
        if new["timeout_in_millis"] != old["timeout_in_millis"]:
            ops.append(PatchOp(op="replace", path="/timeoutInMillis", value=str(new["timeout_in_millis"])))
        if new["content_handling"] != old["content_handling"]:
            ops.append(
                PatchOp(op="replace", path="/contentHandling", value=new["content_handling"])
                if new["content_handling"]
                else PatchOp(op="remove", path="/contentHandling")
            )
        ops += map_ops("/requestParameters", old["request_parameters"], new["request_parameters"])
        ops += map_ops("/requestTemplates", old["request_templates"], new["request_templates"])
        return ops


class MethodResponseForm(ConsoleForm):
    status_code = forms.RegexField(regex=r"^[1-5]\d\d$", max_length=3, label="HTTP status code")
    response_parameters = MappingField(
        booleans=True,
        prefix=HEADER_PREFIX,
        label="Response headers",
        help_text="One header a line: <code>Access-Control-Allow-Origin = false</code> (true: required).",
    )
    response_models = MappingField(label="Response models", help_text="<code>application/json = Empty</code>")

    def patch_operations(self) -> list[PatchOp]:
        old, new = self.initial, self.cleaned_data
        return map_ops("/responseParameters", old["response_parameters"], new["response_parameters"], bool_text) + (
            map_ops("/responseModels", old["response_models"], new["response_models"])
        )


class IntegrationResponseForm(ConsoleForm):
    status_code = forms.ChoiceField(label="Method response status")
    selection_pattern = forms.CharField(
        required=False,
        label="HTTP status regex / selection pattern",
        help_text="Blank makes this the default response.",
    )
    content_handling = forms.ChoiceField(choices=CONTENT_HANDLING, required=False)
    response_parameters = MappingField(
        prefix=HEADER_PREFIX,
        label="Header mappings",
        help_text="One a line: <code>Access-Control-Allow-Origin = '*'</code> or "
        "<code>X-Id = integration.response.header.id</code>.",
    )
    response_templates = TemplatesField(label="Mapping templates")

    def __init__(self, *args: Any, statuses: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status_code"].choices = [(s, s) for s in statuses]

    def patch_operations(self) -> list[PatchOp]:
        old, new = self.initial, self.cleaned_data
        ops = []
        if (new["selection_pattern"] or None) != (old["selection_pattern"] or None):
            ops.append(
                PatchOp(op="replace", path="/selectionPattern", value=new["selection_pattern"])
                if new["selection_pattern"]
                else PatchOp(op="remove", path="/selectionPattern")
            )
        if new["content_handling"] != old["content_handling"]:
            ops.append(
                PatchOp(op="replace", path="/contentHandling", value=new["content_handling"])
                if new["content_handling"]
                else PatchOp(op="remove", path="/contentHandling")
            )
        ops += map_ops("/responseParameters", old["response_parameters"], new["response_parameters"])
        ops += map_ops("/responseTemplates", old["response_templates"], new["response_templates"])
        return ops


# --- Models and validators ---------------------------------------------------------------------------


def check_json_schema(text: str) -> None:
    """Raise a ValidationError naming what is wrong with a JSON Schema document."""
    from jsonschema import exceptions, validators

    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise forms.ValidationError(f"Not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise forms.ValidationError("A schema must be a JSON object.")
    try:
        validators.validator_for(parsed).check_schema(parsed)
    except exceptions.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise forms.ValidationError(f"Invalid JSON Schema at {where}: {exc.message}") from None


class ModelForm(ConsoleForm):
    name = forms.RegexField(regex=r"^[A-Za-z0-9]+$", max_length=255, help_text="Letters and digits only.")
    content_type = forms.CharField(initial="application/json", max_length=255)
    description = forms.CharField(required=False)
    schema = forms.CharField(
        widget=code_area(rows=16), required=False, label="Schema (JSON Schema draft 4)", strip=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("schema", "").strip() and "json" in data.get("content_type", ""):
            try:
                check_json_schema(data["schema"])
            except forms.ValidationError as exc:
                self.add_error("schema", exc)
        return data

    def patch_operations(self) -> list[PatchOp]:
        old, new = self.initial, self.cleaned_data
        ops = []
        if new["schema"] != old["schema"]:
            ops.append(PatchOp(op="replace", path="/schema", value=new["schema"]))
        if new["description"] != old["description"]:
            ops.append(PatchOp(op="replace", path="/description", value=new["description"]))
        return ops


class RequestValidatorForm(ConsoleForm):
    name = forms.CharField(max_length=255)
    validate_request_body = forms.BooleanField(required=False, label="Validate body")
    validate_request_parameters = forms.BooleanField(
        required=False, label="Validate query string parameters and headers"
    )


# --- Test invoke -------------------------------------------------------------------------------------


class TestInvokeForm(ConsoleForm):
    __test__ = False  # not a pytest test class

    query_string = forms.CharField(required=False, help_text="e.g. <code>page=2&amp;size=10</code>")
    headers = MappingField(separator=":", help_text="One a line: <code>Accept: application/json</code>")
    stage_variables = MappingField(help_text="One a line: <code>host = backend.example</code>")
    body = forms.CharField(required=False, widget=code_area(rows=6), strip=False, label="Request body")

    def __init__(self, *args: Any, path: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.path = path
        self.variables = [part.strip("{}").rstrip("+") for part in path.split("/") if part.startswith("{")]
        for name in reversed(self.variables):
            self.fields = {f"path_{name}": forms.CharField(label=f"Path: {name}"), **self.fields}
            self.fields[f"path_{name}"].widget.attrs["class"] = "form-control"

    def path_with_query(self) -> str:
        path = self.path
        for name in self.variables:
            value = self.cleaned_data[f"path_{name}"]
            path = path.replace(f"{{{name}+}}", value).replace(f"{{{name}}}", value)
        query = self.cleaned_data["query_string"].lstrip("?")
        return f"{path}?{query}" if query else path
