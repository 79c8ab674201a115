"""The webhook journal writes two fewer indexes per delivery (B10): every index is one more write on the hottest path.

- The account's own index goes: the indexes on (account, -id) and (account, status, received_at) serve every
  lookup by account, the ON DELETE SET NULL included.
- PostgreSQL's second index on the dedupe key (`varchar_pattern_ops`, which Django adds to every unique varchar
  for `LIKE 'x%'`) goes: the key is only ever compared whole. It is dropped CONCURRENTLY, so webhooks keep being
  journaled meanwhile; hence a migration outside a transaction.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "channels_tiktok_webhookevent"


def _like_index_name(schema_editor) -> str:
    # The name Django gave it when the unique dedupe key was created (its schema editor's own naming).
    return schema_editor._create_index_name(TABLE, ["dedupe_key"], suffix="_like")


def drop_dedupe_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{_like_index_name(schema_editor)}"')


def restore_dedupe_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{_like_index_name(schema_editor)}" '
            f'ON "{TABLE}" ("dedupe_key" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("channels_tiktok", "0006_webhookevent_fetching_until"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhookevent",
            name="account",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="webhook_events",
                to="channels_tiktok.tiktokaccount",
                verbose_name="account",
            ),
        ),
        migrations.RunPython(drop_dedupe_like_index, restore_dedupe_like_index, elidable=False),
    ]
