"""The report's charts: accessible inline SVG, no link out, suppressed rows and cells visible, print-safe marks."""

import re

import numpy as np
import pytest

from analysis import figures

EXTERNAL = re.compile(r"""src=|href=["'](?!#)|@import|url\((?!#)|<!DOCTYPE|<\?xml""", re.IGNORECASE)
SCALE = ["1 Very dissatisfied", "2", "3", "4", "5 Very satisfied"]


def charts():
    return {
        "diverging": figures.diverging_bars(
            [("Website <b>", [0.1, 0.2, 0.3, 0.25, 0.15]), ("Newsletter", None)], SCALE, chart_id="c-div",
            title="Satisfaction <script>", description="Bars & more", suppressed_label="– (n < 5)"),
        "bars": figures.horizontal_bars([("Evidence", 0.52), ("Visibility", None), ("Other", 0.0)],
                                        chart_id="c-bars", title="Reasons", description="Shares"),
        "nps": figures.horizontal_bars([("All", -12.0), ("UN", 40.0)], chart_id="c-nps", title="NPS",
                                       description="NPS", percent=False, maximum=100, value_format="{:+.0f}"),
        "scatter": figures.importance_scatter(
            [("Website", 4.2, 3.1), ("Events", 3.4, 4.0), ("GCG", 3.9, 3.9)], 3.83, 3.67,
            {"concentrate": "Concentrate here", "keep_up": "Keep up the good work", "low_priority": "Low priority",
             "overkill": "Possible overkill"},
            chart_id="c-scatter", title="Importance", description="Scatter", x_label="Satisfaction",
            y_label="Importance"),
        "heat": figures.heat_map(["Website", "Events"], ["UN entity", "NGO"], np.array([[0.8, np.nan], [0.4, 0.1]]),
                                 np.array([[False, True], [False, True]]), chart_id="c-heat", title="Heat",
                                 description="T2B by group"),
    }


@pytest.fixture(scope="module")
def drawn():
    return charts()


@pytest.mark.parametrize("name", ["diverging", "bars", "nps", "scatter", "heat"])
def test_every_chart_is_accessible_inline_svg_without_external_references(drawn, name):
    svg = str(drawn[name])
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    chart_id = re.search(r' id="(c-[a-z]+)"', svg).group(1)
    assert f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc"' in svg
    assert f'<title id="{chart_id}-title">' in svg and f'<desc id="{chart_id}-desc">' in svg
    assert not EXTERNAL.findall(svg.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', ""))
    assert "<metadata" not in svg and 'width="' not in svg.split(">", 1)[0]  # scales to its container


def test_titles_and_labels_are_escaped(drawn):
    svg = str(drawn["diverging"])
    assert "Satisfaction &lt;script&gt;" in svg and "<script" not in svg
    assert "Website &lt;b&gt;" in svg and "Bars &amp; more" in svg


def test_diverging_bars_hatch_the_negative_side_label_values_and_show_suppressed_rows(drawn):
    svg = str(drawn["diverging"])
    assert svg.count("<pattern") >= 2  # hatching for scores 1 and 2: readable in grey print
    assert "#ca0020" in svg and "#0571b0" in svg  # ColorBrewer RdBu ends
    assert "– (n &lt; 5)" in svg
    for label in (">30<", ">25<", ">20<", ">15<", ">10<"):
        assert label in svg  # value labels on each segment of 9 % or more
    assert all(name in svg for name in ("1 Very dissatisfied", "5 Very satisfied"))


def test_diverging_bars_centre_the_neutral_share():
    svg = str(figures.diverging_bars([("Only neutral", [0, 0, 1, 0, 0])], SCALE, chart_id="c-n", title="t",
                                     description="d"))
    assert ">100<" in svg


def test_bars_label_values_and_dash_suppressed(drawn):
    svg = str(drawn["bars"])
    assert ">52%<" in svg and ">0%<" in svg and "–" in svg
    nps = str(drawn["nps"])
    assert ">-12<" in nps and ">+40<" in nps


def test_scatter_has_quadrants_cross_hairs_and_service_labels(drawn):
    svg = str(drawn["scatter"])
    for text in ("Concentrate here", "Keep up the good work", "Low priority", "Possible overkill", "Website",
                 "Events", "GCG", "Satisfaction", "Importance"):
        assert text in svg
    assert svg.count("stroke-dasharray") >= 2  # the two cross-hairs


def test_heat_map_labels_cells_and_hatches_suppressed_ones(drawn):
    svg = str(drawn["heat"])
    assert ">80<" in svg and ">40<" in svg and ">10<" not in svg  # 0.1 is in a hidden cell
    assert svg.count(">–<") == 2 and "<pattern" in svg
    assert "data:image" not in svg  # vector cells, no embedded bitmap


def test_charts_of_one_page_do_not_share_ids():
    first = figures.horizontal_bars([("a", 0.5)], chart_id="one", title="t", description="d")
    second = figures.horizontal_bars([("a", 0.5)], chart_id="two", title="t", description="d")
    ids = lambda svg: set(re.findall(r' id="([^"]+)"', str(svg)))
    assert ids(first) and not ids(first) & ids(second)


@pytest.mark.parametrize("name", ["diverging", "heat"])
def test_hatches_are_patterns_of_the_chart_referenced_inside_it(drawn, name):
    svg = str(drawn[name])
    patterns = set(re.findall(r'<pattern id="([^"]+)"', svg))
    assert patterns and all(p.startswith(f"c-{'div' if name == 'diverging' else 'heat'}-") for p in patterns)
    assert set(re.findall(r'url\(#([^)]+)\)', svg)) <= patterns
