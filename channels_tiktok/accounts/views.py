"""The owner's web pages: the channels page and the OAuth connect flow (R1). Thin: parse, call a service, render."""

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels_tiktok.accounts import notices, selectors, services
from channels_tiktok.accounts.forms import ConnectForm
from channels_tiktok.accounts.verdicts import (
    PermissionsVerdict,
    RegionVerdict,
    TokenState,
    permissions_verdict,
    reconnect_fix,
    region_verdict,
    token_state,
)
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok import oauth
from clients.models import Project


@dataclass(frozen=True)
class AccountRow:
    account: TikTokAccount
    permissions: PermissionsVerdict
    region: RegionVerdict
    token: TokenState
    last_message_at: dt.datetime | None = None

    @property
    def needs_reconnect(self) -> bool:
        """Reconnecting (TikTok's consent page again) is the fix: lost authorisation or missing scopes."""
        return self.account.status != TikTokAccount.Status.ACTIVE or not self.permissions.complete

    @property
    def permissions_fix(self) -> str:
        return reconnect_fix(self.permissions.missing_scopes) if self.permissions.missing else ""


def _owned_project(user, project_id) -> Project | None:
    """The project `project_id` if the user owns it; the user's first project when no id is given."""
    projects = Project.objects.filter(owners=user).order_by("pk")
    if project_id in (None, ""):
        return projects.first()
    try:
        return projects.filter(pk=int(project_id)).first()
    except (TypeError, ValueError):
        return None


def _channels_url(project: Project | None) -> str:
    url = reverse("channels")
    return f"{url}?{urlencode({'project': project.pk})}" if project else url


def _flash(request, items: list[notices.Notice]) -> None:
    for level, text in items:
        messages.add_message(request, level, text)


def account_row(account: TikTokAccount, *, now=None) -> AccountRow:
    return AccountRow(
        account=account,
        permissions=permissions_verdict(
            [scope.scope for scope in account.scopes.all()], needed=oauth.requested_scopes()
        ),
        region=region_verdict(account.country),
        token=token_state(
            status=account.status,
            access_expires_at=account.access_token_expires_at,
            refresh_expires_at=account.refresh_token_expires_at,
            now=now or timezone.now(),
        ),
        last_message_at=selectors.last_message_received_at(channel_id=account.pk),
    )


@login_required
@require_GET
def channels(request):
    project = _owned_project(request.user, request.GET.get("project"))
    if request.GET.get("project") and project is None:
        raise Http404(_("No such project of yours."))
    rows = []
    if project is not None:
        project_accounts = (
            TikTokAccount.objects.filter(channel__project=project).prefetch_related("scopes").order_by("channel_id")
        )
        now = timezone.now()
        rows = [account_row(account, now=now) for account in project_accounts]
    context = {
        "project": project,
        "projects": Project.objects.filter(owners=request.user).order_by("pk"),
        "rows": rows,
        "form": ConnectForm(initial={"project": project.pk}) if project else None,
    }
    return render(request, "channels_tiktok/channels.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def connect(request):
    """GET: the question about the registered country; POST: remember the connect and go to TikTok."""
    form = ConnectForm(request.POST or None, initial={"project": request.GET.get("project")})
    if request.method == "POST" and form.is_valid():
        project = _owned_project(request.user, form.cleaned_data["project"])
        if project is None:
            raise Http404(_("No such project of yours."))
        url = oauth.begin(
            request.session,
            user_id=request.user.pk,
            project_id=project.pk,
            country=form.cleaned_data["country"],
        )
        return HttpResponseRedirect(url)
    project = _owned_project(request.user, request.POST.get("project") or request.GET.get("project"))
    if project is None:
        raise Http404(_("No such project of yours."))
    if not form.is_bound:
        form = ConnectForm(initial={"project": project.pk})
    return render(request, "channels_tiktok/connect.html", {"project": project, "form": form})


@login_required
@require_GET
def oauth_callback(request):
    try:
        pending = oauth.consume_state(request.session, state=request.GET.get("state"), user_id=request.user.pk)
    except oauth.StateError as error:
        _flash(request, notices.state_notices(error))
        return redirect(_channels_url(None))
    project = _owned_project(request.user, pending.project_id)
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
def disconnect(request, pk: int):
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
