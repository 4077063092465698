"""The developer portal's URLs, mounted at the site root (allauth's account pages are under /accounts/)."""

from django.urls import path

from portal import proxy, views

app_name = "portal"

API = "apis/<slug:slug>/"

urlpatterns = [
    path("", views.home, name="home"),
    path(API, views.api_detail, name="api_detail"),
    path(API + "reference/", views.api_reference, name="api_reference"),
    path(API + "openapi.json", views.api_openapi, name="api_openapi"),
    path(API + "try/", views.api_try, name="api_try"),
    path(API + "subscribe/", views.api_subscribe, name="api_subscribe"),
    path(API + "sdks/", views.api_sdks, name="api_sdks"),
    path(API + "sdks/<str:sdk_type>/", views.api_sdk_status, name="api_sdk_status"),
    path(API + "sdks/<str:sdk_type>/build/", views.api_sdk_build, name="api_sdk_build"),
    path(API + "sdks/<str:sdk_type>/download/", views.api_sdk_download, name="api_sdk_download"),
    path(API + "proxy/", proxy.api_proxy, name="api_proxy_root"),
    path(API + "proxy/<path:path>", proxy.api_proxy, name="api_proxy"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("subscriptions/<str:subscription_id>/cancel/", views.subscription_cancel, name="subscription_cancel"),
    path("keys/", views.keys, name="keys"),
    path("keys/new/", views.key_create, name="key_create"),
    path("keys/<str:key_id>/", views.key_detail, name="key_detail"),
    path("keys/<str:key_id>/rotate/", views.key_rotate, name="key_rotate"),
    path("keys/<str:key_id>/revoke/", views.key_revoke, name="key_revoke"),
    path("usage/", views.usage, name="usage"),
    path("keys/<str:key_id>/usage/<str:plan_id>/", views.key_usage, name="key_usage"),
    path("keys/<str:key_id>/usage/<str:plan_id>/csv/", views.key_usage_csv, name="key_usage_csv"),
    path("account/delete/", views.account_delete, name="account_delete"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
