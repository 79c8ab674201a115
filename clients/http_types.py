"""Request types for views, for the type checker only (django-stubs' documented pattern)."""

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    """A request to a `login_required` view: `user` is a signed-in user, never AnonymousUser."""

    user: User
