"""Small wordings shared by the staff console's pages: a conversation's window (one sentence per
`rules.window_verdict` state, for the conversations list and the account page alike) and moments in time."""

import datetime as dt

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from channels_tiktok import constants
from channels_tiktok.messaging import rules


def window_text(verdict: rules.WindowVerdict) -> str:
    if verdict.state == rules.WINDOW_OPEN:
        return ngettext("open: %(left)d message left", "open: %(left)d messages left", verdict.messages_left) % {
            "left": verdict.messages_left
        }
    if verdict.state == rules.WINDOW_USED_UP:
        return _("quota used up: wait for the client to write")
    if verdict.state == rules.WINDOW_CLOSED:
        return _("closed: %(hours)d hours passed since the client wrote") % {"hours": constants.WINDOW_HOURS}
    return _("no client message yet")


def when(value: dt.datetime | None) -> str:
    """A moment in the console's time zone and format; "—" for none."""
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else "—"
