"""Bar charts of the back office's home, drawn on the server as inline SVG: nothing loaded from anywhere.

The SVG carries no colour of its own: its parts have classes the page's style colours from
CSS variables, so the chart follows the light and dark themes like the text around it. It is
hidden from screen readers (``aria-hidden``): each chart's numbers are in a table beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 480, 150
# Room for the axis labels: left for the largest value, bottom for the dates.
LEFT, BOTTOM, TOP = 36, 22, 10
GAP = 2


def _coordinate(value: float) -> str:
    # format_html escapes its arguments into text first: numbers are formatted before.
    return f"{value:.1f}"


def bar_chart(points: Sequence[tuple[dt.date, int]]) -> SafeString:
    """Return an SVG bar chart of ``points`` (a day and a whole number each, oldest first)."""
    highest = max((value for _, value in points), default=0)
    scale_top = max(highest, 1)
    plot_width, plot_height = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    slot = plot_width / max(len(points), 1)
    bars = format_html_join(
        "",
        '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>',
        (
            (
                _coordinate(LEFT + index * slot + GAP / 2),
                _coordinate(TOP + plot_height - value / scale_top * plot_height),
                _coordinate(max(slot - GAP, 1)),
                _coordinate(value / scale_top * plot_height),
                day.isoformat(),
                value,
            )
            for index, (day, value) in enumerate(points)
        ),
    )
    # The first, middle and last days under the axis, so a reader can tell where a bar falls; the outer
    # two aligned to their ends so that neither runs off the chart.
    labelled = [(0, "start", LEFT), (len(points) // 2, "middle", None), (len(points) - 1, "end", WIDTH)]
    dates = format_html_join(
        "",
        '<text class="label" x="{}" y="{}" text-anchor="{}">{}</text>',
        (
            (
                _coordinate(x if x is not None else LEFT + index * slot + slot / 2),
                HEIGHT - 6,
                anchor,
                points[index][0].strftime("%d %b"),
            )
            for index, anchor, x in (labelled if len(points) > 2 else [])
        ),
    )
    baseline = TOP + plot_height
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMidYMid meet" aria-hidden="true" '
        'focusable="false">'
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<text class="label" x="{}" y="{}" text-anchor="end">{}</text>'
        '<text class="label" x="{}" y="{}" text-anchor="end">0</text>'
        "{}{}</svg>",
        WIDTH,
        HEIGHT,
        LEFT,
        baseline,
        WIDTH,
        baseline,
        LEFT,
        TOP,
        WIDTH,
        TOP,
        LEFT - 6,
        TOP + 4,
        highest,
        LEFT - 6,
        baseline,
        bars,
        dates,
    )
