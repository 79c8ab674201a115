"""A small bar chart of messages in and out per day, drawn on the server as inline SVG (no JS, no CDN)."""

from collections.abc import Sequence

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from channels_tiktok.accounts.selectors import DayCount

WIDTH, HEIGHT = 560, 160
LEFT, BOTTOM, TOP = 36, 22, 10
IN_COLOR, OUT_COLOR = "#2b6cb0", "#dd6b20"


def messages_chart(days: Sequence[DayCount]) -> SafeString:
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
                (
                    f"{x + offset:.1f}",
                    f"{TOP + plot_h - height:.1f}",
                    f"{bar:.1f}",
                    f"{height:.1f}",
                    color,
                    f"{label}: {count} {name}",
                )
            )
        if index % 2 == 0:
            labels.append((f"{x + bar:.1f}", HEIGHT - 6, label))
    summary = _("Messages per day for the last %(days)d days: %(inbound)d in, %(outbound)d out.") % {
        "days": len(days),
        "inbound": sum(d.inbound for d in days),
        "outbound": sum(d.outbound for d in days),
    }
    return format_html(
        '<svg class="messages-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        'height="{h}" role="img" aria-label="{summary}" style="max-width:100%;height:auto">'
        "<title>{summary}</title>"
        '<line x1="{left}" y1="{base}" x2="{w}" y2="{base}" stroke="#999"/>'
        '<text x="{lx}" y="{top_text}" font-size="10" text-anchor="end">{peak}</text>'
        '<text x="{lx}" y="{base}" font-size="10" text-anchor="end">0</text>'
        "{bars}{labels}</svg>"
        '<p class="chart-legend"><span style="color:{in_color}">■</span> {in_label} '
        '<span style="color:{out_color}">■</span> {out_label} · {summary}</p>',
        w=WIDTH,
        h=HEIGHT,
        left=LEFT,
        base=TOP + plot_h,
        lx=LEFT - 4,
        top_text=TOP + 8,
        peak=peak,
        summary=summary,
        bars=format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
            bars,
        ),
        labels=format_html_join("", '<text x="{}" y="{}" font-size="9" text-anchor="middle">{}</text>', labels),
        in_color=IN_COLOR,
        out_color=OUT_COLOR,
        in_label=_("messages in"),
        out_label=_("messages out"),
    )
