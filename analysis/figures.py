"""The analysis's charts as inline SVG strings, written by hand (no plotting library: a chart costs a millisecond):
the report's bars, scatter plot and heat maps, and the monitoring dashboard's cumulative line.

Each chart carries a <title> and <desc> (role="img", aria-labelledby) and sits beside a table of the same numbers in
the page. Colours come from colour-blind-safe palettes (ColorBrewer RdBu for agreement scales, Okabe-Ito for
categories, ColorBrewer Blues for heat maps) and every chart also reads in black-and-white print: hatching on the
negative side of the diverging bars and on suppressed cells, value labels on bars and cells, marker shapes in the
scatter plot, one dark blue for the dashboard's line. Hatches are <pattern>s whose ids start with the chart's id, so
charts on one page never share an id. Callers pass labels already translated and formatted, and may pass functions
that write numbers in the report's language ("45 %", "3,5"); no Flask here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np
from markupsafe import Markup, escape

# ColorBrewer RdBu (5 classes, colour-blind safe); 3 is a light grey so the neutral band shows on white paper.
LIKERT_COLOURS = ("#ca0020", "#f4a582", "#d9d9d9", "#92c5de", "#0571b0")
LIKERT_HATCHES = ("xx", "///", "", "", "--")
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">", "p")
BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
BAR = "#0072B2"
LINE = "#0b4f8a"  # the dashboard's line: dark blue, clear for every colour vision and near black in grey print
INK = "#1b1f24"
GRID = "#c5ccd3"
SUPPRESSED = "#f0f0f0"
SUPPRESSED_HATCH = "#8a8a8a"
DASH = "–"
WIDTH = 720  # viewBox units (100 per inch of the former figures); the SVG scales to its container
FONT = 12  # label size in viewBox units
CHAR = 0.55  # average advance of a character, in ems, for sizing margins

_ID_SAFE = re.compile(r"[^A-Za-z0-9_-]")


# -- drawing primitives ----------------------------------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate, short: at most one decimal."""
    text = f"{value:.1f}"
    return text.removesuffix(".0")


def _text(x: float, y: float, label: str, *, anchor: str = "start", size: float = FONT, fill: str = INK,
          extra: str = "", line_height: float = 1.15) -> str:
    """A text, vertically centred on y; lines split on '\\n' are stacked around y."""
    lines = label.split("\n")
    first = -(len(lines) - 1) * line_height / 2
    attributes = (f'x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" dominant-baseline="central" '
                  f'font-size="{_n(size)}" fill="{fill}"{extra}')
    if len(lines) == 1:
        return f"<text {attributes}>{escape(label)}</text>"
    spans = "".join(
        f'<tspan x="{_n(x)}" dy="{_n((first if i == 0 else line_height) * size)}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f"<text {attributes}>{spans}</text>"


def _rect(x: float, y: float, width: float, height: float, fill: str, extra: str = "") -> str:
    return (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(width, 0))}" height="{_n(max(height, 0))}" '
            f'fill="{fill}"{extra}/>')


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str = INK, width: float = 1, extra: str = "") -> str:
    return (f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
            f'stroke-width="{_n(width)}"{extra}/>')


def _hatch(pattern_id: str, hatch: str, background: str, stroke: str = INK, size: float = 6) -> str:
    """A <pattern> of the background colour crossed by lines: '/' diagonal, 'x' both diagonals, '-' horizontal."""
    strokes = []
    if "/" in hatch or "x" in hatch:
        strokes.append(f"M0,{_n(size)}L{_n(size)},0M-1,1L1,-1M{_n(size - 1)},{_n(size + 1)}L{_n(size + 1)},"
                       f"{_n(size - 1)}")
    if "x" in hatch or "\\" in hatch:
        strokes.append(f"M0,0L{_n(size)},{_n(size)}M-1,{_n(size - 1)}L1,{_n(size + 1)}M{_n(size - 1)},-1L"
                       f"{_n(size + 1)},1")
    if "-" in hatch:
        strokes.append(f"M0,{_n(size / 2)}H{_n(size)}")
    return (f'<pattern id="{pattern_id}" patternUnits="userSpaceOnUse" width="{_n(size)}" height="{_n(size)}">'
            f'<rect width="{_n(size)}" height="{_n(size)}" fill="{background}"/>'
            f'<path d="{"".join(strokes)}" stroke="{stroke}" stroke-width="0.8" fill="none"/></pattern>')


