"""Secrets at rest: vendor credentials encrypted with a key derived from the secret key; API tokens hashed.

Fernet (AES-128-CBC + HMAC-SHA256) with HKDF-derived keys. Several secret keys may be configured: the
first encrypts, all decrypt, so the secret key can be rotated without losing stored credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOKEN_PREFIX = "il_"  # noqa: S105 - a public marker, not a secret


class DecryptionError(Exception):
    """Stored ciphertext that no configured secret key can open (the key changed without rotation)."""


def derive_key(secret: str, purpose: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"interlink:{purpose}".encode())
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


class CredentialCipher:
    def __init__(self, secret_keys: Sequence[str], *, purpose: str = "connection-credentials") -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is needed")
        self._fernet = MultiFernet([Fernet(derive_key(key, purpose)) for key in secret_keys])

    def encrypt(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            plain = self._fernet.decrypt(token.encode())
        except InvalidToken:
            raise DecryptionError("stored credentials cannot be decrypted with the configured secret keys") from None
        result: dict[str, Any] = json.loads(plain)
        return result

    def rotate(self, token: str) -> str:
        """Re-encrypt under the current key."""
        return self._fernet.rotate(token.encode()).decode()


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; a slow KDF would only cost every request.
    return hashlib.sha256(token.encode()).hexdigest()


def token_display_prefix(token: str) -> str:
    return token[: len(TOKEN_PREFIX) + 6]


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    a_bytes = a.encode() if isinstance(a, str) else a
    b_bytes = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a_bytes, b_bytes)
