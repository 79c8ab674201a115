"""A small bar chart of messages in and out per day, drawn on the server as inline SVG (no JS, no CDN).

This module computes the geometry; the template admin/channels_tiktok/tiktokaccount/panels/chart.html draws it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from channels_tiktok.accounts.selectors import DayCount

WIDTH, HEIGHT = 560, 160
LEFT, BOTTOM, TOP = 36, 22, 10
IN_COLOR, OUT_COLOR = "#2b6cb0", "#dd6b20"


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str
    color: str
    title: str


@dataclass(frozen=True)
class Label:
    x: str
    y: int
    text: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    labels: list[Label]
    peak: int
    summary: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: int = HEIGHT - BOTTOM
    axis_x: int = LEFT - 4
    peak_y: int = TOP + 8
    in_color: str = IN_COLOR
    out_color: str = OUT_COLOR


def messages_chart(days: Sequence[DayCount]) -> Chart:
    """Two bars per day (in, out), a y-axis maximum, a date under every other day, and a legend."""
    peak = max([1, *(d.inbound for d in days), *(d.outbound for d in days)])
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(days), 1)
    bar = max(slot / 2 - 2, 1)
    bars, labels = [], []
    for index, day in enumerate(days):
        x = LEFT + index * slot + 1
        label = date_format(day.day, "d.m")
        for offset, count, color, name in (
            (0, day.inbound, IN_COLOR, _("in")),
            (bar, day.outbound, OUT_COLOR, _("out")),
        ):
            height = plot_h * count / peak
            bars.append(
                Bar(
                    x=f"{x + offset:.1f}",
                    y=f"{TOP + plot_h - height:.1f}",
                    width=f"{bar:.1f}",
                    height=f"{height:.1f}",
                    color=color,
                    title=f"{label}: {count} {name}",
                )
            )
        if index % 2 == 0:
            labels.append(Label(x=f"{x + bar:.1f}", y=HEIGHT - 6, text=label))
    summary = _("Messages per day for the last %(days)d days: %(inbound)d in, %(outbound)d out.") % {
        "days": len(days),
        "inbound": sum(d.inbound for d in days),
        "outbound": sum(d.outbound for d in days),
    }
    return Chart(bars=bars, labels=labels, peak=peak, summary=summary)
