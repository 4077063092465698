"""Every management operation Portico speaks, named, routed and answered as apigateway 2015-07-09 does."""

from __future__ import annotations

from apis.aws_api import components as c
from apis.aws_api import deployments as d
from apis.aws_api import domains as dn
from apis.aws_api import exports as ex
from apis.aws_api import keys as k
from apis.aws_api import quotas as q
from apis.aws_api import restapis as r
from apis.aws_api import sdks as sk
from apis.aws_api import usage as u
from apis.aws_api.framework import op

API = "/restapis/{restapi_id}"
RESOURCE = f"{API}/resources/{{resource_id}}"
METHOD = f"{RESOURCE}/methods/{{http_method}}"
METHOD_RESPONSE = f"{METHOD}/responses/{{status_code}}"
INTEGRATION = f"{METHOD}/integration"
INTEGRATION_RESPONSE = f"{INTEGRATION}/responses/{{status_code}}"
PLAN = "/usageplans/{usageplanId}"
DOMAIN = "/domainnames/{domain_name}"

OPERATIONS = [
    op("POST", "/restapis", "CreateRestApi", r.create_rest_api, 201),
    op("GET", "/restapis", "GetRestApis", r.get_rest_apis),
    op("GET", API, "GetRestApi", r.get_rest_api),
    op("PATCH", API, "UpdateRestApi", r.update_rest_api),
    op("DELETE", API, "DeleteRestApi", r.delete_rest_api, 202),
    op("GET", f"{API}/resources", "GetResources", r.get_resources),
    op("GET", RESOURCE, "GetResource", r.get_resource),
    op("POST", f"{API}/resources/{{parent_id}}", "CreateResource", r.create_resource, 201),
    op("PATCH", RESOURCE, "UpdateResource", r.update_resource),
    op("DELETE", RESOURCE, "DeleteResource", r.delete_resource, 202),
    op("PUT", METHOD, "PutMethod", r.put_method, 201),
    op("GET", METHOD, "GetMethod", r.get_method),
    op("PATCH", METHOD, "UpdateMethod", r.update_method),
    op("DELETE", METHOD, "DeleteMethod", r.delete_method, 204),
    op("POST", METHOD, "TestInvokeMethod", r.test_invoke_method, changes=False),
    op("PUT", METHOD_RESPONSE, "PutMethodResponse", r.put_method_response, 201),
    op("GET", METHOD_RESPONSE, "GetMethodResponse", r.get_method_response),
    op("PATCH", METHOD_RESPONSE, "UpdateMethodResponse", r.update_method_response, 201),
    op("DELETE", METHOD_RESPONSE, "DeleteMethodResponse", r.delete_method_response, 204),
    op("PUT", INTEGRATION, "PutIntegration", r.put_integration, 201),
    op("GET", INTEGRATION, "GetIntegration", r.get_integration),
    op("PATCH", INTEGRATION, "UpdateIntegration", r.update_integration),
    op("DELETE", INTEGRATION, "DeleteIntegration", r.delete_integration, 204),
    op("PUT", INTEGRATION_RESPONSE, "PutIntegrationResponse", r.put_integration_response, 201),
    op("GET", INTEGRATION_RESPONSE, "GetIntegrationResponse", r.get_integration_response),
    op("PATCH", INTEGRATION_RESPONSE, "UpdateIntegrationResponse", r.update_integration_response),
    op("DELETE", INTEGRATION_RESPONSE, "DeleteIntegrationResponse", r.delete_integration_response, 204),
    op("POST", f"{API}/models", "CreateModel", c.create_model, 201),
    op("GET", f"{API}/models", "GetModels", c.get_models),
    op("GET", f"{API}/models/{{model_name}}", "GetModel", c.get_model),
    op("PATCH", f"{API}/models/{{model_name}}", "UpdateModel", c.update_model),
    op("DELETE", f"{API}/models/{{model_name}}", "DeleteModel", c.delete_model, 202),
    op("POST", f"{API}/requestvalidators", "CreateRequestValidator", c.create_request_validator, 201),
    op("GET", f"{API}/requestvalidators", "GetRequestValidators", c.get_request_validators),
    op("GET", f"{API}/requestvalidators/{{requestvalidator_id}}", "GetRequestValidator", c.get_request_validator),
    op(
        "PATCH",
        f"{API}/requestvalidators/{{requestvalidator_id}}",
        "UpdateRequestValidator",
        c.update_request_validator,
    ),
    op(
        "DELETE",
        f"{API}/requestvalidators/{{requestvalidator_id}}",
        "DeleteRequestValidator",
        c.delete_request_validator,
        202,
    ),
    op("POST", f"{API}/authorizers", "CreateAuthorizer", c.create_authorizer, 201),
    op("GET", f"{API}/authorizers", "GetAuthorizers", c.get_authorizers),
    op("GET", f"{API}/authorizers/{{authorizer_id}}", "GetAuthorizer", c.get_authorizer),
    op("PATCH", f"{API}/authorizers/{{authorizer_id}}", "UpdateAuthorizer", c.update_authorizer),
    op("DELETE", f"{API}/authorizers/{{authorizer_id}}", "DeleteAuthorizer", c.delete_authorizer, 202),
    op("GET", f"{API}/gatewayresponses", "GetGatewayResponses", c.get_gateway_responses),
    op("PUT", f"{API}/gatewayresponses/{{response_type}}", "PutGatewayResponse", c.put_gateway_response, 201),
    op("GET", f"{API}/gatewayresponses/{{response_type}}", "GetGatewayResponse", c.get_gateway_response),
    op("PATCH", f"{API}/gatewayresponses/{{response_type}}", "UpdateGatewayResponse", c.update_gateway_response),
    op(
        "DELETE",
        f"{API}/gatewayresponses/{{response_type}}",
        "DeleteGatewayResponse",
        c.delete_gateway_response,
        202,
    ),
    op("POST", f"{API}/deployments", "CreateDeployment", d.create_deployment, 201),
    op("GET", f"{API}/deployments", "GetDeployments", d.get_deployments),
    op("GET", f"{API}/deployments/{{deployment_id}}", "GetDeployment", d.get_deployment),
    op("PATCH", f"{API}/deployments/{{deployment_id}}", "UpdateDeployment", d.update_deployment),
    op("DELETE", f"{API}/deployments/{{deployment_id}}", "DeleteDeployment", d.delete_deployment, 202),
    op("POST", f"{API}/stages", "CreateStage", d.create_stage, 201),
    op("GET", f"{API}/stages", "GetStages", d.get_stages),
    op("GET", f"{API}/stages/{{stage_name}}", "GetStage", d.get_stage),
    op("PATCH", f"{API}/stages/{{stage_name}}", "UpdateStage", d.update_stage),
    op("DELETE", f"{API}/stages/{{stage_name}}", "DeleteStage", d.delete_stage, 202),
    op("GET", f"{API}/stages/{{stage_name}}/exports/{{export_type}}", "GetExport", ex.get_export),
    op("GET", f"{API}/stages/{{stage_name}}/sdks/{{sdk_type}}", "GetSdk", sk.get_sdk),
    op("GET", "/sdktypes", "GetSdkTypes", sk.get_sdk_types),
    op("GET", "/sdktypes/{sdktype_id}", "GetSdkType", sk.get_sdk_type),
    op("POST", "/apikeys", "ImportApiKeys", k.import_api_keys, 201, when=("mode", "import")),
    op("POST", "/apikeys", "CreateApiKey", k.create_api_key, 201),
    op("GET", "/apikeys", "GetApiKeys", k.get_api_keys),
    op("GET", "/apikeys/{api_Key}", "GetApiKey", k.get_api_key),
    op("PATCH", "/apikeys/{api_Key}", "UpdateApiKey", k.update_api_key),
    op("DELETE", "/apikeys/{api_Key}", "DeleteApiKey", k.delete_api_key, 202),
    op("POST", "/usageplans", "CreateUsagePlan", k.create_usage_plan, 201),
    op("GET", "/usageplans", "GetUsagePlans", k.get_usage_plans),
    op("GET", PLAN, "GetUsagePlan", k.get_usage_plan),
    op("PATCH", PLAN, "UpdateUsagePlan", k.update_usage_plan),
    op("DELETE", PLAN, "DeleteUsagePlan", k.delete_usage_plan, 202),
    op("POST", f"{PLAN}/keys", "CreateUsagePlanKey", k.create_usage_plan_key, 201),
    op("GET", f"{PLAN}/keys", "GetUsagePlanKeys", k.get_usage_plan_keys),
    op("GET", f"{PLAN}/keys/{{keyId}}", "GetUsagePlanKey", k.get_usage_plan_key),
    op("DELETE", f"{PLAN}/keys/{{keyId}}", "DeleteUsagePlanKey", k.delete_usage_plan_key, 202),
    op("GET", f"{PLAN}/usage", "GetUsage", u.get_usage),
    op("PATCH", f"{PLAN}/keys/{{keyId}}/usage", "UpdateUsage", q.update_usage),
    op("POST", "/domainnames", "CreateDomainName", dn.create_domain_name, 201),
    op("GET", "/domainnames", "GetDomainNames", dn.get_domain_names),
    op("GET", DOMAIN, "GetDomainName", dn.get_domain_name),
    op("PATCH", DOMAIN, "UpdateDomainName", dn.update_domain_name),
    op("DELETE", DOMAIN, "DeleteDomainName", dn.delete_domain_name, 202),
    op("POST", f"{DOMAIN}/basepathmappings", "CreateBasePathMapping", dn.create_base_path_mapping, 201),
    op("GET", f"{DOMAIN}/basepathmappings", "GetBasePathMappings", dn.get_base_path_mappings),
    op("GET", f"{DOMAIN}/basepathmappings/{{base_path}}", "GetBasePathMapping", dn.get_base_path_mapping),
    op("PATCH", f"{DOMAIN}/basepathmappings/{{base_path}}", "UpdateBasePathMapping", dn.update_base_path_mapping),
    op(
        "DELETE",
        f"{DOMAIN}/basepathmappings/{{base_path}}",
        "DeleteBasePathMapping",
        dn.delete_base_path_mapping,
        202,
    ),
    op("PUT", "/tags/{resource_arn}", "TagResource", dn.tag_resource, 204),
    op("DELETE", "/tags/{resource_arn}", "UntagResource", dn.untag_resource, 204),
    op("GET", "/tags/{resource_arn}", "GetTags", dn.get_tags),
]
