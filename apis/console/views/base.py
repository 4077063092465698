"""What every console view shares: calling a service as one audited transaction, and showing its errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest

from apis.errors import ApiError
from apis.services.access import audit_record

T = TypeVar("T")


def perform(request: HttpRequest, operation: str, target: str, call: Callable[[], T]) -> T:
    """Run one service call in a transaction and record it in the audit log, as the management API does."""
    try:
        with transaction.atomic():
            result = call()
    except ApiError as exc:
        _audit(request, operation, target, exc.status, exc.error_type, exc.message)
        raise
    _audit(request, operation, target, 200)
    return result


def _audit(
    request: HttpRequest, operation: str, target: str, status: int, error_type: str = "", message: str = ""
) -> None:
    audit_record(
        user=request.user,
        source_ip=request.META.get("REMOTE_ADDR") or None,
        operation=operation,
        target=target,
        status=status,
        error_type=error_type,
        message=message,
    )


@contextmanager
def form_errors(form: forms.Form, field: str | None = None) -> Iterator[None]:
    """Show a service's ApiError on the form (on `field`, or above the fields) instead of raising it."""
    try:
        yield
    except ApiError as exc:
        form.add_error(field, exc.message)


@contextmanager
def message_errors(request: HttpRequest) -> Iterator[None]:
    """Show a service's ApiError as an error message on the next page instead of raising it."""
    try:
        yield
    except ApiError as exc:
        messages.error(request, exc.message)


def safe_next(request: HttpRequest, default: str) -> str:
    """Return the form's `next` when it is a console page, else `default` (no open redirects)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if target.startswith("/console/") and "//" not in target and "\\" not in target else default


def posted(request: HttpRequest) -> Any:
    """Return the POST data to bind a form to, or None on a GET (an empty POST still binds)."""
    return request.POST if request.method == "POST" else None


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def api_target(api_id: str, *parts: Any) -> str:
    """Return the management API path of an object, the audit log's `target`."""
    return "/".join([f"/restapis/{api_id}", *(str(p) for p in parts)])
