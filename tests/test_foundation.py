"""The foundation: settings, encryption at rest, constraints, health check."""

import os

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from channels_tiktok.models import TikTokAccount
from clients import encryption
from clients.api_keys import check_api_key, create_api_key
from tests.factories import (
    ClientFactory,
    ClientVariableFactory,
    ProjectFactory,
    TikTokAccountFactory,
    WebhookEventFactory,
)

pytestmark = pytest.mark.django_db


def raw_column(model, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE {model._meta.pk.column} = %s", [pk])
        return cursor.fetchone()[0]


def test_database_vendor_follows_database_url():
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected


def test_token_is_not_readable_in_the_raw_row():
    account = TikTokAccountFactory(access_token="act.very-secret-token", refresh_token="rft.other-secret")
    stored = raw_column(TikTokAccount, "access_token", account.pk)
    assert "very-secret-token" not in stored
    assert encryption.decrypt(stored) == "act.very-secret-token"
    assert TikTokAccount.objects.get(pk=account.pk).access_token == "act.very-secret-token"


def test_wrong_key_raises_instead_of_returning_ciphertext(settings):
    account = TikTokAccountFactory(access_token="act.secret")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(encryption.DecryptionError):
        TikTokAccount.objects.get(pk=account.pk)


def test_rotation_re_encrypts_and_old_key_can_be_dropped(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    account = TikTokAccountFactory(access_token="act.rotate-me", refresh_token="rft.rotate-me")
    project = ProjectFactory(callback_secret="cb-secret")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    reloaded = TikTokAccount.objects.get(pk=account.pk)
    assert reloaded.access_token == "act.rotate-me"
    assert reloaded.refresh_token == "rft.rotate-me"
    assert type(project).objects.get(pk=project.pk).callback_secret == "cb-secret"


def test_one_client_per_account_and_user():
    client = ClientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientFactory(channel=client.channel, external_id=client.external_id)
    ClientFactory(external_id=client.external_id)  # the same TikTok user on another account is another client


def test_one_journal_row_per_dedupe_key():
    WebhookEventFactory(dedupe_key="msg:1")
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEventFactory(dedupe_key="msg:1")


def test_one_variable_per_client_and_key():
    variable = ClientVariableFactory(key="tiktok_conversation_id")
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientVariableFactory(client=variable.client, key="tiktok_conversation_id")


def test_api_key_is_stored_hashed_and_checked():
    project = ProjectFactory()
    key, raw = create_api_key(project=project, name="bot")
    assert raw.split(".", 1)[1] not in key.hashed_secret
    assert check_api_key(raw).project == project
    assert check_api_key(raw + "x") is None
    assert check_api_key("nonsense") is None


def test_healthz_reports_each_dependency(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"


def test_region_table():
    account = TikTokAccountFactory(country="DE")
    assert account.region == "eea_ch_uk"
    assert account.region_available is False
    account.country = "mx"
    assert account.region_available is True
    account.country = "US"
    assert account.region_available is False
    account.country = ""
    assert account.region_available is None


def test_every_model_has_a_factory_that_saves_a_valid_row():
    from django.apps import apps

    from tests import factories

    by_model = {
        f._meta.model: f
        for f in vars(factories).values()
        if isinstance(f, type) and issubclass(f, factories.factory.django.DjangoModelFactory) and f._meta.model
    }
    ours = [m for m in apps.get_models() if m._meta.app_label in {"clients", "channels_tiktok"}]
    assert len(ours) >= 12
    assert [m.__name__ for m in ours if m not in by_model] == []
    for model in ours:
        row = by_model[model]()
        row.full_clean(exclude=["password", "dedupe_key"])
        assert model.objects.filter(pk=row.pk).exists()


def test_api_key_factory_gives_a_working_key():
    from tests.factories import ApiKeyFactory

    key = ApiKeyFactory()
    assert check_api_key(key.raw_key) == key
