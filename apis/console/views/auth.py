"""Signing in to the console: Django's login view with a failure budget per client address and username."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

FAILURE_LIMIT = 10
FAILURE_WINDOW_SECONDS = 300
TOO_MANY = "Too many failed sign-in attempts. Wait a few minutes and try again."


def _failure_key(request: HttpRequest) -> str:
    username = (request.POST.get("username") or "").strip().lower()[:150]
    return f"portico:console-login-failures:{request.META.get('REMOTE_ADDR', '')}:{username}"


class ConsoleLoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if (cache.get(_failure_key(request)) or 0) >= FAILURE_LIMIT:
            # Refuse without checking the password, so the budget also stops guessing.
            form = self.form_class(request=request, initial={"username": request.POST.get("username", "")})
            return self.render_to_response(self.get_context_data(form=form, blocked=TOO_MANY), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        key = _failure_key(self.request)
        if not cache.add(key, 1, timeout=FAILURE_WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=FAILURE_WINDOW_SECONDS)
        return super().form_invalid(form)
