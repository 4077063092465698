"""allauth's hooks for the portal: who may sign up (open, invite-only, approval) and what a signup records."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from portal.models import Invitation, SignupMode
from portal.selectors import portal_settings_get

INVITATION_SESSION_KEY = "portal_invitation"


def session_invitation(request: HttpRequest | None, *, unused: bool = True) -> Invitation | None:
    """Return the invitation whose link this browser followed (by default only while it is unused)."""
    token = request.session.get(INVITATION_SESSION_KEY) if request is not None else None
    if not token:
        return None
    invitations = Invitation.objects.filter(token=token)
    return (invitations.filter(accepted_at__isnull=True) if unused else invitations).first()


class PortalAccountAdapter(DefaultAccountAdapter):
    def _request(self) -> HttpRequest | None:
        return self.request or getattr(context, "request", None)

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        if portal_settings_get().signup_mode != SignupMode.INVITE:
            return True
        return session_invitation(request) is not None

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        request = self._request()
        signing_up = request is not None and not request.user.is_authenticated
        if signing_up and portal_settings_get().signup_mode == SignupMode.INVITE:
            # allauth cleans the address again after save_user has accepted the invitation.
            invitation = session_invitation(request, unused=False)
            if invitation is None or invitation.email.lower() != email.strip().lower():
                raise ValidationError("Sign up with the address your invitation was sent to.")
        return email

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        from portal.services import consumer_register

        user = super().save_user(request, user, form, commit=commit)
        if commit:
            consumer_register(user=user, invitation=session_invitation(request))
        return user
