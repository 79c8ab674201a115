"""Symmetric encryption of secrets at rest with a rotating key list (MultiFernet).

`FIELD_ENCRYPTION_KEYS`: the first key encrypts, every key decrypts. To rotate: put a new key first, run
`manage.py rotate_encryption_keys`, then drop the old key.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """The stored value cannot be decrypted with any configured key."""


@cache
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must hold at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds a key that is not a valid Fernet key.") from exc


def fernet() -> MultiFernet:
    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("Encrypted value does not decrypt with any key in FIELD_ENCRYPTION_KEYS.") from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the first key."""
    try:
        return fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("Encrypted value does not decrypt with any key in FIELD_ENCRYPTION_KEYS.") from exc
