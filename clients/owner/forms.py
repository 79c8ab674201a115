from django import forms
from django.utils.translation import gettext_lazy as _

from clients.api_keys import NAME_MAX_LENGTH


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX_LENGTH,
        strip=True,
        help_text=_("What uses this key, e.g. “bot builder, production”."),
    )


class CallbackForm(forms.Form):
    callback_url = forms.URLField(
        label=_("Callback URL"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("Where bot events are POSTed, signed. Empty: the bot reads them from the events feed instead."),
    )
