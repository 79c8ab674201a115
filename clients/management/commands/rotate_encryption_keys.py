"""Re-encrypt every encrypted column of every model with the first key of FIELD_ENCRYPTION_KEYS."""

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import Field, Model

from clients import encryption
from clients.fields import EncryptedTextField
from clients.progress import Progress


class Command(BaseCommand):
    help = "Re-encrypt all secrets at rest with the first FIELD_ENCRYPTION_KEYS key, so older keys can be dropped."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if fields:
                count = self._rotate_model(model, fields, self.stderr)
                total += count
                self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows re-encrypted with the first key."))

    @staticmethod
    def _rotate_model(model: type[Model], fields: Iterable[Field], stream: Any) -> int:
        # Works on the raw columns: ciphertext is rotated without building model instances.
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        pk = quote(model._meta.pk.column)
        columns = [quote(f.column) for f in fields]
        assignments = ", ".join(f"{c} = %s" for c in columns)
        count = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk}, {', '.join(columns)} FROM {table}")  # noqa: S608 - names are quoted
            rows = cursor.fetchall()
            progress = Progress(str(model._meta.model_name), len(rows), stream=stream, every=500)
            for row_pk, *values in rows:
                rotated = [encryption.rotate(v) if v else v for v in values]
                cursor.execute(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", [*rotated, row_pk])  # noqa: S608
                count += 1
                progress.advance()
            progress.finish()
        return count
