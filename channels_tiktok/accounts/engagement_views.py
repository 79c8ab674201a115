"""The owner's switch for answering comments with one private message (TikTok's comment-to-message)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from channels_tiktok.accounts.tokens import AccountUnavailableError
from channels_tiktok.messaging import comment_dm
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok.client import TikTokError


@login_required
@require_POST
def comment_to_message(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """Switch it on (`enabled=1`), off (`enabled=0`), or read it from TikTok (no `enabled`)."""
    account = get_object_or_404(
        TikTokAccount.objects.select_related("channel__project"), pk=pk, channel__project__owners=request.user
    )
    wanted = request.POST.get("enabled")
    try:
        if wanted in ("0", "1"):
            comment_dm.set_switch(account, enabled=wanted == "1")
        else:
            comment_dm.read_switch(account)
    except (TikTokError, AccountUnavailableError) as exc:
        messages.error(request, _("TikTok did not answer the comment-to-message switch: %(error)s") % {"error": exc})
    else:
        state = _("on") if account.comment_to_message else _("off")
        messages.success(request, _("Comment-to-message is %(state)s.") % {"state": state})
    return redirect(f"{reverse('channels')}?{urlencode({'project': account.channel.project_id})}")
