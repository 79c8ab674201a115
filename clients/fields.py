from django.db import models

from . import encryption


class EncryptedTextField(models.TextField):
    """A text field stored encrypted (Fernet). Reading a value no configured key opens raises DecryptionError.

    Not searchable or orderable in the database by design.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return encryption.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encryption.encrypt(value)