def _svg(chart_id: str, height: float, title: str, description: str, defs: Sequence[str], body: Sequence[str]) -> Markup:
    """An accessible inline <svg>: no prologue, no size (it scales to its container), title and description."""
    height = math.ceil(height)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}" preserveAspectRatio="xMidYMid meet" '
        f'font-family="system-ui, -apple-system, \'Segoe UI\', Roboto, sans-serif" font-size="{FONT}">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
    )
    return Markup(head + (f"<defs>{''.join(defs)}</defs>" if defs else "") + "".join(body) + "</svg>")


def _safe_id(chart_id: str) -> str:
    return _ID_SAFE.sub("-", chart_id)


def _label_width(labels: Sequence[str], size: float = FONT) -> float:
    """Room for the longest line of the labels, with a little padding (at most 320 units)."""
    longest = max((max(len(line) for line in label.split("\n")) for label in labels), default=2)
    return min(320, 30 + CHAR * size * longest)


def _wrap(label: str, width: int = 34) -> str:
    """Long labels on up to two lines, so the axis keeps room for the bars."""
    if len(label) <= width:
        return label
    cut = label.rfind(" ", 0, width)
    cut = cut if cut > 0 else width
    rest = label[cut:].strip()
    return label[:cut] + "\n" + (rest if len(rest) <= width else rest[: width - 1] + "…")


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 x 10^k apart) covering low..high."""
    span = high - low
    if not span > 0:
        return [low]
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(f * power for f in (1, 2, 2.5, 5, 10) if f * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9 * span:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _tick_label(value: float) -> str:
    return f"{value:g}" if value != 0 else "0"


# -- charts ----------------------------------------------------------------------------------------------------------


def diverging_bars(
    rows: Sequence[tuple[str, Sequence[float] | None]],
    scale: Sequence[str],
    *,
    chart_id: str,
    title: str,
    description: str,
    suppressed_label: str = DASH,
    percent_text: Callable[[float], str] | None = None,
) -> Markup:
    """Stacked bars centred on the neutral score: 1-2 to the left, 3 straddling zero, 4-5 to the right.

    ``rows`` are (label, shares of scores 1..5 among valid answers, summing to 1) or (label, None) for a suppressed
    row, drawn as a dash; NA answers are not in the bars. ``scale`` names the five scores for the legend.
    """
    chart_id = _safe_id(chart_id)
    labels = [_wrap(label) for label, _shares in rows]
    left, right, top, row_height = _label_width(labels), 45, 15, 36
    plot_width = WIDTH - left - right
    plot_bottom = top + row_height * len(rows)
    columns = 5 if sum(len(name) for name in scale) <= 80 else 3
    legend_rows = math.ceil(5 / columns)
    height = plot_bottom + 32 + 22 * legend_rows + 8

    def x(percent: float) -> float:
        return left + plot_width * (percent + 100) / 200

    fills = [f"url(#{chart_id}-s{score})" if LIKERT_HATCHES[score] else LIKERT_COLOURS[score] for score in range(5)]
    defs = [_hatch(f"{chart_id}-s{score}", LIKERT_HATCHES[score], LIKERT_COLOURS[score]) for score in range(5)
            if LIKERT_HATCHES[score]]
    body = []
    whole, half = (percent_text(1.0), percent_text(0.5)) if percent_text else ("100%", "50%")
    for tick, name in zip((-100, -50, 0, 50, 100), (whole, half, "0", half, whole)):
        body.append(_line(x(tick), top, x(tick), plot_bottom, GRID, 0.5))
        body.append(_text(x(tick), plot_bottom + 14, name, anchor="middle", size=11))
    body.append(_line(left, plot_bottom, WIDTH - right, plot_bottom, INK, 0.8))
    dashes = []  # drawn over the centre line
    for index, ((_label, shares), label) in enumerate(zip(rows, labels)):
        centre = top + row_height * (index + 0.5)
        body.append(_text(left - 6, centre, label, anchor="end"))
        if shares is None:
            width = CHAR * 11 * len(suppressed_label) + 8
            dashes.append(_rect(x(0) - width / 2, centre - 9, width, 18, "white"))
            dashes.append(_text(x(0), centre, suppressed_label, anchor="middle", size=11))
            continue
        percents = [100 * float(s) for s in shares]
        start = -(percents[0] + percents[1] + percents[2] / 2)
        bar_top = centre - row_height * 0.35
        for score, width in enumerate(percents):
            if width > 0:
                body.append(_rect(x(start), bar_top, x(start + width) - x(start), row_height * 0.7, fills[score],
                                  f' stroke="{INK}" stroke-width="0.5"'))
            if width >= 9:
                dark = score in (0, 4)
                extra = ' font-weight="600"' if dark else (
                    ' stroke="white" stroke-width="3" paint-order="stroke"' if LIKERT_HATCHES[score] else "")
                body.append(_text(x(start + width / 2), centre, f"{width:.0f}", anchor="middle", size=11,
                                  fill="white" if dark else INK, extra=extra))
            start += width
    body.append(_line(x(0), top, x(0), plot_bottom, INK, 1))
    body += dashes
    legend_top = plot_bottom + 32
    cell = (WIDTH - 40) / columns
    for score, name in enumerate(scale[:5]):
        row, column = divmod(score, columns)
        lx, ly = 20 + cell * column, legend_top + 22 * row
        body.append(_rect(lx, ly - 6, 18, 12, fills[score], f' stroke="{INK}" stroke-width="0.5"'))
        body.append(_text(lx + 24, ly, name, size=11))
    return _svg(chart_id, height, title, description, defs, body)


def horizontal_bars(
    rows: Sequence[tuple[str, float | None]],
    *,
    chart_id: str,
    title: str,
    description: str,
    percent: bool = True,
    maximum: float | None = None,
    value_format: str = "{:.0f}",
    value_text: Callable[[float], str] | None = None,
    tick_text: Callable[[float], str] | None = None,
) -> Markup:
    """One bar per option (rankings, choices, NPS by group), largest share first as given; None draws a dash.

    ``value_text`` writes a bar's value as given (a share 0..1 when ``percent``), ``tick_text`` an axis tick in
    the axis's units (0..100 when ``percent``); without them, ``value_format`` and a "%" sign."""
    chart_id = _safe_id(chart_id)
    labels = [_wrap(label) for label, _value in rows]
    left, right, top, row_height = _label_width(labels), 60, 15, 30
    plot_width = WIDTH - left - right
    plot_bottom = top + row_height * len(rows)
    height = plot_bottom + 30
    scale = 100 if percent else 1
    values = [v for _label, v in rows if v is not None and not math.isnan(v)]
    high = maximum if maximum is not None else (max(values, default=0) * scale * 1.15 or 1)
    low = min(0, min(values, default=0) * scale * 1.15)
    if low < 0:  # room on the left for the value label of the most negative bar
        low -= 0.1 * (high - low)

    def x(value: float) -> float:
        return left + plot_width * (value - low) / (high - low)

    body = []
    for tick in _nice_ticks(low, high):
        body.append(_line(x(tick), top, x(tick), plot_bottom, GRID, 0.5))
        name = tick_text(tick) if tick_text else _tick_label(tick) + ("%" if percent else "")
        body.append(_text(x(tick), plot_bottom + 14, name, anchor="middle", size=11))
    body.append(_line(left, plot_bottom, WIDTH - right, plot_bottom, INK, 0.8))
    body.append(_line(x(0), top, x(0), plot_bottom, INK, 0.8 if low < 0 else 0.5))
    for index, ((_label, value), label) in enumerate(zip(rows, labels)):
        centre = top + row_height * (index + 0.5)
        body.append(_text(left - 6, centre, label, anchor="end"))
        if value is None or math.isnan(value):
            body.append(_text(x(0) + 4, centre, DASH, size=14))
            continue
        shown = value * scale
        start, end = sorted((x(0), x(shown)))
        body.append(_rect(start, centre - row_height * 0.325, end - start, row_height * 0.65, BAR,
                          f' stroke="{INK}" stroke-width="0.5"'))
        text = value_text(value) if value_text else value_format.format(shown) + ("%" if percent else "")
        offset = 4 if shown >= 0 else -4
        body.append(_text(x(shown) + offset, centre, text, anchor="start" if shown >= 0 else "end", size=11))
    return _svg(chart_id, height, title, description, [], body)


