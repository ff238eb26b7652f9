"""Charts as server-rendered SVG: readable without JavaScript, printable in black and white, one dark colour.

Every chart goes beside a table with the same numbers (its text alternative); the SVG carries a title and a short
description for screen readers. No Flask here: callers pass labels already translated and formatted.
"""

import math

from markupsafe import Markup, escape

INK = "#1b1f24"
LINE = "#0b4f8a"  # dark blue: distinct from the background for every colour vision, and near black in grey print
GRID = "#c5ccd3"


def _nice_step(maximum: int, ticks: int = 4) -> int:
    """An integer step of 1, 2 or 5 x 10^k giving about `ticks` gridlines up to `maximum`."""
    if maximum <= ticks:
        return 1
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)


def cumulative_line_svg(points: list[tuple[str, int]], title: str, description: str, y_label: str,
                        chart_id: str = "chart", width: int = 640, height: int = 260) -> Markup:
    """A step line of a cumulative count (one point per day), with dot markers, gridlines and labelled axes."""
    left, right, top, bottom = 48, 16, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    maximum = max([value for _label, value in points] + [1])
    step = _nice_step(maximum)
    y_max = step * math.ceil(maximum / step)
    count = max(len(points), 1)

    def x(index: int) -> float:
        return left + (plot_w * (index + 0.5) / count)

    def y(value: int) -> float:
        return top + plot_h - plot_h * value / y_max

    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" '
         f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet" '
         f'font-family="system-ui, sans-serif" font-size="13">'),
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for value in range(0, y_max + 1, step):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="{GRID if value else INK}" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="{INK}">{value}</text>')
    parts.append(f'<text transform="translate(12 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
                 f'fill="{INK}">{escape(y_label)}</text>')
    label_every = max(1, math.ceil(count / 7))
    for index, (label, _value) in enumerate(points):
        if index % label_every == 0 or index == count - 1:
            parts.append(f'<text x="{x(index):.1f}" y="{height - bottom + 18}" text-anchor="middle" '
                         f'fill="{INK}">{escape(label)}</text>')
    if points:
        path, previous = [], None
        for index, (_label, value) in enumerate(points):
            if previous is None:
                path.append(f"M{x(index):.1f},{y(value):.1f}")
            else:
                path.append(f"H{x(index):.1f}V{y(value):.1f}")
            previous = value
        parts.append(f'<path d="{"".join(path)}" fill="none" stroke="{LINE}" stroke-width="2.5"/>')
        for index, (_label, value) in enumerate(points):
            parts.append(f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="3" fill="{LINE}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
