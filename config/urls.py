"""Root URLs of the web process."""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path


def health(_request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("health", health, name="health"),
    path("aws/", include("apis.aws_api.urls")),
    path("console/", include("apis.console.urls")),
    path("demo-backend/", include("apis.demo_backend")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("portal.urls")),
]
