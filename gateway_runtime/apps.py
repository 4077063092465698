from django.apps import AppConfig


class GatewayRuntimeConfig(AppConfig):
    name = "gateway_runtime"
