"""The front door and the owner's navigation: `/` leads to the channels page (after the login), and every owner
page links the channels, the API keys, the API docs, the admin (staff only) and logging out, in both languages."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    user = UserFactory(username="lucia")
    user.set_password("tacos-al-pastor-42")
    user.save()
    ProjectFactory(name="Taqueria bot").owners.add(user)
    return user


def test_the_front_door_asks_for_the_login_then_shows_the_channels(client, owner):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('login')}?next={reverse('channels')}"
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()

    # An owner who is not staff logs in here (the admin's login would refuse them) and lands on the channels.
    logged_in = client.post(
        response.redirect_chain[-1][0], {"username": "lucia", "password": "tacos-al-pastor-42"}, follow=True
    )
    assert logged_in.redirect_chain[-1][0] == reverse("channels")
    assert "Channels · Taqueria bot" in logged_in.content.decode()

    again = client.get("/", follow=True)
    assert again.redirect_chain == [(reverse("channels"), 302)]


def test_a_wrong_password_is_a_form_error(client, owner):
    response = client.post(reverse("login"), {"username": "lucia", "password": "nope"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("page", ["channels", "api-keys"])
def test_owner_pages_link_everything_but_the_admin(client, owner, page):
    client.force_login(owner)
    html = client.get(reverse(page)).content.decode()
    nav = html.split('<nav class="main"')[1].split("</nav>")[0]

    project = owner.projects.get()
    for url in (reverse("channels"), reverse("api-keys"), reverse("api-docs")):
        assert f'href="{url}' in nav
    assert reverse("admin:index") not in nav
    assert f'action="{reverse("logout")}"' in html
    assert f"?project={project.pk}" in nav  # the nav keeps the project the owner is looking at


def test_staff_also_get_the_admin(client, owner):
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    html = client.get(reverse("channels")).content.decode()
    assert f'href="{reverse("admin:index")}"' in html


def test_log_out(client, owner):
    client.force_login(owner)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session
    assert client.get(reverse("channels")).status_code == 302


def test_navigation_in_russian(client, owner):
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    html = client.get(reverse("channels"), headers={"accept-language": "ru"}).content.decode()
    for text in ("Каналы", "API-ключи", "Документация API", "Администрирование", "Выйти"):
        assert text in html
    client.logout()
    login = client.get(reverse("login"), headers={"accept-language": "ru"})
    assert "Войти" in login.content.decode()
