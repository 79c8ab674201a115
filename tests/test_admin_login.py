"""The admin's login is locked for an address after repeated failures (django-axes), whatever it claims in
X-Forwarded-For; staff logging in normally are unaffected."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "the-right-password-1"


@pytest.fixture
def staff():
    user = UserFactory(username="staff", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def attempt(client: Client, password: str, *, address: str = "203.0.113.5", forwarded_for: str = ""):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(LOGIN, {"username": "staff", "password": password}, REMOTE_ADDR=address, headers=headers)


def test_the_right_password_logs_in(staff):
    client = Client()
    response = attempt(client, PASSWORD)
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(staff.pk)


def test_forty_wrong_passwords_lock_the_address_out_even_for_the_right_one(staff, settings):
    client = Client()
    codes = [attempt(client, f"guess-{n}").status_code for n in range(40)]
    limit = settings.AXES_FAILURE_LIMIT
    assert codes[: limit - 1] == [200] * (limit - 1)  # the login form again, with its error
    assert set(codes[limit:]) == {429}
    locked = attempt(client, PASSWORD)
    assert locked.status_code == 429
    assert SESSION_KEY not in client.session
    assert "Too many failed logins" in locked.content.decode()
    # Another address (another office) is not locked out by this one.
    other = Client()
    assert attempt(other, PASSWORD, address="198.51.100.20").status_code == 302


def test_a_rotated_forwarded_for_does_not_escape_the_lockout(staff, settings):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"guess-{n}", forwarded_for=f"192.0.2.{n}")
    assert attempt(client, PASSWORD, forwarded_for="192.0.2.250").status_code == 429


def test_the_lockout_page_speaks_russian(staff, settings):
    client = Client(headers={"Accept-Language": "ru"})
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"guess-{n}")
    locked = attempt(client, PASSWORD)
    assert locked.status_code == 429
    assert "Слишком много неудачных попыток входа" in locked.content.decode()
