"""Who may use the console, and what they may change.

Roles come from Django groups, highest wins:

- a superuser is an admin;
- `console-admin`: everything, including custom domains and the audit log;
- `console-editor`: designs, deploys and sells APIs (APIs, stages, usage plans, API keys, own access keys);
- `console-readonly`: sees every page except the audit log, changes nothing;
- a staff user in none of these groups is read-only;
- anyone else (not staff, or inactive) gets 403; anonymous visitors are sent to the login page.

Only staff accounts are owners, as the management API's `IsOwner` decides.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import reverse

from apis.errors import NotFound

ADMIN_GROUP = "console-admin"
EDITOR_GROUP = "console-editor"
READONLY_GROUP = "console-readonly"
CONSOLE_GROUPS = (ADMIN_GROUP, EDITOR_GROUP, READONLY_GROUP)
SAFE_METHODS = ("GET", "HEAD")


class Role(enum.IntEnum):
    READONLY = 1
    EDITOR = 2
    ADMIN = 3


GROUP_ROLES = {ADMIN_GROUP: Role.ADMIN, EDITOR_GROUP: Role.EDITOR, READONLY_GROUP: Role.READONLY}


def role_of(user: Any) -> Role | None:
    """Return the console role of a user, or None when the user is not an owner."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return None
    if user.is_superuser:
        return Role.ADMIN
    names = user.groups.filter(name__in=CONSOLE_GROUPS).values_list("name", flat=True)
    return max((GROUP_ROLES[name] for name in names), default=Role.READONLY)


@dataclass(frozen=True)
class Access:
    """What the signed-in owner may do; templates read it as `request.console`."""

    role: Role

    @property
    def can_edit(self) -> bool:
        return self.role >= Role.EDITOR

    @property
    def is_admin(self) -> bool:
        return self.role >= Role.ADMIN

    @property
    def role_name(self) -> str:
        return {Role.ADMIN: "admin", Role.EDITOR: "editor", Role.READONLY: "read-only"}[self.role]


View = Callable[..., HttpResponse]


def console_view(
    *, methods: tuple[str, ...] = ("GET",), read: Role = Role.READONLY, write: Role = Role.EDITOR
) -> Callable[[View], View]:
    """Guard a console view: login, owner role for reads and writes, allowed HTTP methods, 404s."""
    allowed = tuple(dict.fromkeys((*methods, "HEAD") if "GET" in methods else methods))

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("console:login"))
            role = role_of(request.user)
            if role is None:
                raise PermissionDenied("The console is for API owners.")
            needed = read if request.method in SAFE_METHODS else write
            if role < needed:
                raise PermissionDenied("Your console role does not allow this.")
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            request.console = Access(role)  # type: ignore[attr-defined]
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from None

        wrapper.console_methods = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorate
