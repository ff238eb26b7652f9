"""Key findings: every figure matches its table (recomputed here), nothing from a suppressed cell or a change whose
interval includes zero, themes only when there are some; analysts edit the text, too long is refused."""

import html
import re
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale, gettext

from analysis.loader import load_round
from analysis.models import KeyFindingsEdit
from analysis.report.builder import build_report
from analysis.report.findings import change_finding, key_findings
from analysis.report.model import Block, Column, Filters, Report, Section, Table
from analysis.report.themes import TopTheme
from analysis.summaries import CONCENTRATE
from engagement.extensions import db


def build(round_id, previous_id=None, threshold=5, filters=None, language=None):
    """The report as the page builds it; in `language`, its words (Flask-Babel's gettext) and its numbers."""
    previous = load_round(db.session, previous_id) if previous_id else None
    with force_locale(language or "en"):
        return build_report(load_round(db.session, round_id), previous=previous, threshold=threshold,
                            filters=filters, generated_at=datetime(2026, 12, 1, tzinfo=UTC), language=language,
                            gettext=gettext if language else None)


# "45%", "45 %" (narrow no-break space, French typography), "45 %" (no-break space, Spanish): written here by hand
# rather than by the report's own formatter, so the test recomputes each figure independently.
PERCENT_SIGN = {"en": "%", "fr": "\u202f%", "es": "\u00a0%"}


def cell(table, index, key):
    return table.cell(index, next(c for c in table.columns if c.key == key))


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_every_figure_of_every_finding_comes_from_a_shown_cell_of_its_table(app, rounds, language):
    with app.test_request_context():
        report = build(*rounds, language=language)
    assert [f.key for f in report.findings] == ["response", "best", "worst", "concentrate", "change"]
    for finding in report.findings:
        table = report.table(finding.table_key)
        assert table is not None and finding.caption == table.caption
        assert finding.cells, finding.key
        for index, key in finding.cells:
            assert key not in table.hidden[index], (finding.key, index, key)
            assert cell(table, index, key) in finding.text, (finding.key, key)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_the_findings_are_recomputed_from_the_tables(app, rounds, language):
    with app.test_request_context():
        report = build(*rounds, language=language)
    found = {f.key: f.text for f in report.findings}
    fieldwork = report.table("fieldwork-category")
    overall = fieldwork.rows[-1]
    assert overall["completion_rate"] == pytest.approx(overall["complete"] / overall["eligible"])
    assert f"{100 * overall['completion_rate']:.0f}{PERCENT_SIGN[language]}" in found["response"]
    decimal = "." if language == "en" else ","
    quadrant_rows = [r for r in report.table("importance-satisfaction").rows if r["quadrant_code"] == CONCENTRATE]
    assert all(f"{r['importance_mean']:.2f}".replace(".", decimal) in found["concentrate"]
               and f"{r['satisfaction_mean']:.2f}".replace(".", decimal) in found["concentrate"]
               for r in quadrant_rows)
    under = [r["group"] for i, r in enumerate(fieldwork.rows[:-1]) if "completion_rate" not in fieldwork.hidden[i]
             and r["completion_rate"] < overall["completion_rate"] - 0.15]
    assert all(group in found["response"] for group in under)
    rated = [(t.rows[i]["t2b"], t.rows[i]["item"]) for s in report.sections if s.key == "satisfaction"
             for t in (b.table for b in s.blocks) for i in range(len(t.rows)) if "t2b" not in t.hidden[i]]
    assert max(rated)[1] in found["best"] and min(rated)[1] in found["worst"]
    quadrant = report.table("importance-satisfaction")
    concentrate = [r["service"] for i, r in enumerate(quadrant.rows) if r["quadrant_code"] == CONCENTRATE
                   and "quadrant" not in quadrant.hidden[i]]
    assert concentrate and all(service in found["concentrate"] for service in concentrate)
    change = report.table("change")
    significant = {r["item"] for i, r in enumerate(change.rows) if "t2b_change" not in change.hidden[i]
                   and (r["t2b_change_low"] > 0 or r["t2b_change_high"] < 0)}
    named = {r["item"] for r in change.rows if r["item"] in found["change"]}
    assert named and named <= significant
    not_significant = {r["item"] for r in change.rows} - significant
    assert not any(f"{item} +" in found["change"] or f"{item} -" in found["change"] for item in not_significant)


