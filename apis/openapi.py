"""OpenAPI 3.0 and Swagger 2.0 documents of a deployed stage, built from its deployment snapshot.

The export reads the stage's deployment snapshot (docs/runtime-config.md), never the live definition, so
it describes what the gateway serves. As AWS's GetExport does, it renders resources as paths, method
request parameters as parameters, models as schemas, `apiKeyRequired` as the `api_key` security scheme
and the stage's invoke URL as the server; `x-amazon-apigateway-*` extensions appear only when asked:

- `integrations`: `x-amazon-apigateway-integration` on each operation;
- `authorizers`: `x-amazon-apigateway-authtype` / `x-amazon-apigateway-authorizer` on security schemes;
- `apigateway`: both, plus request validators, gateway responses, binary media types, the API key source
  and the resource policy;
- `postman`: accepted for compatibility; it adds nothing.

`ANY` methods are always exported as `x-amazon-apigateway-any-method`, the only way OpenAPI can carry
them. A greedy path parameter keeps its `+` in its name (`{proxy+}` → `proxy+`) so the document validates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import yaml
from django.conf import settings

EXPORT_TYPES = ("oas30", "swagger")
EXTENSIONS = frozenset({"integrations", "authorizers", "apigateway", "postman"})
MEDIA_TYPES = ("application/json", "application/yaml")
API_KEY_SCHEME = "api_key"
API_KEY_HEADER = "x-api-key"
OPERATION_VERBS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH")
ANY_METHOD = "x-amazon-apigateway-any-method"
X = "x-amazon-apigateway-"

PARAMETER_LOCATIONS = {
    "path": "path",
    "querystring": "query",
    "multivaluequerystring": "query",
    "header": "header",
    "multivalueheader": "header",
}
# Schema keywords each format accepts; anything else in a model (`$schema`, `id`, `definitions`...) is dropped.
COMMON_KEYWORDS = {
    "title", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength",
    "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "required",
    "enum", "type", "allOf", "items", "properties", "additionalProperties", "description", "format", "default",
    "readOnly", "example",
}  # fmt: skip
SCHEMA_KEYWORDS = {
    "oas30": COMMON_KEYWORDS | {"oneOf", "anyOf", "not", "nullable", "writeOnly", "deprecated"},
    "swagger": COMMON_KEYWORDS,
}
MODEL_REF = re.compile(
    r"^(?:https?://apigateway\.[^/]*/restapis/[^/]+/models/|#/(?:definitions|components/schemas)/)(\w+)$"
)


def invoke_origin(api_id: str) -> str:
    """Return the scheme, host and port clients reach an API's stages at on the gateway."""
    return f"http://{api_id}.{settings.GATEWAY['PUBLIC_HOST']}:{settings.GATEWAY_PORT}"


def parse_extensions(value: str | None) -> frozenset[str]:
    """Read the `extensions` export parameter (`'integrations,authorizers'`, quotes optional)."""
    names = {part.strip().strip("'\"").lower() for part in (value or "").strip("'\"").split(",")}
    return frozenset(names & EXTENSIONS)


def stage_export(
    *,
    snapshot: dict[str, Any],
    stage_name: str,
    deployed_at: datetime | None = None,
    export_type: str = "oas30",
    extensions: Iterable[str] = (),
    server_url: str | None = None,
) -> dict[str, Any]:
    """Return the OpenAPI (`oas30`) or Swagger (`swagger`) document of a stage's deployment snapshot."""
    if export_type not in EXPORT_TYPES:
        raise ValueError(f"unknown export type {export_type!r}")
    return _Exporter(snapshot, export_type, frozenset(extensions)).document(stage_name, deployed_at, server_url)


def render(document: dict[str, Any], media_type: str) -> bytes:
    """Serialise an export as JSON or YAML."""
    if media_type == "application/yaml":
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode()
    return json.dumps(document, indent=2).encode()


