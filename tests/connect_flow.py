"""Driving the connect flow: our connect form → the sandbox's consent page over HTTP → our callback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from django.urls import reverse

from channels_tiktok import constants


def start_connect(client, *, project, country: str = "MX") -> str:
    """Press "Connect TikTok" on the channels page; returns the consent URL we are sent to."""
    response = client.post(reverse("tiktok-connect"), {"project": project.pk, "country": country})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def consent(
    authorize_url: str,
    *,
    account: str = "sbx-acct-mx-001",
    grant=constants.ALL_SCOPES,
    decision: str = "allow",
    account_type: str | None = None,
) -> str:
    """Act on the sandbox's consent page as the owner; returns our callback's path and query."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    assert "wants to access your TikTok account" in page.text
    query = {key: values[-1] for key, values in parse_qs(urlsplit(authorize_url).query).items()}
    form = {
        **{name: query.get(name, "") for name in ("client_key", "response_type", "scope", "redirect_uri", "state")},
        "account": account,
        "grant": list(grant),
        "decision": decision,
    }
    if account_type:
        form["account_type"] = account_type
    answer = requests.post(authorize_url.split("?")[0], data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    return f"{location.path}?{location.query}"


def callback_query(path: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(path).query).items()}


def finish(client, callback_path: str):
    """TikTok sends the owner back: our callback runs, then the channels page shows the outcome."""
    return client.get(callback_path, follow=True)


def notices(response) -> list[tuple[str, str]]:
    return [(message.tags, str(message)) for message in response.context["messages"]]