def _marker(shape: str, cx: float, cy: float, r: float, fill: str) -> str:
    """A marker of the given matplotlib-style shape code, outlined in ink."""
    style = f'fill="{fill}" stroke="{INK}" stroke-width="0.8"'
    if shape == "o":
        return f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" {style}/>'
    if shape == "s":
        return _rect(cx - r * 0.85, cy - r * 0.85, 1.7 * r, 1.7 * r, fill, f' stroke="{INK}" stroke-width="0.8"')

    def polygon(points):
        return f'<polygon points="{" ".join(f"{_n(cx + px)},{_n(cy + py)}" for px, py in points)}" {style}/>'

    def regular(sides, radius, rotation=0.0):
        return [(radius * math.sin(rotation + 2 * math.pi * k / sides), -radius * math.cos(rotation + 2 * math.pi * k
                                                                                          / sides))
                for k in range(sides)]

    if shape == "^":
        return polygon(regular(3, r * 1.2))
    if shape == "v":
        return polygon(regular(3, r * 1.2, math.pi))
    if shape == "<":
        return polygon(regular(3, r * 1.2, -math.pi / 2))
    if shape == ">":
        return polygon(regular(3, r * 1.2, math.pi / 2))
    if shape == "D":
        return polygon(regular(4, r * 1.15))
    if shape == "h":
        return polygon(regular(6, r * 1.05))
    if shape == "p":
        return polygon(regular(5, r * 1.1))
    if shape == "*":
        outer, inner = regular(5, r * 1.35), regular(5, r * 0.55, math.pi / 5)
        return polygon([p for pair in zip(outer, inner) for p in pair])
    a, b = r, r * 0.38  # plus and cross: a 12-point outline
    plus = [(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a), (-b, b), (-a, b), (-a, -b),
            (-b, -b)]
    if shape == "X":
        c = math.sqrt(0.5)
        plus = [(c * (px - py), c * (px + py)) for px, py in plus]
    return polygon(plus)


