"""B9: the web page, the admin, the API messages and the notifications speak Russian and English.

The Russian catalogue must hold a translation for every translatable string in the code: a missing, empty or
fuzzy entry fails here (with gettext's own tools, which the install needs anyway to compile the catalogue).
"""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from tests.factories import ProjectFactory, TikTokAccountFactory, UserFactory

BASE = Path(settings.BASE_DIR)
RU_PO = BASE / "locale" / "ru" / "LC_MESSAGES" / "django.po"
SOURCES = ("channels_tiktok", "clients", "config", "templates")
# The sandbox plays TikTok's own (English) consent page: it is not part of our product's UI.
IGNORED = ("channels_tiktok/sandbox", "tests", ".venv")


def _msgids(po: Path, *flags: str) -> list[str]:
    """The msgids `msgattrib` selects with `flags` (e.g. --untranslated), without the header."""
    result = subprocess.run(
        ["msgattrib", *flags, "--no-wrap", str(po)], capture_output=True, text=True, check=True, encoding="utf-8"
    )
    return [line[7:-1] for line in result.stdout.splitlines() if line.startswith('msgid "') and line != 'msgid ""']


def test_russian_catalogue_has_no_untranslated_or_fuzzy_entry():
    assert _msgids(RU_PO, "--untranslated") == []
    assert _msgids(RU_PO, "--only-fuzzy") == []


def test_russian_catalogue_compiles_with_matching_placeholders_and_plural_forms():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(RU_PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr


def test_every_translatable_string_in_the_code_is_in_the_russian_catalogue(tmp_path, monkeypatch, settings):
    """Re-extract the strings from a copy of the sources; nothing new may come out untranslated."""
    for name in SOURCES:
        shutil.copytree(BASE / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copytree(BASE / "locale", tmp_path / "locale", ignore=shutil.ignore_patterns("*.mo"))
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)

    call_command("makemessages", locale=["ru"], ignore_patterns=list(IGNORED), no_obsolete=True, verbosity=0)

    extracted = tmp_path / "locale" / "ru" / "LC_MESSAGES" / "django.po"
    untranslated = _msgids(extracted, "--untranslated")
    assert untranslated == [], f"add Russian translations for: {untranslated}"
    # A new string close to an old one comes out "fuzzy" with the old translation: it needs a real one.
    guessed = _msgids(extracted, "--only-fuzzy")
    assert guessed == [], f"check and un-fuzzy the Russian translations of: {guessed}"
    # Nor does the catalogue keep strings the code no longer has.
    stale = sorted(set(_msgids(RU_PO)) - set(_msgids(extracted)))
    assert stale == [], f"remove (makemessages --no-obsolete): {stale}"


@pytest.mark.django_db
def test_channels_page_follows_the_browser_and_the_switcher(client):
    owner = UserFactory()
    project = ProjectFactory(name="Taqueria bot")
    project.owners.add(owner)
    TikTokAccountFactory(channel__project=project, username="taqueria", country="DE")
    client.force_login(owner)

    russian = client.get(reverse("channels"), headers={"accept-language": "ru-RU,ru;q=0.9"}).content.decode()
    assert "Каналы · Taqueria bot" in russian
    assert "сообщения недоступны" in russian
    assert 'lang="ru"' in russian

    english = client.get(reverse("channels"), headers={"accept-language": "en-US"}).content.decode()
    assert "Channels · Taqueria bot" in english
    assert "messaging unavailable" in english

    switched = client.post(reverse("set_language"), {"language": "ru", "next": reverse("channels")}, follow=True)
    assert "Каналы · Taqueria bot" in switched.content.decode()  # the cookie now wins over the browser
    assert "Каналы" in client.get(reverse("channels"), headers={"accept-language": "en"}).content.decode()


@pytest.mark.django_db
def test_admin_panels_and_api_errors_speak_russian(admin_client, client):
    account = TikTokAccountFactory(country="GB")
    html = admin_client.get(
        reverse("admin:channels_tiktok_tiktokaccount_change", args=[account.pk]), headers={"accept-language": "ru"}
    ).content.decode()
    assert "Сообщения недоступны" in html
    assert "Для этого аккаунта не пришло ни одного вебхука." in html
    assert "Сообщения по дням за последние 14 дн." in html

    response = client.get("/api/v1/clients/", headers={"accept-language": "ru", "authorization": "Api-Key nope"})
    assert response.status_code == 401
    assert response.json()["message"] == "Недействительный или отозванный API-ключ."


def test_plural_forms_in_russian():
    from django.utils.translation import ngettext

    with translation.override("ru"):
        forms = [
            ngettext("%(count)d event replayed.", "%(count)d events replayed.", n) % {"count": n} for n in (1, 3, 5, 21)
        ]
    assert forms == [
        "Повторно обработано 1 событие.",
        "Повторно обработано 3 события.",
        "Повторно обработано 5 событий.",
        "Повторно обработано 21 событие.",
    ]


def test_translatable_api_messages_render_to_the_documented_english():
    """The translatable copies of the channel's API messages never drift from the rule modules' English text."""
    from channels_tiktok.messaging import (
        comment_dm,
        comment_moderation,
        error_messages,
        images,
        outbound,
        rules,
        videos,
    )
    from channels_tiktok.messaging import comment_replies as comments

    english = {
        **rules.CODES,
        **rules.WARNING_CODES,
        **images.CODES,
        **comments.CODES,
        **outbound.CONFLICT_CODES,
        **videos.CODES,
        **rules.AUTO_MESSAGE_CODES,
        **comment_moderation.CODES,
        **comment_dm.CODES,
        **outbound.CONFLICT_CODES,
    }
    with translation.override("en"):
        rendered = {code: str(message) for code, message in error_messages.MESSAGES.items()}
    assert rendered == {code: english[code] for code in rendered}
    # Only codes whose messages always carry live details (the account's state) are left out.
    assert set(english) - set(rendered) == {"account_unavailable"}


@pytest.mark.django_db
def test_api_rule_violations_and_the_validation_dry_run_speak_the_callers_language(client):
    from clients.api_keys import create_api_key
    from tests.factories import ConversationFactory

    conversation = ConversationFactory()
    _key, raw = create_api_key(project=conversation.account.channel.project, name="bot")
    body = {"text": "hola", "buttons": [{"type": "callback", "text": f"Opción {n}"} for n in range(4)]}
    url = f"/api/v1/clients/{conversation.client_id}/messages/"

    russian = client.post(
        url, body, content_type="application/json", headers={"authorization": f"Api-Key {raw}", "accept-language": "ru"}
    )
    english = client.post(
        url, body, content_type="application/json", headers={"authorization": f"Api-Key {raw}", "accept-language": "en"}
    )

    assert russian.status_code == english.status_code == 422
    assert russian.json()["errors"][0]["code"] == english.json()["errors"][0]["code"] == "too_many_buttons"
    assert russian.json()["errors"][0]["message"] == "Кнопок в сообщении — не больше 3."
    assert english.json()["errors"][0]["message"] == "At most 3 buttons per message."

    dry_run = client.post(
        "/api/v1/messages/validate/",
        {**body, "buttons": [{"type": "callback", "text": "Sí"}], "account": conversation.account_id},
        content_type="application/json",
        headers={"authorization": f"Api-Key {raw}", "accept-language": "ru"},
    )
    assert dry_run.status_code == 200
    assert dry_run.json()["warnings"] == [
        {
            "code": "buttons_hidden_on_desktop",
            "field": "buttons",
            "message": "Десктопная версия TikTok не показывает сообщения с кнопками.",
        }
    ]
