"""The owner's web pages: the channels page and the OAuth connect flow (R1). Thin: parse, call a service, render.

Each account's verdicts come from `accounts.verdicts.verdicts_of`, as in the admin and the API."""

import datetime as dt
from dataclasses import dataclass, replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels_tiktok import constants
from channels_tiktok.accounts import connect_state, notices, selectors, services
from channels_tiktok.accounts.forms import ConnectForm
from channels_tiktok.accounts.reachability import reachability
from channels_tiktok.accounts.verdicts import AccountVerdicts, verdicts_of
from channels_tiktok.models import TikTokAccount
from clients.http_types import AuthenticatedHttpRequest
from clients.models import Project
from clients.owner.projects import owned_project, owned_projects


@dataclass(frozen=True)
class AccountRow:
    """One account on the channels page: its verdicts (the same the admin and the API show) and its last message."""

    account: TikTokAccount
    verdicts: AccountVerdicts
    last_message_at: dt.datetime | None = None
    referrals: dict[str, int] | None = None  # conversations opened per referral source


def _channels_url(project: Project | None) -> str:
    url = reverse("channels")
    return f"{url}?{urlencode({'project': project.pk})}" if project else url


def _flash(request: AuthenticatedHttpRequest, items: list[notices.Notice]) -> None:
    for level, text in items:
        messages.add_message(request, level, text)


def account_row(account: TikTokAccount, *, now: dt.datetime | None = None) -> AccountRow:
    return AccountRow(
        account=account,
        verdicts=verdicts_of(account, now=now),
        last_message_at=selectors.last_message_received_at(channel_id=account.pk),
    )


@login_required
@require_GET
def channels(request: AuthenticatedHttpRequest) -> HttpResponse:
    project = owned_project(request.user, request.GET.get("project"))
    if request.GET.get("project") and project is None:
        raise Http404(_("No such project of yours."))
    rows = []
    if project is not None:
        project_accounts = (
            TikTokAccount.objects.filter(channel__project=project).prefetch_related("scopes").order_by("channel_id")
        )
        now = timezone.now()
        rows = [account_row(account, now=now) for account in project_accounts]
        referrals = selectors.referral_counts(account_ids=[row.account.pk for row in rows])
        rows = [replace(row, referrals=referrals[row.account.pk]) for row in rows]
    context = {
        "project": project,
        "projects": owned_projects(request.user),
        "rows": rows,
        "form": ConnectForm(initial={"project": project.pk}) if project else None,
        "window_hours": constants.WINDOW_HOURS,
        "window_messages": constants.WINDOW_MAX_MESSAGES,
        "reach": reachability([row.account.pk for row in rows]) if rows else None,
    }
    return render(request, "channels_tiktok/channels.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def connect(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET: the question about the registered country; POST: remember the connect and go to TikTok."""
    form = ConnectForm(request.POST or None, initial={"project": request.GET.get("project")})
    if request.method == "POST" and form.is_valid():
        project = owned_project(request.user, form.cleaned_data["project"])
        if project is None:
            raise Http404(_("No such project of yours."))
        url = connect_state.begin(
            request.session,
            user_id=request.user.pk,
            project_id=project.pk,
            country=form.cleaned_data["country"],
        )
        return HttpResponseRedirect(url)
    project = owned_project(request.user, request.POST.get("project") or request.GET.get("project"))
    if project is None:
        raise Http404(_("No such project of yours."))
    if not form.is_bound:
        form = ConnectForm(initial={"project": project.pk})
    return render(request, "channels_tiktok/connect.html", {"project": project, "form": form})


@login_required
@require_GET
def oauth_callback(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        pending = connect_state.consume_state(request.session, state=request.GET.get("state"), user_id=request.user.pk)
    except connect_state.StateError as error:
        _flash(request, notices.state_notices(error))
        return redirect(_channels_url(None))
    project = owned_project(request.user, pending.project_id)
    if project is None:
        raise Http404(_("No such project of yours."))
    if request.GET.get("error"):
        _flash(
            request,
            notices.refused_notices(error=request.GET["error"], description=request.GET.get("error_description", "")),
        )
    elif not request.GET.get("code"):
        _flash(request, notices.missing_code_notices())
    else:
        result = services.connect_account(
            project=project, user=request.user, code=request.GET["code"], country=pending.country
        )
        _flash(request, notices.connect_notices(result))
    return redirect(_channels_url(project))


@login_required
@require_POST
def disconnect(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(
        TikTokAccount.objects.select_related("channel__project"), pk=pk, channel__project__owners=request.user
    )
    revoked = services.disconnect_account(account=account)
    name = str(account)
    if revoked:
        messages.success(request, _("TikTok account %(name)s disconnected.") % {"name": name})
    else:
        messages.warning(
            request,
            _(
                "TikTok account %(name)s disconnected here, but TikTok did not confirm revoking its access; "
                "you can also remove the app in the TikTok app's settings."
            )
            % {"name": name},
        )
    return redirect(_channels_url(account.channel.project))