def importance_scatter(
    points: Sequence[tuple[str, float, float]],
    importance_cross: float,
    satisfaction_cross: float,
    quadrant_names: dict[str, str],
    *,
    chart_id: str,
    title: str,
    description: str,
    x_label: str,
    y_label: str,
    tick_text: Callable[[float], str] | None = None,
) -> Markup:
    """Satisfaction (x) against importance (y) per service, cross-hairs at the grand means, quadrants named.

    ``quadrant_names`` has the keys concentrate (high importance, low satisfaction: top left), keep_up (top
    right), low_priority (bottom left) and overkill (bottom right). Each service gets its own marker shape and
    colour and a text label, so the plot reads in grey print.
    """
    chart_id = _safe_id(chart_id)
    left, right, top, bottom, height = 70, 45, 15, 55, 520
    plot_width, plot_height = WIDTH - left - right, height - top - bottom
    xs = [p[2] for p in points] + [satisfaction_cross]
    ys = [p[1] for p in points] + [importance_cross]
    pad = 0.25
    x_low, x_high = max(1, min(xs) - pad), min(5, max(xs) + pad)
    y_low, y_high = max(1, min(ys) - pad), min(5, max(ys) + pad)
    if x_high - x_low < 0.6:
        x_low, x_high = satisfaction_cross - 0.3, satisfaction_cross + 0.3
    if y_high - y_low < 0.6:
        y_low, y_high = importance_cross - 0.3, importance_cross + 0.3

    def x(value: float) -> float:
        return left + plot_width * (value - x_low) / (x_high - x_low)

    def y(value: float) -> float:
        return top + plot_height * (1 - (value - y_low) / (y_high - y_low))

    plot_bottom, plot_right = top + plot_height, left + plot_width
    body = []
    for tick in _nice_ticks(x_low, x_high):
        body.append(_line(x(tick), top, x(tick), plot_bottom, GRID, 0.4))
        body.append(_text(x(tick), plot_bottom + 14, (tick_text or _tick_label)(tick), anchor="middle", size=11))
    for tick in _nice_ticks(y_low, y_high):
        body.append(_line(left, y(tick), plot_right, y(tick), GRID, 0.4))
        body.append(_text(left - 6, y(tick), (tick_text or _tick_label)(tick), anchor="end", size=11))
    body.append(_line(left, top, left, plot_bottom, INK, 0.8))
    body.append(_line(left, plot_bottom, plot_right, plot_bottom, INK, 0.8))
    dashed = ' stroke-dasharray="6 3"'
    body.append(_line(x(satisfaction_cross), top, x(satisfaction_cross), plot_bottom, INK, 1, dashed))
    body.append(_line(left, y(importance_cross), plot_right, y(importance_cross), INK, 1, dashed))
    corners = {"concentrate": (left + 8, top + 14, "start"), "keep_up": (plot_right - 8, top + 14, "end"),
               "low_priority": (left + 8, plot_bottom - 14, "start"),
               "overkill": (plot_right - 8, plot_bottom - 14, "end")}
    placed = []  # boxes that labels should keep clear of: quadrant names, markers, labels already placed
    for key, (cx, cy, anchor) in corners.items():
        name = quadrant_names[key]
        width = CHAR * 11 * len(name) + 8
        box_left = cx - 4 if anchor == "start" else cx - width + 4
        body.append(_rect(box_left, cy - 9, width, 18, "white", f' stroke="{GRID}" stroke-width="0.8"'))
        body.append(_text(cx, cy, name, anchor=anchor, size=11, extra=' font-style="italic"'))
        placed.append((box_left, cy - 9, box_left + width, cy + 9))
    marks = [(x(satisfaction), y(importance)) for _label, importance, satisfaction in points]
    placed += [(px - 6, py - 6, px + 6, py + 6) for px, py in marks]
    for index, ((px, py), (label, _importance, _satisfaction)) in enumerate(zip(marks, points)):
        body.append(_marker(MARKERS[index % len(MARKERS)], px, py, 5, OKABE_ITO[index % len(OKABE_ITO)]))
        body.append(_point_label(px, py, _wrap(label, 26), placed, (left, top, plot_right, plot_bottom)))
    body.append(_text(left + plot_width / 2, height - 14, x_label, anchor="middle"))
    body.append(_text(16, top + plot_height / 2, y_label, anchor="middle",
                      extra=f' transform="rotate(-90 16 {_n(top + plot_height / 2)})"'))
    return _svg(chart_id, height, title, description, [], body)


