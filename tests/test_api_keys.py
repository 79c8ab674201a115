"""API keys: the service, the owner's page (/api-keys/), the admin, `manage.py create_api_key`, revoked -> 401."""

import datetime as dt
import html
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from clients.api_keys import check_api_key, create_api_key, project_keys, revoke_api_key
from clients.models import ApiKey
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
FULL_KEY = re.compile(r"\b([0-9a-f]{8}\.[A-Za-z0-9_-]{40,})\b")


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def project(owner):
    project = ProjectFactory(name="Taqueria bot")
    project.owners.add(owner)
    return project


def _events(client, raw: str):
    return client.get(reverse("api-events"), headers={"authorization": f"Api-Key {raw}"})


# --------------------------------------------------------------------------------------------- service
def test_keys_get_distinct_prefixes_and_only_a_hash_is_stored(project):
    first, first_raw = create_api_key(project=project, name="production")
    second, second_raw = create_api_key(project=project, name="  staging  ")

    assert first.prefix
    assert second.prefix
    assert first.prefix != second.prefix
    assert second.name == "staging"
    for key, raw in ((first, first_raw), (second, second_raw)):
        assert raw.startswith(key.prefix + ".")
        assert raw.split(".", 1)[1] not in key.hashed_secret
        assert check_api_key(raw) == key


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_key_needs_a_name(project, name):
    with pytest.raises(ValueError, match="1 to 100 characters"):
        create_api_key(project=project, name=name)
    assert not ApiKey.objects.exists()


def test_revoked_key_no_longer_checks_and_revoking_twice_says_so(project):
    key, raw = create_api_key(project=project, name="bot")

    assert revoke_api_key(key=key) is True
    assert revoke_api_key(key=key) is False
    assert check_api_key(raw) is None
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_last_used_is_written_at_most_once_a_minute(project, django_assert_num_queries):
    key, raw = create_api_key(project=project, name="bot")
    with django_assert_num_queries(2):  # read + the first "last used"
        check_api_key(raw)
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    with django_assert_num_queries(1):  # read only
        check_api_key(raw)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first

    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - dt.timedelta(seconds=61))
    with django_assert_num_queries(2):
        check_api_key(raw)
    assert ApiKey.objects.get(pk=key.pk).last_used_at > first


def test_project_keys_lists_active_ones_first(project):
    old, _ = create_api_key(project=project, name="old")
    revoke_api_key(key=old)
    _new, _ = create_api_key(project=project, name="new")
    create_api_key(project=ProjectFactory(), name="someone else's")

    assert [key.name for key in project_keys(project)] == ["new", "old"]


# ---------------------------------------------------------------------------------------------- API
def test_the_api_answers_a_revoked_key_401_invalid_api_key(client, project):
    key, raw = create_api_key(project=project, name="bot")
    assert _events(client, raw).status_code == 200

    revoke_api_key(key=key)
    response = _events(client, raw)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"
    assert response.json()["message"]
    assert response["WWW-Authenticate"] == "Api-Key"


def test_using_a_key_shows_as_last_used(client, project):
    key, raw = create_api_key(project=project, name="bot")
    assert key.last_used_at is None
    _events(client, raw)
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


