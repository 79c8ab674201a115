"""What the stack suites and the benchmark seed: a project whose TikTok account is connected with a token that the
sandbox issued, and an API key for it."""

from __future__ import annotations

from scripts.stack import Stack

SEED_CONNECTED_ACCOUNT = """
import datetime as dt
from django.utils import timezone
from channels_tiktok.models import GrantedScope, TikTokAccount
from clients.api_keys import create_api_key
from clients.models import Channel, Project
now = timezone.now()
project = Project.objects.create(name=PROJECT, callback_url=CALLBACK_URL, callback_secret=CALLBACK_SECRET)
channel = Channel.objects.create(project=project, name=TOKEN["open_id"])
account = TikTokAccount.objects.create(
    channel=channel, business_id=TOKEN["open_id"], username=USERNAME, country=COUNTRY, is_business_account=True,
    access_token=TOKEN["access_token"], refresh_token=TOKEN["refresh_token"],
    access_token_expires_at=now + dt.timedelta(seconds=TOKEN["expires_in"]),
    refresh_token_expires_at=now + dt.timedelta(seconds=TOKEN["refresh_token_expires_in"]),
    token_refreshed_at=now, webhooks_subscribed_at=now,
)
GrantedScope.objects.bulk_create([GrantedScope(account=account, scope=s) for s in TOKEN["scope"].split(",") if s])
_key, raw_key = create_api_key(project=project, name="stack")
result = {"project": project.pk, "account": account.pk, "business_id": account.business_id, "api_key": raw_key}
"""


def seed_connected_account(
    stack: Stack,
    *,
    token: dict,
    project: str = "Stack project",
    username: str = "taqueria_sandbox",
    country: str = "MX",
    callback_url: str = "",
    callback_secret: str = "",
) -> dict:
    """A project whose TikTok account is connected with `token` (TikTok's token data, e.g. the sandbox's
    `issue_token`), and an API key for it. The OAuth connect flow itself is covered by its own tests."""
    names = {
        "TOKEN": token,
        "PROJECT": project,
        "USERNAME": username,
        "COUNTRY": country,
        "CALLBACK_URL": callback_url,
        "CALLBACK_SECRET": callback_secret,
    }
    preamble = "".join(f"{name} = {value!r}\n" for name, value in names.items())
    return stack.python(preamble + SEED_CONNECTED_ACCOUNT)
