"""The project's API keys on the owner's side: list, create (the secret shown once), revoke. Thin views."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clients import api_keys as keys
from clients import callbacks
from clients.http_types import AuthenticatedHttpRequest
from clients.models import ApiKey, Project
from clients.owner.forms import ApiKeyCreateForm, CallbackForm
from clients.owner.projects import owned_project, owned_projects


def _api_keys_url(project: Project) -> str:
    return f"{reverse('api-keys')}?{urlencode({'project': project.pk})}"


@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: AuthenticatedHttpRequest) -> HttpResponse:
    project_id = request.GET.get("project")
    project = owned_project(request.user, project_id)
    if project_id and project is None:
        raise Http404(_("No such project of yours."))
    form = ApiKeyCreateForm(request.POST or None)
    created = secret = None
    if request.method == "POST":
        if project is None:
            raise Http404(_("No such project of yours."))
        if form.is_valid():
            created, secret = keys.create_api_key(project=project, name=form.cleaned_data["name"])
            form = ApiKeyCreateForm()
    return _render(request, project, form=form, created=created, secret=secret)


def _render(
    request: AuthenticatedHttpRequest,
    project: Project | None,
    *,
    form: ApiKeyCreateForm | None = None,
    created: ApiKey | None = None,
    secret: str | None = None,
    callback_form: CallbackForm | None = None,
    callback_secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The API keys and bot events page; a secret in it (a new key's, a new signing secret) is never cached."""
    context = {
        "project": project,
        "projects": owned_projects(request.user),
        "keys": keys.project_keys(project) if project else [],
        "form": form or ApiKeyCreateForm(),
        "created": created,
        "secret": secret,
        "callback_form": callback_form
        or CallbackForm(initial={"callback_url": project.callback_url if project else ""}),
        "callback_secret": callback_secret,
        "has_callback_secret": bool(project and project.callback_secret),
    }
    response = render(request, "clients/api_keys.html", context, status=status)
    if secret or callback_secret:
        # The secret is in this page only: no cache may keep it.
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def revoke_api_key(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey.objects.select_related("project"), pk=pk, project__owners=request.user)
    if keys.revoke_api_key(key=key):
        messages.success(request, _("API key “%(name)s” revoked: it no longer opens the API.") % {"name": key.name})
    else:
        messages.info(request, _("API key “%(name)s” was already revoked.") % {"name": key.name})
    return redirect(_api_keys_url(key.project))


def _own(request: AuthenticatedHttpRequest, project_id: int) -> Project:
    return get_object_or_404(Project, pk=project_id, owners=request.user)


@login_required
@require_POST
def set_callback(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    """Where the project's bot events go; a refused address shows on the page (400), a first secret once."""
    project = _own(request, project_id)
    form = CallbackForm(request.POST)
    if form.is_valid():
        try:
            secret = callbacks.set_callback_url(project=project, url=form.cleaned_data["callback_url"] or "")
        except callbacks.ValidationError as error:
            for message in error.message_dict.get("callback_url", error.messages):
                form.add_error("callback_url", message)
        else:
            if project.callback_url:
                messages.success(request, _("Bot events now go to the callback URL."))
            else:
                messages.success(request, _("Bot events are no longer pushed: the bot reads them from the feed."))
            if secret:
                return _render(request, project, callback_secret=secret)
            return redirect(_api_keys_url(project))
    project.refresh_from_db()
    return _render(request, project, callback_form=form, status=400)


@login_required
@require_POST
def new_callback_secret(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _own(request, project_id)
    return _render(request, project, callback_secret=callbacks.new_callback_secret(project=project))
