"""Writes of management credentials (SigV4 access keys) and the audit log."""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from django.db import transaction

from apis import models as m
from apis.errors import BadRequest, Conflict
from apis.secrets import encrypt

ACCESS_KEY_ID = re.compile(r"^[A-Za-z0-9]{16,128}$")
SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


@transaction.atomic
def access_key_create(
    *,
    user: Any,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    description: str = "",
) -> tuple[m.AccessKey, str]:
    """Issue (or register known) SigV4 credentials for an owner; return the key and its secret."""
    if access_key_id is None:
        access_key_id = "PKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    if not ACCESS_KEY_ID.match(access_key_id):
        raise BadRequest("Access key id must be 16 to 128 letters or digits")
    if secret_access_key is None:
        secret_access_key = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(40))
    if len(secret_access_key) < 16:
        raise BadRequest("Secret access key must be at least 16 characters")
    if m.AccessKey.objects.filter(access_key_id=access_key_id).exists():
        raise Conflict("Access key id already exists")
    key = m.AccessKey.objects.create(
        access_key_id=access_key_id,
        user=user,
        secret_encrypted=encrypt(secret_access_key),
        description=description,
    )
    return key, secret_access_key


@transaction.atomic
def access_key_delete(*, key: m.AccessKey) -> None:
    """Revoke a management access key."""
    key.delete()


def audit_record(
    *,
    user: Any,
    access_key_id: str = "",
    source_ip: str | None = None,
    operation: str,
    target: str,
    status: int,
    error_type: str = "",
    message: str = "",
) -> m.AuditEvent:
    """Record one management change and how it ended."""
    return m.AuditEvent.objects.create(
        user=user if getattr(user, "pk", None) else None,
        access_key_id=access_key_id,
        source_ip=source_ip,
        operation=operation,
        target=target[:2048],
        status=status,
        error_type=error_type,
        message=message[:2000],
    )