class _Exporter:
    """One export: the snapshot, the target format and the extensions asked for."""

    def __init__(self, snapshot: dict[str, Any], export_type: str, extensions: frozenset[str]) -> None:
        self.snapshot = snapshot
        self.oas3 = export_type == "oas30"
        self.keywords = SCHEMA_KEYWORDS[export_type]
        self.with_integrations = bool(extensions & {"integrations", "apigateway"})
        self.with_authorizers = bool(extensions & {"authorizers", "apigateway"})
        self.with_apigateway = "apigateway" in extensions
        self.models = {model["name"]: model for model in snapshot.get("models", [])}
        self.authorizers = {a["id"]: a for a in snapshot.get("authorizers", []) if a.get("id")}
        self.validators = {v["id"]: v for v in snapshot.get("requestValidators", []) if v.get("id")}
        self.schemes: dict[str, dict[str, Any]] = {}

    # --- the document --------------------------------------------------------------------------------

    def document(self, stage_name: str, deployed_at: datetime | None, server_url: str | None) -> dict[str, Any]:
        api = self.snapshot.get("restApi", {})
        info: dict[str, Any] = {"title": api.get("name") or api.get("id", "API")}
        if api.get("description"):
            info["description"] = api["description"]
        info["version"] = deployed_at.strftime("%Y-%m-%dT%H:%M:%SZ") if deployed_at else "1"
        paths = self.paths()
        schemas = {name: self.model_schema(model) for name, model in sorted(self.models.items())}
        origin = invoke_origin(api.get("id", ""))
        if self.oas3:
            doc: dict[str, Any] = {"openapi": "3.0.1", "info": info}
            if server_url:
                doc["servers"] = [{"url": server_url}]
            else:
                doc["servers"] = [{"url": f"{origin}/{{basePath}}", "variables": {"basePath": {"default": stage_name}}}]
            doc["paths"] = paths
            components: dict[str, Any] = {}
            if schemas:
                components["schemas"] = schemas
            if self.schemes:
                components["securitySchemes"] = self.schemes
            if components:
                doc["components"] = components
        else:
            base = server_url or f"{origin}/{stage_name}"
            scheme, _, rest = base.partition("://")
            host, _, base_path = rest.partition("/")
            doc = {"swagger": "2.0", "info": info, "host": host, "basePath": f"/{base_path}", "schemes": [scheme]}
            doc["paths"] = paths
            if self.schemes:
                doc["securityDefinitions"] = self.schemes
            if schemas:
                doc["definitions"] = schemas
        doc.update(self.top_level_extensions(api))
        return doc

    def top_level_extensions(self, api: dict[str, Any]) -> dict[str, Any]:
        if not self.with_apigateway:
            return {}
        extras: dict[str, Any] = {}
        if api.get("binaryMediaTypes"):
            extras[f"{X}binary-media-types"] = list(api["binaryMediaTypes"])
        if api.get("apiKeySource"):
            extras[f"{X}api-key-source"] = api["apiKeySource"]
        if api.get("minimumCompressionSize") is not None:
            extras[f"{X}minimum-compression-size"] = api["minimumCompressionSize"]
        if api.get("policy"):
            try:
                extras[f"{X}policy"] = json.loads(api["policy"])
            except ValueError:
                extras[f"{X}policy"] = api["policy"]
        if self.validators:
            extras[f"{X}request-validators"] = {
                v.get("name") or v["id"]: {
                    "validateRequestBody": bool(v.get("validateRequestBody")),
                    "validateRequestParameters": bool(v.get("validateRequestParameters")),
                }
                for v in self.validators.values()
            }
        responses = self.snapshot.get("gatewayResponses") or []
        if responses:
            extras[f"{X}gateway-responses"] = {
                r["responseType"]: {k: v for k, v in r.items() if k not in {"responseType", "defaultResponse"}}
                for r in responses
            }
        return extras

    # --- paths and operations ------------------------------------------------------------------------

    def paths(self) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        for resource in sorted(self.snapshot.get("resources", []), key=lambda r: r["path"]):
            methods = resource.get("resourceMethods") or {}
            if not methods:
                continue
            item: dict[str, Any] = {}
            for verb in sorted(methods):
                key = ANY_METHOD if verb == "ANY" else verb.lower()
                if verb != "ANY" and verb not in OPERATION_VERBS:
                    continue
                item[key] = self.operation(resource["path"], methods[verb])
            paths[resource["path"]] = item
        return paths

    def operation(self, path: str, method: dict[str, Any]) -> dict[str, Any]:
        op: dict[str, Any] = {}
        if method.get("operationName"):
            op["operationId"] = method["operationName"]
        parameters = self.parameters(path, method.get("requestParameters") or {})
        models = method.get("requestModels") or {}
        if models and not self.oas3:
            op["consumes"] = sorted(models)
            name = next(iter(models.values()))
            parameters.append({"in": "body", "name": name, "required": True, "schema": self.model_ref(name)})
        produces = sorted(
            {ct for r in (method.get("methodResponses") or {}).values() for ct in r.get("responseModels") or {}}
        )
        if produces and not self.oas3:
            op["produces"] = produces
        if parameters:
            op["parameters"] = parameters
        if models and self.oas3:
            content = {ct: {"schema": self.model_ref(name)} for ct, name in sorted(models.items())}
            op["requestBody"] = {"content": content, "required": True}
        op["responses"] = self.responses(method.get("methodResponses") or {})
        security = self.security(method)
        if security:
            op["security"] = [security]
        if self.with_apigateway and method.get("requestValidatorId") in self.validators:
            validator = self.validators[method["requestValidatorId"]]
            op[f"{X}request-validator"] = validator.get("name") or validator["id"]
        if self.with_integrations and method.get("methodIntegration"):
            op[f"{X}integration"] = self.integration(method["methodIntegration"])
        return op

    def parameters(self, path: str, request_parameters: dict[str, bool]) -> list[dict[str, Any]]:
        found: dict[tuple[str, str], bool] = {}
        for name in re.findall(r"\{([^}]+)\}", path):
            found[("path", name)] = True
        for expression, required in sorted(request_parameters.items()):
            _, _, rest = expression.partition("method.request.")
            source, _, name = rest.partition(".")
            location = PARAMETER_LOCATIONS.get(source)
            if location is None or not name:
                continue
            if location == "path":
                # A greedy segment's parameter is mapped without its `+`; the path names it with one.
                name = f"{name}+" if f"{{{name}+}}" in path else name
                if ("path", name) not in found:
                    continue  # a path parameter the resource path does not have cannot be sent
            found[(location, name)] = True if location == "path" else bool(required)
        parameters = []
        for (location, name), required in found.items():
            parameter: dict[str, Any] = {"name": name, "in": location, "required": required}
            if self.oas3:
                parameter["schema"] = {"type": "string"}
            else:
                parameter["type"] = "string"
            parameters.append(parameter)
        return parameters

    def responses(self, method_responses: dict[str, Any]) -> dict[str, Any]:
        if not method_responses:
            return {"default": {"description": "Default response"}}
        rendered: dict[str, Any] = {}
        for status, response in sorted(method_responses.items()):
            out: dict[str, Any] = {"description": f"{status} response"}
            headers = {}
            for expression in sorted(response.get("responseParameters") or {}):
                if expression.startswith("method.response.header."):
                    header = expression.removeprefix("method.response.header.")
                    headers[header] = {"schema": {"type": "string"}} if self.oas3 else {"type": "string"}
            if headers:
                out["headers"] = headers
            models = response.get("responseModels") or {}
            if models and self.oas3:
                out["content"] = {ct: {"schema": self.model_ref(name)} for ct, name in sorted(models.items())}
            elif models:
                out["schema"] = self.model_ref(next(iter(models.values())))
            rendered[status] = out
        return rendered

    def integration(self, integration: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("type", "passthroughBehavior", "contentHandling"):
            if integration.get(key):
                out[key] = str(integration[key]).lower()
        for key in (
            "httpMethod", "uri", "connectionType", "connectionId", "credentials", "requestParameters",
            "requestTemplates", "timeoutInMillis", "cacheNamespace", "cacheKeyParameters", "tlsConfig",
        ):  # fmt: skip
            if integration.get(key) not in (None, "", {}, []):
                out[key] = integration[key]
        responses = {}
        for response in (integration.get("integrationResponses") or {}).values():
            rendered = {k: v for k, v in response.items() if k != "selectionPattern" and v not in (None, "", {})}
            if rendered.get("contentHandling"):
                rendered["contentHandling"] = str(rendered["contentHandling"]).lower()
            responses[response.get("selectionPattern") or "default"] = rendered
        if responses:
            out["responses"] = responses
        return out

    # --- security ------------------------------------------------------------------------------------

    def security(self, method: dict[str, Any]) -> dict[str, list[str]]:
        requirement: dict[str, list[str]] = {}
        if method.get("apiKeyRequired"):
            self.schemes[API_KEY_SCHEME] = {"type": "apiKey", "name": API_KEY_HEADER, "in": "header"}
            requirement[API_KEY_SCHEME] = []
        kind = method.get("authorizationType") or "NONE"
        if kind == "AWS_IAM":
            scheme = {"type": "apiKey", "name": "Authorization", "in": "header"}
            if self.with_authorizers:
                scheme[f"{X}authtype"] = "awsSigv4"
            self.schemes["sigv4"] = scheme
            requirement["sigv4"] = []
        elif kind in {"CUSTOM", "COGNITO_USER_POOLS"} and method.get("authorizerId") in self.authorizers:
            authorizer = self.authorizers[method["authorizerId"]]
            name = re.sub(r"[^A-Za-z0-9._-]", "_", authorizer.get("name") or authorizer["id"])
            self.schemes[name] = self.authorizer_scheme(authorizer)
            scopes = list(method.get("authorizationScopes") or []) if kind == "COGNITO_USER_POOLS" else []
            requirement[name] = scopes
        return requirement

    def authorizer_scheme(self, authorizer: dict[str, Any]) -> dict[str, Any]:
        source = (authorizer.get("identitySource") or "").split(",")[0].strip()
        header = source.removeprefix("method.request.header.") if source.startswith("method.request.header.") else ""
        scheme: dict[str, Any] = {"type": "apiKey", "name": header or "Authorization", "in": "header"}
        if not self.with_authorizers:
            return scheme
        kind = (authorizer.get("type") or "TOKEN").lower()
        scheme[f"{X}authtype"] = "cognito_user_pools" if kind == "cognito_user_pools" else "custom"
        details: dict[str, Any] = {"type": kind}
        for key in (
            "authorizerUri", "authorizerCredentials", "identitySource", "identityValidationExpression",
            "authorizerResultTtlInSeconds", "providerARNs",
        ):  # fmt: skip
            if authorizer.get(key) not in (None, "", []):
                details[key] = authorizer[key]
        scheme[f"{X}authorizer"] = details
        return scheme

    # --- models --------------------------------------------------------------------------------------

    def model_ref(self, name: str) -> dict[str, Any]:
        if name not in self.models:
            return {}
        return {"$ref": f"#/components/schemas/{name}" if self.oas3 else f"#/definitions/{name}"}

    def model_schema(self, model: dict[str, Any]) -> dict[str, Any]:
        try:
            parsed = json.loads(model.get("schema") or "{}")
        except ValueError:
            parsed = {}
        schema = self.clean(parsed) if isinstance(parsed, dict) else {}
        if model.get("description") and "description" not in schema:
            schema["description"] = model["description"]
        return schema

    def clean(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Keep the JSON Schema keywords the target format accepts, with model references rewritten."""
        if "$ref" in schema:
            match = MODEL_REF.match(str(schema["$ref"]))
            return self.model_ref(match[1]) if match else {}
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key.startswith("x-"):
                out[key] = value
            elif key not in self.keywords:
                continue
            elif key == "type" and isinstance(value, list):
                types = [t for t in value if t != "null"]
                if types:
                    out["type"] = types[0]
                if "null" in value and self.oas3:
                    out["nullable"] = True
            elif key == "properties" and isinstance(value, dict):
                out[key] = {name: self.clean(sub) for name, sub in value.items() if isinstance(sub, dict)}
            elif key in {"items", "not", "additionalProperties"} and isinstance(value, dict):
                out[key] = self.clean(value)
            elif key == "items" and isinstance(value, list):
                out[key] = self.clean(value[0]) if value and isinstance(value[0], dict) else {}
            elif key in {"allOf", "oneOf", "anyOf"} and isinstance(value, list):
                out[key] = [self.clean(sub) for sub in value if isinstance(sub, dict)]
            elif key == "required":
                if isinstance(value, list) and value and all(isinstance(name, str) for name in value):
                    out[key] = value
            elif key in {"exclusiveMaximum", "exclusiveMinimum"} and not isinstance(value, bool):
                continue  # draft-06 numbers; OpenAPI 3.0 and Swagger 2.0 take booleans
            else:
                out[key] = value
        return out
