from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from . import encryption


class EncryptedTextField(models.TextField):
    """A text field stored encrypted (Fernet). Reading a value no configured key opens raises DecryptionError.

    Not searchable or orderable in the database by design.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: BaseDatabaseWrapper) -> str | None:
        if value is None or value == "":
            return value
        return encryption.decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encryption.encrypt(value)