def _point_label(px: float, py: float, text: str, placed: list, frame: tuple[float, float, float, float]) -> str:
    """A point's label beside it: the first of eight places inside the frame and clear of the boxes placed."""
    size = 10.5
    lines = text.split("\n")
    width = CHAR * size * max(len(line) for line in lines)
    height = 1.15 * size * len(lines)
    left, top, right, bottom = frame
    candidates = []
    for dx, dy in ((1, -1), (1, 1), (-1, -1), (-1, 1), (1, 0), (-1, 0), (0, -1), (0, 1)):
        x0 = px + 8 if dx > 0 else px - 8 - width if dx < 0 else px - width / 2
        y0 = py - 6 - height if dy < 0 else py + 6 if dy > 0 else py - height / 2
        box = (x0, y0, x0 + width, y0 + height)
        inside = box[0] >= left and box[2] <= right and box[1] >= top and box[3] <= bottom
        clear = not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed)
        candidates.append((not inside, not clear, box))
    _outside, _overlap, box = min(candidates, key=lambda c: (c[0] + c[1], c[0]))
    placed.append(box)
    halo = ' stroke="white" stroke-width="3" stroke-opacity="0.85" paint-order="stroke"'  # readable over grid lines
    return _text(box[0], (box[1] + box[3]) / 2, text, size=size, extra=halo)