# --------------------------------------------------------------------------------------- owner's page
def test_owner_page_needs_a_login(client):
    response = client.get(reverse("api-keys"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_owner_creates_a_key_and_sees_the_secret_once(client, owner, project):
    client.force_login(owner)
    url = reverse("api-keys") + f"?project={project.pk}"

    created = client.post(url, {"name": "bot builder"})

    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    raw = FULL_KEY.search(created.content.decode()).group(1)
    key = ApiKey.objects.get(project=project, name="bot builder")
    assert raw.startswith(key.prefix + ".")
    assert _events(client, raw).status_code == 200

    # Listed with prefix, name, created and last used; the secret is never on the page again.
    listing = html.unescape(client.get(url).content.decode())
    assert key.prefix in listing
    assert "bot builder" in listing
    assert raw not in listing
    assert raw.split(".", 1)[1] not in listing
    assert "never" not in listing.split(f'id="key-{key.pk}"')[1].split("</tr>")[0]

    second = client.post(url, {"name": "second"})
    assert second.status_code == 200
    assert FULL_KEY.search(second.content.decode()).group(1) != raw
    assert ApiKey.objects.filter(project=project).count() == 2


def test_owner_page_refuses_an_empty_name_without_a_key(client, owner, project):
    client.force_login(owner)
    response = client.post(reverse("api-keys") + f"?project={project.pk}", {"name": "  "})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not FULL_KEY.search(response.content.decode())
    assert not ApiKey.objects.exists()


def test_owner_revokes_a_key_and_the_api_refuses_it(client, owner, project):
    key, raw = create_api_key(project=project, name="bot")
    client.force_login(owner)

    response = client.post(reverse("api-key-revoke", args=[key.pk]), follow=True)

    assert response.status_code == 200
    assert "revoked" in response.content.decode()
    assert _events(client, raw).status_code == 401


def test_owner_cannot_see_create_or_revoke_another_projects_keys(client, owner, project):
    other = ProjectFactory(name="Other bot")
    key, raw = create_api_key(project=other, name="theirs")
    client.force_login(owner)

    assert client.get(reverse("api-keys"), {"project": other.pk}).status_code == 404
    assert client.post(reverse("api-keys") + f"?project={other.pk}", {"name": "mine"}).status_code == 404
    assert client.post(reverse("api-key-revoke", args=[key.pk])).status_code == 404
    assert check_api_key(raw) == key
    assert not ApiKey.objects.filter(name="mine").exists()


def test_owner_page_in_russian(client, owner, project):
    create_api_key(project=project, name="bot")
    client.force_login(owner)
    page = client.get(reverse("api-keys"), headers={"accept-language": "ru"}).content.decode()
    assert "API-ключи" in page
    assert "Отозвать" in page


# ------------------------------------------------------------------------------------------------ admin
def test_admin_creates_keys_with_the_secret_shown_once(admin_client, project):
    add = reverse("admin:clients_apikey_add")
    assert admin_client.get(add, {"project": project.pk}).status_code == 200

    first = admin_client.post(add, {"project": project.pk, "name": "production"})
    second = admin_client.post(add, {"project": project.pk, "name": "staging"})

    raws = []
    for response in (first, second):
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        raws.append(FULL_KEY.search(response.content.decode()).group(1))
    keys = ApiKey.objects.filter(project=project).order_by("pk")
    assert [key.name for key in keys] == ["production", "staging"]
    assert all(key.prefix and len(key.hashed_secret) == 64 for key in keys)
    assert [check_api_key(raw) for raw in raws] == list(keys)

    # The project's page lists them read-only, with a link to create another; no secret anywhere.
    page = admin_client.get(reverse("admin:clients_project_change", args=[project.pk])).content.decode()
    assert keys[0].prefix in page
    assert keys[1].prefix in page
    assert f"{add}?project={project.pk}" in page
    assert not any(raw.split(".", 1)[1] in page for raw in raws)
    changelist = admin_client.get(reverse("admin:clients_apikey_changelist")).content.decode()
    assert not any(raw.split(".", 1)[1] in changelist for raw in raws)


def test_admin_add_form_errors_are_a_form_not_a_500(admin_client):
    response = admin_client.post(reverse("admin:clients_apikey_add"), {"project": "", "name": ""})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_admin_project_page_cannot_save_a_key_without_a_secret(admin_client, project):
    """The inline used to take "Add another API key" rows: a key with an empty prefix and no secret, and a 500 on
    the second. Its rows are read-only now; keys are made on the add page, which shows the secret."""
    key, raw = create_api_key(project=project, name="bot")
    url = reverse("admin:clients_project_change", args=[project.pk])
    assert admin_client.get(url).status_code == 200
    form = {
        "name": project.name,
        "callback_url": "",
        "api_keys-TOTAL_FORMS": "3",
        "api_keys-INITIAL_FORMS": "1",
        "api_keys-MIN_NUM_FORMS": "0",
        "api_keys-MAX_NUM_FORMS": "1000",
        "api_keys-0-id": str(key.pk),
        "api_keys-0-project": str(project.pk),
        "api_keys-0-name": "bot",
    }
    for index, name in ((1, "added in the inline"), (2, "another one")):
        form |= {f"api_keys-{index}-project": str(project.pk), f"api_keys-{index}-name": name}

    response = admin_client.post(url, form)

    assert response.status_code == 302, response.context["errors"]
    assert list(ApiKey.objects.values_list("name", flat=True)) == ["bot"]
    assert check_api_key(raw) == key


def test_admin_revoke_action(admin_client, project):
    key, raw = create_api_key(project=project, name="bot")
    response = admin_client.post(
        reverse("admin:clients_apikey_changelist"), {"action": "revoke_keys", "_selected_action": [key.pk]}
    )
    assert response.status_code == 302
    assert check_api_key(raw) is None


# ---------------------------------------------------------------------------------------------- command
def test_create_api_key_command_prints_a_working_key(project, capsys):
    call_command("create_api_key", "Taqueria bot", "--name", "cli")
    raw = FULL_KEY.search(capsys.readouterr().out).group(1)
    assert check_api_key(raw) == ApiKey.objects.get(project=project, name="cli")

    call_command("create_api_key", str(project.pk))
    raw_by_id = FULL_KEY.search(capsys.readouterr().out).group(1)
    assert check_api_key(raw_by_id).project == project


def test_create_api_key_command_names_an_unknown_project(project):
    with pytest.raises(CommandError, match=r"No project 'Nope'.*Taqueria bot"):
        call_command("create_api_key", "Nope")
    assert not ApiKey.objects.exists()
