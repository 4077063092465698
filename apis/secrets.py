"""Encryption of stored secrets and keyed digests of API key values."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _fernet() -> Fernet:
    material = settings.PORTICO_ENCRYPTION_KEY.encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"portico-stored-secrets", info=b"fernet").derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plaintext: str) -> str:
    """Encrypt a secret for storage."""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt a stored secret; raise ValueError when it was not encrypted with this key."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("stored secret cannot be decrypted with the configured key") from exc


def api_key_digest(value: str, pepper: str | None = None) -> str:
    """Return the HMAC-SHA256 digest used to look an API key up without storing it."""
    key = (pepper if pepper is not None else settings.API_KEY_PEPPER).encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
