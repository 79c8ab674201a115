"""The owner's page of an account's automatic messages: read, edit, switch on/off, refresh TikTok's review."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from channels_tiktok import constants
from channels_tiktok.accounts import auto_messages
from channels_tiktok.messaging.outbound import OutboundError, RuleViolationsError
from channels_tiktok.models import TikTokAccount
from clients.api_errors import localized

# Each section of the form: (section, TikTok's type, field names, rows shown).
FORM_SECTIONS = [
    (
        section,
        auto_type,
        list(constants.AUTO_MESSAGE_FIELD_LIMITS[auto_type]),
        constants.AUTO_MESSAGE_MAX_ITEMS[auto_type],
    )
    for section, auto_type in auto_messages.SECTIONS.items()
]


def _posted_items(post: Any, section: str, names: list[str], rows: int) -> list[dict]:
    items = []
    for index in range(1, rows + 1):
        item = {name: post.get(f"{section}-{index}-{name}", "") for name in names}
        if any(value.strip() for value in item.values()):
            items.append(item)
    return items


def _form_rows(config: dict) -> list[dict]:
    """What the template shows: per section its title, switch, limits and the rows (filled, then empty)."""
    titles = {
        "welcome_message": _("Welcome message"),
        "suggested_questions": _("Suggested questions"),
        "chat_prompts": _("Chat prompts"),
    }
    result = []
    for section, auto_type, names, rows in FORM_SECTIONS:
        items = config[section]["items"]
        limits = constants.AUTO_MESSAGE_FIELD_LIMITS[auto_type]
        result.append(
            {
                "section": section,
                "title": titles[section],
                "enabled": config[section]["enabled"],
                "rows": [
                    {
                        "index": index,
                        "review": items[index - 1]["review_status"] if index <= len(items) else None,
                        "fields": [
                            {
                                "name": name,
                                "value": items[index - 1][name] if index <= len(items) else "",
                                "max": limits[name],
                            }
                            for name in names
                        ],
                    }
                    for index in range(1, rows + 1)
                ],
            }
        )
    return result


@login_required
@require_http_methods(["GET", "POST"])
def auto_messages_page(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(
        TikTokAccount.objects.select_related("channel__project"), pk=pk, channel__project__owners=request.user
    )
    if request.method == "POST":
        try:
            if request.POST.get("action") == "refresh":
                auto_messages.refresh(account)
                messages.success(request, _("Review status read from TikTok."))
            else:
                for section, _type, names, rows in FORM_SECTIONS:
                    auto_messages.save_section(
                        account,
                        section=section,
                        items=_posted_items(request.POST, section, names, rows),
                        enabled=request.POST.get(f"{section}-enabled") == "on",
                    )
                messages.success(request, _("Automatic messages saved. TikTok reviews every new or changed text."))
        except RuleViolationsError as exc:
            for violation in exc.violations:
                messages.error(request, f"{violation.field}: {localized(violation.code, violation.message)}")
        except OutboundError as exc:
            messages.error(request, localized(exc.code, exc.message))
        return redirect(reverse("tiktok-auto-messages", args=[account.pk]))
    config = auto_messages.configuration(account)
    context = {"account": account, "sections": _form_rows(config), "refreshed_at": config["refreshed_at"]}
    return render(request, "channels_tiktok/auto_messages.html", context)
