"""Emails the portal sends about signups, invitations and subscriptions, after the transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from portal.selectors import portal_settings_get

logger = logging.getLogger(__name__)


def portal_url(name: str, *args: Any) -> str:
    """Return the absolute address of a portal page, for links in emails."""
    return settings.PORTAL_URL + reverse(name, args=args)


def owner_recipients(*owners: Any) -> list[str]:
    """Return who hears about requests waiting for an owner: the owners given, and the portal's address."""
    addresses = [getattr(owner, "email", "") for owner in owners if owner is not None]
    addresses.append(portal_settings_get().notification_email)
    return [address for address in addresses if address]


def notify(*, to: Iterable[str], template: str, context: dict[str, Any]) -> None:
    """Send `portal/email/{template}` to each address, once the current transaction commits."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return
    context = {"portal_url": settings.PORTAL_URL, **context}
    prefix = getattr(settings, "ACCOUNT_EMAIL_SUBJECT_PREFIX", "")
    subject = prefix + " ".join(render_to_string(f"portal/email/{template}_subject.txt", context).split())
    body = render_to_string(f"portal/email/{template}_message.txt", context)

    def send() -> None:
        for recipient in recipients:
            try:
                send_mail(subject, body, None, [recipient])
            except Exception:  # a mail server that is down must not undo or fail the change itself
                logger.exception("portal email %s to %s failed", template, recipient)

    transaction.on_commit(send)
