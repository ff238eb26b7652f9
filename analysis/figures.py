"""The report's charts as inline SVG strings, drawn by matplotlib without pyplot (thread-safe, no files, no display).

Each chart carries a <title> and <desc> (role="img") and sits beside a table of the same numbers in the page. Colours
come from colour-blind-safe palettes (ColorBrewer RdBu for agreement scales, Okabe-Ito for categories, a single
blue ramp for heat maps) and every chart also reads in black-and-white print: hatching on the negative side of the
diverging bars and on suppressed cells, value labels on bars and cells, marker shapes in the scatter plot. Callers
pass labels already translated and formatted; no Flask here.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence

import numpy as np
from markupsafe import Markup, escape
from matplotlib import rc_context
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

# ColorBrewer RdBu (5 classes, colour-blind safe); 3 is a light grey so the neutral band shows on white paper.
LIKERT_COLOURS = ("#ca0020", "#f4a582", "#d9d9d9", "#92c5de", "#0571b0")
LIKERT_HATCHES = ("xx", "///", "", "", "--")
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">", "p")
BAR = "#0072B2"
INK = "#1b1f24"
GRID = "#c5ccd3"
SUPPRESSED = "#f0f0f0"
DASH = "–"
WIDTH = 7.2  # inches; the SVG scales to its container
RC = {
    "svg.fonttype": "none",  # real <text>: small, selectable, read by screen readers
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "hatch.linewidth": 0.6,
}

_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_SIZE = re.compile(r'\s(width|height)="[\d.]+pt"')
_ID_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def _svg(figure: Figure, chart_id: str, title: str, description: str) -> Markup:
    """The figure as an accessible inline <svg>: no XML prologue or DOCTYPE, no metadata, ids unique to the chart."""
    chart_id = _ID_SAFE.sub("-", chart_id)
    buffer = io.StringIO()
    with rc_context({**RC, "svg.hashsalt": chart_id}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                       "Type": None})
    text = _METADATA.sub("", _PROLOGUE.sub("", buffer.getvalue(), count=1))
    text = _SIZE.sub("", text, count=2)
    opening = text.index(">") + 1
    head = text[: opening - 1] + (
        f' class="chart" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}"'
        ' preserveAspectRatio="xMidYMid meet">'
    )
    labels = f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
    return Markup(head + labels + text[opening:])


def _figure(height: float, labels: Sequence[str] = (), bottom: float = 0.45, top: float = 0.15,
            right: float = 0.45) -> tuple[Figure, object]:
    """A figure with one axes placed by fixed margins (inches): far cheaper than a layout engine."""
    height = max(1.4, height)
    longest = max((max(len(line) for line in label.split("\n")) for label in labels), default=2)
    left = min(3.2, 0.3 + 0.068 * longest)
    figure = Figure(figsize=(WIDTH, height))
    axes = figure.add_axes((left / WIDTH, bottom / height, 1 - (left + right) / WIDTH,
                            1 - (bottom + top) / height))
    return figure, axes


def _tidy(axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _wrap(label: str, width: int = 34) -> str:
    """Long labels on up to two lines, so the axis keeps room for the bars."""
    if len(label) <= width:
        return label
    cut = label.rfind(" ", 0, width)
    cut = cut if cut > 0 else width
    rest = label[cut:].strip()
    return label[:cut] + "\n" + (rest if len(rest) <= width else rest[: width - 1] + "…")


def diverging_bars(
    rows: Sequence[tuple[str, Sequence[float] | None]],
    scale: Sequence[str],
    *,
    chart_id: str,
    title: str,
    description: str,
    suppressed_label: str = DASH,
) -> Markup:
    """Stacked bars centred on the neutral score: 1-2 to the left, 3 straddling zero, 4-5 to the right.

    ``rows`` are (label, shares of scores 1..5 among valid answers, summing to 1) or (label, None) for a suppressed
    row, drawn as a dash; NA answers are not in the bars. ``scale`` names the five scores for the legend.
    """
    with rc_context(RC):
        labels = [_wrap(label) for label, _shares in rows]
        columns = 5 if sum(len(name) for name in scale) <= 80 else 3
        legend_rows = math.ceil(5 / columns)
        bottom = 0.5 + 0.22 * legend_rows
        figure, axes = _figure(bottom + 0.35 + 0.36 * len(rows), labels, bottom=bottom)
        positions = np.arange(len(rows))[::-1]
        shown = [(y, [100 * s for s in shares]) for y, (_label, shares) in zip(positions, rows) if shares is not None]
        for y, (_label, shares) in zip(positions, rows):
            if shares is None:
                axes.text(0, y, suppressed_label, ha="center", va="center", fontsize=9, color=INK,
                          bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
        if shown:
            ys = np.array([y for y, _shares in shown])
            table = np.array([shares for _y, shares in shown])
            start = -(table[:, 0] + table[:, 1] + table[:, 2] / 2)
            for score in range(5):
                widths = table[:, score]
                axes.barh(ys, widths, left=start, height=0.7, color=LIKERT_COLOURS[score],
                          hatch=LIKERT_HATCHES[score] or None, edgecolor=INK, linewidth=0.5)
                for y, left, width in zip(ys, start, widths):
                    if width >= 9:
                        axes.text(left + width / 2, y, f"{width:.0f}", ha="center", va="center", fontsize=8,
                                  color="white" if score in (0, 4) else INK)
                start = start + widths
        axes.axvline(0, color=INK, linewidth=0.8)
        axes.set_ylim(-0.6, len(rows) - 0.4)
        axes.set_yticks(positions, labels)
        axes.set_xlim(-100, 100)
        axes.set_xticks([-100, -50, 0, 50, 100], ["100%", "50%", "0", "50%", "100%"])
        axes.xaxis.grid(True, color=GRID, linewidth=0.5)
        axes.set_axisbelow(True)
        _tidy(axes)
        handles = [Patch(facecolor=c, hatch=h, edgecolor=INK, linewidth=0.5, label=name)
                   for c, h, name in zip(LIKERT_COLOURS, LIKERT_HATCHES, scale)]
        figure.legend(handles=handles, loc="lower center", ncols=columns, frameon=False, fontsize=8,
                      bbox_to_anchor=(0.5, 0.0))
        return _svg(figure, chart_id, title, description)


def horizontal_bars(
    rows: Sequence[tuple[str, float | None]],
    *,
    chart_id: str,
    title: str,
    description: str,
    percent: bool = True,
    maximum: float | None = None,
    value_format: str = "{:.0f}",
) -> Markup:
    """One bar per option (rankings, choices, NPS by group), largest share first as given; None draws a dash."""
    with rc_context(RC):
        labels = [_wrap(label) for label, _value in rows]
        figure, axes = _figure(0.75 + 0.3 * len(rows), labels, right=0.6)
        positions = np.arange(len(rows))[::-1]
        values = [v for _label, v in rows if v is not None and not math.isnan(v)]
        scale = 100 if percent else 1
        top = maximum if maximum is not None else (max(values, default=0) * scale * 1.15 or 1)
        low = min(0, min(values, default=0) * scale * 1.15)
        drawn = [(y, value * scale) for y, (_label, value) in zip(positions, rows)
                 if value is not None and not math.isnan(value)]
        if drawn:
            axes.barh([y for y, _v in drawn], [v for _y, v in drawn], height=0.65, color=BAR, edgecolor=INK,
                      linewidth=0.5)
        for y, (_label, value) in zip(positions, rows):
            if value is None or math.isnan(value):
                axes.text(0, y, " " + DASH, ha="left", va="center", fontsize=11, color=INK)
                continue
            shown = value * scale
            text = value_format.format(shown) + ("%" if percent else "")
            axes.text(shown + (top - low) * 0.01 if shown >= 0 else shown - (top - low) * 0.01, y, text,
                      ha="left" if shown >= 0 else "right", va="center", fontsize=8, color=INK)
        axes.set_ylim(-0.6, len(rows) - 0.4)
        axes.set_yticks(positions, labels)
        axes.set_xlim(low, top)
        if low < 0:
            axes.axvline(0, color=INK, linewidth=0.8)
        if percent:
            axes.xaxis.set_major_formatter(lambda x, _pos: f"{x:.0f}%")
        axes.xaxis.grid(True, color=GRID, linewidth=0.5)
        axes.set_axisbelow(True)
        _tidy(axes)
        return _svg(figure, chart_id, title, description)


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
) -> Markup:
    """Satisfaction (x) against importance (y) per service, cross-hairs at the grand means, quadrants named.

    ``quadrant_names`` has the keys concentrate (high importance, low satisfaction: top left), keep_up (top
    right), low_priority (bottom left) and overkill (bottom right). Each service gets its own marker shape and
    colour and a text label, so the plot reads in grey print.
    """
    with rc_context(RC):
        figure, axes = _figure(5.2, ["4.5 x"], bottom=0.55)
        xs = [p[2] for p in points] + [satisfaction_cross]
        ys = [p[1] for p in points] + [importance_cross]
        pad = 0.25
        x_low, x_high = max(1, min(xs) - pad), min(5, max(xs) + pad)
        y_low, y_high = max(1, min(ys) - pad), min(5, max(ys) + pad)
        if x_high - x_low < 0.6:
            x_low, x_high = satisfaction_cross - 0.3, satisfaction_cross + 0.3
        if y_high - y_low < 0.6:
            y_low, y_high = importance_cross - 0.3, importance_cross + 0.3
        axes.set_xlim(x_low, x_high)
        axes.set_ylim(y_low, y_high)
        axes.axvline(satisfaction_cross, color=INK, linestyle="--", linewidth=0.9)
        axes.axhline(importance_cross, color=INK, linestyle="--", linewidth=0.9)
        corner = {"concentrate": (0.02, 0.98, "left", "top"), "keep_up": (0.98, 0.98, "right", "top"),
                  "low_priority": (0.02, 0.02, "left", "bottom"), "overkill": (0.98, 0.02, "right", "bottom")}
        for key, (x, y, ha, va) in corner.items():
            axes.text(x, y, quadrant_names[key], transform=axes.transAxes, ha=ha, va=va, fontsize=8,
                      fontstyle="italic", color=INK, bbox={"facecolor": "white", "edgecolor": GRID, "pad": 2})
        for index, (label, importance, satisfaction) in enumerate(points):
            axes.scatter([satisfaction], [importance], s=46, marker=MARKERS[index % len(MARKERS)],
                         color=OKABE_ITO[index % len(OKABE_ITO)], edgecolors=INK, linewidths=0.6, zorder=3)
            axes.annotate(_wrap(label, 26), (satisfaction, importance), xytext=(5, 4), textcoords="offset points",
                          fontsize=7.5, color=INK)
        axes.set_xlabel(x_label)
        axes.set_ylabel(y_label)
        axes.grid(True, color=GRID, linewidth=0.4)
        axes.set_axisbelow(True)
        _tidy(axes)
        return _svg(figure, chart_id, title, description)


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
    values = np.asarray(values, dtype=float)
    hidden = np.asarray(hidden, dtype=bool) | np.isnan(values)
    with rc_context(RC):
        labels = [_wrap(r) for r in row_labels]
        columns = [_wrap(c, 16) for c in column_labels]
        bottom = 0.3 + 0.055 * max((len(line) for c in columns for line in c.split("\n")), default=4)
        figure, axes = _figure(bottom + 0.25 + 0.34 * len(row_labels), labels, bottom=bottom, top=0.1, right=0.2)
        percent = np.where(hidden, np.nan, values * 100)
        axes.pcolormesh(np.arange(len(column_labels) + 1) - 0.5, np.arange(len(row_labels) + 1) - 0.5,
                        np.ma.masked_invalid(10 + 0.8 * percent), cmap="Blues", vmin=0, vmax=100,
                        edgecolors="white", linewidth=1)
        cells = [Rectangle((j - 0.5, i - 0.5), 1, 1) for (i, j), is_hidden in np.ndenumerate(hidden) if is_hidden]
        if cells:
            axes.add_collection(PatchCollection(cells, facecolor=SUPPRESSED, hatch="///", edgecolor="#8a8a8a",
                                                linewidth=0))
        for (i, j), value in np.ndenumerate(percent):
            if np.isnan(value):
                axes.text(j, i, DASH, ha="center", va="center", fontsize=10, color=INK)
            else:
                axes.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=8,
                          color="white" if value >= 55 else INK)
        axes.set_xlim(-0.5, len(column_labels) - 0.5)
        axes.set_ylim(len(row_labels) - 0.5, -0.5)
        axes.set_xticks(range(len(column_labels)), columns, rotation=40, ha="right", rotation_mode="anchor")
        axes.set_yticks(range(len(row_labels)), labels)
        axes.tick_params(length=0)
        for spine in axes.spines.values():
            spine.set_visible(False)
        return _svg(figure, chart_id, title, description)
