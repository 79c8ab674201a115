"""INSERT … ON CONFLICT DO NOTHING that says which rows it inserted: `bulk_create(ignore_conflicts=True)` returns
no primary keys, so a caller that must know whether its row is new would read it again (or take a savepoint, as
`get_or_create` does). Here the rows inserted come back in the same statement (… RETURNING)."""

from django.db import connections, router
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery


def insert_new(objs: list[Model], *, returning: list[str]) -> list[tuple]:
    """Insert `objs` (of one model), skipping any that conflicts with a unique constraint; returns the `returning`
    fields of each row inserted, as the driver gives them (meant for ids and text), in no particular order; a
    conflicting row is not returned. One statement; no savepoint."""
    if not objs:
        return []
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    opts = model._meta
    fields = [field for field in opts.concrete_fields if not field.primary_key]
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, objs, raw=False)
    compiler = query.get_compiler(using=using)
    # Django's own compilation (values prepared, auto_now_add set, the backend's ON CONFLICT / INSERT OR IGNORE),
    # with the RETURNING clause it writes for bulk_create on PostgreSQL and SQLite.
    compiler.returning_fields = [opts.get_field(name) for name in returning]
    [(sql, params)] = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [tuple(row) for row in rows]
