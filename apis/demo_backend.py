"""A small upstream served by the web process: the demo API's HTTP_PROXY integrations point here."""

from __future__ import annotations

import base64

from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

# The pets of AWS's PetStore example; the demo API's MOCK integration returns the same list.
PETS: list[dict[str, object]] = [
    {"id": 1, "type": "dog", "price": 249.99},
    {"id": 2, "type": "cat", "price": 124.99},
    {"id": 3, "type": "fish", "price": 0.99},
]


def _method_not_allowed() -> JsonResponse:
    response = JsonResponse({"message": "Method Not Allowed"}, status=405)
    response["Allow"] = "GET, HEAD"
    return response


@csrf_exempt
def pet_list(request: HttpRequest) -> JsonResponse:
    """Return every pet."""
    if request.method not in {"GET", "HEAD"}:
        return _method_not_allowed()
    return JsonResponse(PETS, safe=False)


@csrf_exempt
def pet_detail(request: HttpRequest, pet_id: str) -> JsonResponse:
    """Return one pet, or a JSON 404."""
    if request.method not in {"GET", "HEAD"}:
        return _method_not_allowed()
    for pet in PETS:
        if str(pet["id"]) == pet_id:
            return JsonResponse(pet)
    return JsonResponse({"message": f"Pet {pet_id} not found"}, status=404)


@csrf_exempt
def echo(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Describe the request as received, so a proxy's mapping can be seen from the client."""
    try:
        body, encoded = request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(request.body).decode("ascii"), True
    return JsonResponse(
        {
            "method": request.method,
            "path": request.path,
            "query": {name: request.GET.getlist(name) for name in request.GET},
            "headers": dict(request.headers),
            "body": body,
            "isBase64Encoded": encoded,
        }
    )


urlpatterns = [
    path("pets", pet_list, name="demo-pets"),
    path("pets/<str:pet_id>", pet_detail, name="demo-pet"),
    re_path(r"^(?P<rest>.*)$", echo, name="demo-echo"),
]
