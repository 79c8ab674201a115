"""Forms of the owner's web pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from channels_tiktok.accounts.countries import country_choices


def _country_options():
    return [("", _("— choose the country —")), *country_choices()]


class ConnectForm(forms.Form):
    """Asked before going to TikTok: its API does not tell which country an account is registered in (R4)."""

    project = forms.IntegerField(widget=forms.HiddenInput)
    country = forms.ChoiceField(
        label=_("Country the TikTok account is registered in"),
        choices=_country_options,
        help_text=_(
            "TikTok's messaging API works only for accounts registered outside the US, the EEA, Switzerland and the UK."
        ),
    )