def test_no_finding_from_suppressed_cells(app, rounds):
    with app.app_context():
        report = build(rounds[0], threshold=500)
    assert [f.key for f in report.findings] == ["response"]
    with app.app_context():
        small = build(rounds[0], filters=Filters(category="survivor"))
    assert small.respondents < 15
    for finding in small.findings:
        table = small.table(finding.table_key)
        assert all(key not in table.hidden[index] for index, key in finding.cells)
        assert all(table.rows[index].get("n", 5) >= 5 for index, _key in finding.cells)


def _change_report(low, high):
    columns = [Column("item", "Question"), Column("t2b_change", "T2B change", "pp"),
               Column("t2b_change_low", "low", "pp"), Column("t2b_change_high", "high", "pp")]
    table = Table("change", "Top-2-box now and before", columns,
                  [{"item": "Website", "t2b_change": (low + high) / 2, "t2b_change_low": low, "t2b_change_high": high}])
    return Report(1, "Now", "Survey", Filters(), 5, "en", 50, "Before", datetime.now(UTC),
                  [Section("change", "Change", blocks=[Block(table)])],
                  [])


def test_a_change_is_named_only_when_its_interval_excludes_zero():
    assert change_finding(_change_report(-0.05, 0.20)) is None
    assert "Website +12 pp" in change_finding(_change_report(0.04, 0.20)).text
    assert "Worse than in Before: Website -12 pp" in change_finding(_change_report(-0.20, -0.04)).text
    hidden = _change_report(0.04, 0.20)
    hidden.sections[0].blocks[0].table.hidden = [{"t2b_change"}]
    assert change_finding(hidden) is None


def test_themes_sentence_only_when_the_coding_gives_themes(app, rounds):
    with app.app_context():
        without = build(rounds[0])
        with_themes = build(rounds[0])
    with_themes.top_themes = [
        TopTheme("one_change", "One change", "More regional meetings", 14, 0.35, "themes-one_change"),
        TopTheme("one_change", "One change", "Translation", 9, 0.225, "themes-one_change")]
    assert "themes" not in [f.key for f in without.findings]
    themes = next(f for f in key_findings(with_themes) if f.key == "themes")
    assert themes.table_key == "themes-one_change"
    assert "More regional meetings (One change: 14 commenters, 35%)" in themes.text
    assert themes.text.index("regional") < themes.text.index("Translation")
    assert key_findings(without) == without.findings


