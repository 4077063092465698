"""The console's URLs, mounted at /console/."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from apis.console.views import (
    account,
    apis,
    auth,
    authorizers,
    components,
    dashboard,
    deployments,
    gateway_responses,
    keys,
    methods,
    plans,
    portal,
    resources,
    stages,
    tags,
    usage,
)

app_name = "console"

API = "apis/<str:api_id>/"
RESOURCE = API + "resources/<str:resource_id>/"
METHOD = RESOURCE + "methods/<str:http_method>/"
STAGE = API + "stages/<str:stage_name>/"
PLAN = "usage-plans/<str:plan_id>/"
KEY = "api-keys/<str:key_id>/"
DOMAIN = "domains/<str:domain_name>/"
AUTHORIZER = API + "authorizers/<str:authorizer_id>/"
GATEWAY_RESPONSE = API + "gateway-responses/<str:response_type>/"

urlpatterns = [
    path("login/", auth.ConsoleLoginView.as_view(next_page=reverse_lazy("console:home")), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page=reverse_lazy("console:login")), name="logout"),
    path("", apis.home, name="home"),
    # APIs
    path("apis/", apis.api_list, name="api_list"),
    path("apis/new/", apis.api_create, name="api_create"),
    path(API, apis.api_detail, name="api"),
    path(API + "settings/", apis.api_settings, name="api_settings"),
    path(API + "delete/", apis.api_delete, name="api_delete"),
    path(API + "tags/", tags.api_tags, name="api_tags"),
    path(API + "tags/delete/", tags.api_tag_delete, name="api_tag_delete"),
    path(API + "dashboard/", dashboard.api_dashboard, name="dashboard"),
    # Designer: resources and methods
    path(API + "resources/", resources.resources, name="resources"),
    path(RESOURCE, resources.resources, name="resource"),
    path(RESOURCE + "children/", resources.resource_create, name="resource_create"),
    path(RESOURCE + "update/", resources.resource_update, name="resource_update"),
    path(RESOURCE + "delete/", resources.resource_delete, name="resource_delete"),
    path(RESOURCE + "cors/", resources.resource_cors, name="resource_cors"),
    path(RESOURCE + "methods/", resources.method_create, name="method_create"),
    path(METHOD, methods.method_request, name="method"),
    path(METHOD + "delete/", methods.method_delete, name="method_delete"),
    path(METHOD + "integration/", methods.integration_request, name="integration"),
    path(METHOD + "responses/", methods.method_responses, name="method_responses"),
    path(METHOD + "responses/<str:status_code>/", methods.method_response, name="method_response"),
    path(
        METHOD + "responses/<str:status_code>/delete/",
        methods.method_response_delete,
        name="method_response_delete",
    ),
    path(METHOD + "integration/responses/", methods.integration_responses, name="integration_responses"),
    path(
        METHOD + "integration/responses/<str:status_code>/",
        methods.integration_response,
        name="integration_response",
    ),
    path(
        METHOD + "integration/responses/<str:status_code>/delete/",
        methods.integration_response_delete,
        name="integration_response_delete",
    ),
    path(METHOD + "test/", components.method_test, name="method_test"),
    # Designer: models and validators
    path(API + "models/", components.model_list, name="models"),
    path(API + "new-model/", components.model_create, name="model_create"),
    path(API + "models/<str:name>/", components.model_edit, name="model"),
    path(API + "models/<str:name>/delete/", components.model_delete, name="model_delete"),
    path(API + "validators/", components.validators, name="validators"),
    path(API + "validators/<str:validator_id>/delete/", components.validator_delete, name="validator_delete"),
    # Designer: authorizers and gateway responses
    path(API + "authorizers/", authorizers.authorizer_list, name="authorizers"),
    path(AUTHORIZER, authorizers.authorizer_edit, name="authorizer"),
    path(AUTHORIZER + "delete/", authorizers.authorizer_delete, name="authorizer_delete"),
    path(API + "gateway-responses/", gateway_responses.gateway_response_list, name="gateway_responses"),
    path(GATEWAY_RESPONSE, gateway_responses.gateway_response_edit, name="gateway_response"),
    path(GATEWAY_RESPONSE + "delete/", gateway_responses.gateway_response_delete, name="gateway_response_delete"),
    # Deployments and stages
    path(API + "deploy/", deployments.deploy, name="deploy"),
    path(API + "deployments/", deployments.deployment_list, name="deployments"),
    path(API + "deployments/diff/", deployments.deployment_diff, name="deployment_diff"),
    path(API + "stages/", stages.stage_list, name="stages"),
    path(STAGE, stages.stage_detail, name="stage"),
    path(STAGE + "rollback/", stages.stage_rollback, name="stage_rollback"),
    path(STAGE + "settings/", stages.stage_settings, name="stage_settings"),
    path(STAGE + "throttles/", stages.stage_method_throttle, name="stage_method_throttle"),
    path(STAGE + "throttles/delete/", stages.stage_method_setting_delete, name="stage_method_setting_delete"),
    path(STAGE + "variables/", stages.stage_variables, name="stage_variables"),
    path(STAGE + "variables/delete/", stages.stage_variable_delete, name="stage_variable_delete"),
    path(STAGE + "canary/", stages.stage_canary, name="stage_canary"),
    path(STAGE + "canary/delete/", stages.stage_canary_delete, name="stage_canary_delete"),
    path(STAGE + "tags/", stages.stage_tags, name="stage_tags"),
    path(STAGE + "tags/delete/", stages.stage_tag_delete, name="stage_tag_delete"),
    path(STAGE + "delete/", stages.stage_delete, name="stage_delete"),
    path(STAGE + "portal/", portal.stage_portal, name="stage_portal"),
    path(STAGE + "portal/unpublish/", portal.stage_unpublish, name="stage_unpublish"),
    # Usage plans
    path("usage-plans/", plans.plan_list, name="plans"),
    path("usage-plans/new/", plans.plan_create, name="plan_create"),
    path(PLAN, plans.plan_detail, name="plan"),
    path(PLAN + "stages/", plans.plan_stage_add, name="plan_stage_add"),
    path(PLAN + "stages/remove/", plans.plan_stage_remove, name="plan_stage_remove"),
    path(PLAN + "stages/<str:link_id>/throttles/", plans.plan_method_throttle, name="plan_method_throttle"),
    path(
        PLAN + "stages/<str:link_id>/throttles/delete/",
        plans.plan_method_throttle_delete,
        name="plan_method_throttle_delete",
    ),
    path(PLAN + "keys/", plans.plan_key_add, name="plan_key_add"),
    path(PLAN + "keys/<str:key_id>/remove/", plans.plan_key_remove, name="plan_key_remove"),
    path(PLAN + "delete/", plans.plan_delete, name="plan_delete"),
    path(PLAN + "usage/", usage.plan_usage_page, name="plan_usage"),
    path(PLAN + "usage/<str:key_id>/remaining/", usage.plan_key_remaining, name="plan_key_remaining"),
    path(PLAN + "tags/", tags.plan_tags, name="plan_tags"),
    path(PLAN + "tags/delete/", tags.plan_tag_delete, name="plan_tag_delete"),
    # API keys
    path("api-keys/", keys.key_list, name="keys"),
    path("api-keys/new/", keys.key_create, name="key_create"),
    path("api-keys/import/", keys.key_import, name="key_import"),
    path("api-keys/<str:key_id>/", keys.key_detail, name="key"),
    path("api-keys/<str:key_id>/enabled/", keys.key_enable, name="key_enable"),
    path("api-keys/<str:key_id>/delete/", keys.key_delete, name="key_delete"),
    path(KEY + "tags/", tags.key_tags, name="key_tags"),
    path(KEY + "tags/delete/", tags.key_tag_delete, name="key_tag_delete"),
    # Account
    path("domains/", account.domain_list, name="domains"),
    path("domains/new/", account.domain_create, name="domain_create"),
    path("domains/<str:domain_name>/", account.domain_detail, name="domain"),
    path("domains/<str:domain_name>/mappings/delete/", account.mapping_delete, name="mapping_delete"),
    path("domains/<str:domain_name>/delete/", account.domain_delete, name="domain_delete"),
    path(DOMAIN + "tags/", tags.domain_tags, name="domain_tags"),
    path(DOMAIN + "tags/delete/", tags.domain_tag_delete, name="domain_tag_delete"),
    # Developer portal
    path("portal/", portal.portal_overview, name="portal"),
    path("portal/subscriptions/", portal.subscription_list, name="portal_subscriptions"),
    path("portal/subscriptions/decide/", portal.subscription_decide, name="portal_subscription_decide"),
    path("portal/signups/", portal.signup_list, name="portal_signups"),
    path("portal/signups/decide/", portal.signup_decide, name="portal_signup_decide"),
    path("access-keys/", account.access_keys, name="access_keys"),
    path("access-keys/<str:access_key_id>/delete/", account.access_key_delete, name="access_key_delete"),
    path("audit/", account.audit_log, name="audit"),
]
