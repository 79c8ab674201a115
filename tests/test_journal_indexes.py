"""The webhook journal keeps only indexes something reads: each is one more write for every delivery (B10)."""

import os

import pytest
from django.db import connection

from channels_tiktok.models import WebhookEvent

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
TABLE = WebhookEvent._meta.db_table

pytestmark = pytest.mark.django_db


def journal_constraints() -> dict[str, dict]:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, TABLE)


def journal_indexes() -> dict[str, list[str]]:
    return {name: spec["columns"] for name, spec in journal_constraints().items() if spec["index"] or spec["unique"]}


def test_lookups_by_account_use_the_indexes_that_lead_with_it_and_it_has_none_of_its_own():
    indexes = journal_indexes()
    assert ["account_id"] not in indexes.values()
    leading = sorted(columns for columns in indexes.values() if columns[0] == "account_id")
    assert leading == [["account_id", "id"], ["account_id", "status", "received_at"]]


def test_the_dedupe_key_stays_unique_and_staffs_search_columns_stay_indexed():
    assert any(spec["unique"] and spec["columns"] == ["dedupe_key"] for spec in journal_constraints().values())
    indexes = journal_indexes()
    for column in ("business_id", "conversation_id", "comment_id"):
        assert [column] in indexes.values()


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL); CI runs it")
def test_postgresql_keeps_no_pattern_index_on_the_dedupe_key():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [TABLE])
        definitions = dict(cursor.fetchall())
    assert not [name for name, definition in definitions.items() if "pattern_ops" in definition]
    # The unique index itself is what ON CONFLICT (dedupe_key) relies on.
    assert any("UNIQUE" in definition and "(dedupe_key)" in definition for definition in definitions.values())