def _blue(share: float) -> str:
    """ColorBrewer Blues at 0..1, interpolated between its nine classes."""
    share = min(1.0, max(0.0, share))
    position = share * (len(BLUES) - 1)
    i = min(int(position), len(BLUES) - 2)
    t = position - i
    a, b = BLUES[i], BLUES[i + 1]
    channels = [round(int(a[k: k + 2], 16) * (1 - t) + int(b[k: k + 2], 16) * t) for k in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in channels)


def heat_map(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: np.ndarray,
    hidden: np.ndarray,
    *,
    chart_id: str,
    title: str,
    description: str,
) -> Markup:
    """Shares (0..1) in a grid, each cell labelled with its percentage; hidden cells hatched and shown as '–'."""
    chart_id = _safe_id(chart_id)
    values = np.asarray(values, dtype=float)
    hidden = np.asarray(hidden, dtype=bool) | np.isnan(values)
    labels = [_wrap(r) for r in row_labels]
    columns = [_wrap(c, 16) for c in column_labels]
    longest_column = max((len(line) for c in columns for line in c.split("\n")), default=4)
    left, right, top, row_height = _label_width(labels), 20, 10, 34
    bottom = 20 + CHAR * FONT * longest_column * 0.77 + 12  # labels turned 40 degrees
    plot_width = WIDTH - left - right
    cell_width = plot_width / max(len(column_labels), 1)
    plot_bottom = top + row_height * len(row_labels)
    height = plot_bottom + bottom
    pattern = f"{chart_id}-hidden"
    defs = [_hatch(pattern, "///", SUPPRESSED, SUPPRESSED_HATCH)]
    body = []
    for i, label in enumerate(labels):
        centre = top + row_height * (i + 0.5)
        body.append(_text(left - 6, centre, label, anchor="end"))
        for j in range(len(column_labels)):
            cx = left + cell_width * (j + 0.5)
            if hidden[i, j]:
                body.append(_rect(left + cell_width * j, top + row_height * i, cell_width, row_height,
                                  f"url(#{pattern})", ' stroke="white" stroke-width="1"'))
                body.append(_text(cx, centre, DASH, anchor="middle", size=13))
                continue
            percent = 100 * values[i, j]
            body.append(_rect(left + cell_width * j, top + row_height * i, cell_width, row_height,
                              _blue((10 + 0.8 * percent) / 100), ' stroke="white" stroke-width="1"'))
            body.append(_text(cx, centre, f"{percent:.0f}", anchor="middle", size=11,
                              fill="white" if percent >= 55 else INK))
    for j, label in enumerate(columns):
        cx = left + cell_width * (j + 0.5)
        ty = plot_bottom + 10
        body.append(_text(cx, ty, label, anchor="end", extra=f' transform="rotate(-40 {_n(cx)} {_n(ty)})"'))
    return _svg(chart_id, height, title, description, defs, body)


# -- the monitoring dashboard ----------------------------------------------------------------------------------------


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