def test_the_report_opens_with_the_key_findings_citing_their_tables(app, rounds, analyst):
    this, last = rounds
    text = analyst.get(f"/secretariat/rounds/{this}/report?compare={last}").get_data(as_text=True)
    assert text.index('id="key-findings"') < text.index('id="report-n"') < text.index('id="section-fieldwork"')
    links = re.findall(r'<a href="#block-([a-z0-9-]+)" class="cite">', text)
    assert set(links) == {"fieldwork-category", "satisfaction-satisfaction", "importance-satisfaction", "change"}
    assert all(f'id="block-{key}"' in text for key in links)
    fragment = analyst.get(f"/secretariat/rounds/{this}/report?compare={last}&region=africa",
                           headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="report-sections"') and 'id="key-findings"' in fragment
    assert "Edit the key findings" not in fragment  # edits are for the whole round, not a filtered view


def edit_url(round_id, compare=None):
    return f"/secretariat/rounds/{round_id}/report/key-findings" + (f"?compare={compare}" if compare else "")


def stored(app):
    with app.app_context():
        return [(e.round_id, e.language, e.compare_round_id, e.text) for e in db.session.scalars(
            db.select(KeyFindingsEdit))]


def test_an_analyst_edits_the_key_findings_and_the_page_shows_them(app, rounds, analyst):
    this, last = rounds
    form = analyst.get(edit_url(this, last)).get_data(as_text=True)
    assert "completion rate" in html.unescape(form)
    response = analyst.post(edit_url(this, last), {"text": "Partners value the Secretariat.\r\n\r\nFinancing first.",
                                                   "save": "1"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/report?compare={last}#key-findings")
    assert stored(app) == [(this, "en", last, "Partners value the Secretariat.\n\nFinancing first.")]
    page = analyst.get(f"/secretariat/rounds/{this}/report?compare={last}").get_data(as_text=True)
    assert "<p>Partners value the Secretariat.</p>" in page and "<p>Financing first.</p>" in page
    assert 'id="findings-edited"' in page and 'id="findings-outdated"' not in page
    other = analyst.get(f"/secretariat/rounds/{this}/report?compare=none").get_data(as_text=True)
    assert "Partners value the Secretariat." not in other  # written against last year's comparison only
    reset = analyst.post(edit_url(this, last), {"text": "", "reset": "1"}, htmx=True)
    assert reset.status_code == 204 and reset.headers["HX-Redirect"].endswith("#key-findings")
    assert stored(app) == []


def test_the_page_says_when_the_figures_changed_since_the_edit(app, rounds, analyst):
    this, _last = rounds
    assert analyst.post(edit_url(this), {"text": "Our summary.", "save": "1"}).status_code == 303
    with app.app_context():
        edit = db.session.scalar(db.select(KeyFindingsEdit))
        edit.fingerprint = "figures of an earlier day"
        db.session.commit()
    page = html.unescape(analyst.get(f"/secretariat/rounds/{this}/report").get_data(as_text=True))
    assert 'id="findings-outdated"' in page and "completion rate" in page and "Our summary." in page


@pytest.mark.parametrize("text, message", [
    ("x" * 4001, "at most 4000 characters long; this text has 4001"),
    ("   ", "Write the key findings"),
])
def test_bad_key_findings_are_refused_and_nothing_is_stored(app, rounds, analyst, text, message):
    this, _last = rounds
    analyst.get(edit_url(this))
    page = analyst.post(edit_url(this), {"text": text, "save": "1"})
    assert page.status_code == 422 and message in html.unescape(page.get_data(as_text=True))
    fragment = analyst.post(edit_url(this), {"text": text, "save": "1"}, htmx=True)
    body = html.unescape(fragment.get_data(as_text=True))
    assert fragment.status_code == 422 and body.lstrip().startswith('<form') and message in body
    assert stored(app) == []


def test_the_report_names_both_rounds_in_its_own_language(app, rounds):
    this, last = rounds
    with app.app_context():
        french = build_report(load_round(db.session, this), previous=load_round(db.session, last), language="fr",
                              generated_at=datetime(2026, 12, 1, tzinfo=UTC))
        english = build(this, last)
    assert french.round_name == "Revue 2026 de l'engagement des partenaires (démo)"
    assert french.previous_round == "Revue 2025 de l'engagement des partenaires (démo)"
    assert english.round_name == "2026 partner engagement review (demo)"
    assert english.previous_round == "2025 partner engagement review (demo)"


def test_key_findings_written_without_a_comparison_stay_with_that_choice(app, rounds, analyst):
    this, _last = rounds
    form = analyst.get(edit_url(this, "none")).get_data(as_text=True)
    assert f'action="/secretariat/rounds/{this}/report/key-findings?compare=none"' in form
    response = analyst.post(edit_url(this, "none"), {"text": "Without last year.", "save": "1"})
    assert response.headers["Location"].endswith("/report?compare=none#key-findings")
    assert stored(app) == [(this, "en", None, "Without last year.")]
    assert "Without last year." in analyst.get(f"/secretariat/rounds/{this}/report?compare=none").get_data(as_text=True)
    assert "Without last year." not in analyst.get(f"/secretariat/rounds/{this}/report").get_data(as_text=True)
