"""The collective analysis report: sections in order, numbers checked by hand, suppression, filters, CSV, file."""

import csv
import html
import io
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from engagement.extensions import db
from partners.models import Contact, Organisation
from surveys.demo import load_demo
from surveys.models import Answer, Invitation, Response, Round
from surveys.rounds import create_round
from surveys.versions import definition_for
from synthetic.responses import Partner, fill_round
from tests.conftest import saved_database

SECTIONS = [
    "fieldwork", "profile", "engagement", "funnel", "satisfaction", "importance", "ranking", "heat-maps",
    "action-groups", "pathfinder", "barriers", "other-questions", "nps", "free-text", "questionnaire", "methods",
    "suppression-log",
]  # fmt: skip
EXTERNAL = re.compile(r"""src=|href=["']?https?:|@import|url\((?!#)""", re.IGNORECASE)


def demo_round(count: int, **options) -> int:
    """The demo round with `count` synthetic submitted responses."""
    round_, _invitations = load_demo()
    if count:
        fill_round(round_.id, definition_for(round_.survey_version), count, **options)
    return round_.id


@pytest.fixture
def filled(app):
    return saved_database(app, "demo-300-submitted", lambda: demo_round(300, submitted_share=1.0))


def page(client, round_id, query="", htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.get(f"/secretariat/rounds/{round_id}/report{query}", headers=headers)


def table_rows(text: str, key: str) -> dict[str, list[str]]:
    """A table of the page as {row label: [cell texts]}."""
    match = re.search(rf'<table class="data report-table" id="table-{re.escape(key)}">(.*?)</table>', text, re.DOTALL)
    assert match, key
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(1), re.DOTALL):
        label = re.search(r'<th scope="row">(.*?)(?:<span class="low-base-mark">|</th>)', row, re.DOTALL)
        if label:
            cells = [html.unescape(c.strip()) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
            rows[html.unescape(label.group(1).strip())] = cells
    return rows


def section_ids(text: str) -> list[str]:
    return re.findall(r'<section class="report-section[^"]*" id="section-([a-z0-9-]+)"', text)


def analysed_answers(round_id: int) -> dict[int, dict[str, str]]:
    """Every submitted response's answers, read straight from the tables (the independent side of the checks)."""
    rows = db.session.execute(
        select(Answer.response_id, Answer.question, Answer.value)
        .join(Response, Answer.response_id == Response.id)
        .join(Invitation, Response.invitation_id == Invitation.id)
        .where(Invitation.round_id == round_id, Response.status == "submitted"))
    answers: dict[int, dict[str, str]] = {}
    for response_id, question, value in rows:
        answers.setdefault(response_id, {})[question] = value
    return answers


# -- the page ------------------------------------------------------------------------------------------------------


def test_every_section_in_the_order_of_the_domain(app, filled, analyst):
    response = page(analyst, filled)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert section_ids(text) == SECTIONS
    assert text.count('<svg') >= 20 and 'role="img"' in text
    assert "Download CSV" in text and "Wilson" in text and "Newcombe" in text  # methods annex names them
    assert 'id="report-n">300<' in text
    assert "HX-Request" in response.headers["Vary"]


def test_numbers_match_an_independent_count(app, filled, analyst):
    text = page(analyst, filled).get_data(as_text=True)
    with app.app_context():
        answers = analysed_answers(filled)
        invited = db.session.query(Invitation).filter_by(round_id=filled).count()
    scores = [a["sat_website"] for a in answers.values() if a.get("sat_website") in {"1", "2", "3", "4", "5"}]
    t2b = sum(s in {"4", "5"} for s in scores) / len(scores)
    row = table_rows(text, "satisfaction-satisfaction")["alliance87.org website"]
    # n, mean, mean CI low, mean CI high, median, T2B, ...
    assert row[0] == str(len(scores)) and row[5] == f"{100 * t2b:.0f}%"
    assert row[1] == f"{sum(int(s) for s in scores) / len(scores):.2f}"
    assert float(row[2]) <= float(row[1]) <= float(row[3])

    nps_scores = [int(a["recommend"]) for a in answers.values() if "recommend" in a]
    nps = 100 * (sum(s >= 9 for s in nps_scores) - sum(s <= 6 for s in nps_scores)) / len(nps_scores)
    assert table_rows(text, "nps-recommend")["All partners"][:2] == [str(len(nps_scores)), f"{nps:+.0f}"]

    completion = table_rows(text, "fieldwork-category")["All partners"]
    assert completion[:4] == [str(invited), "0", str(invited), "300"]
    assert completion[5] == f"{100 * 300 / invited:.0f}%"

    reasons = [a["reasons"].split() for a in answers.values() if "reasons" in a]
    share = sum("evidence" in r for r in reasons) / len(reasons)
    assert table_rows(text, "choice-reasons")["Access to evidence and knowledge"][1] == f"{100 * share:.0f}%"


def test_small_groups_are_suppressed_and_logged(app, filled, analyst):
    text = page(analyst, filled).get_data(as_text=True)
    heat = table_rows(text, "heat-category")
    assert any("–" in cells for cells in heat.values())
    log = re.search(r'id="table-suppression-log">(.*?)</table>', text, re.DOTALL).group(1)
    assert '<th scope="row">heat-category</th>' in log and '<td class="">n &lt; 5</td>' in log
    assert '<td class="">complementary</td>' in log
    small = page(analyst, filled, "?category=survivor&region=arab_states").get_data(as_text=True)
    assert 'id="not-enough"' in small and "Not enough responses" in small
    row = table_rows(small, "satisfaction-satisfaction")["alliance87.org website"]
    assert row[1:10] == ["–"] * 9  # mean and its interval, median, T2B and its interval, B2B, net


def test_filters_as_full_page_and_htmx_fragment(app, filled, analyst):
    with app.app_context():
        expected = db.session.query(Response).join(Invitation).join(Contact).join(Organisation).filter(
            Invitation.round_id == filled, Organisation.category == "government_pathfinder").count()
    full = page(analyst, filled, "?category=government_pathfinder")
    fragment = page(analyst, filled, "?category=government_pathfinder", htmx=True)
    for response in (full, fragment):
        assert response.status_code == 200
        assert f'id="report-n">{expected}<' in response.get_data(as_text=True)
    assert "<html" in full.get_data(as_text=True) and 'selected value="government_pathfinder"' in full.get_data(
        as_text=True)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="report-sections"')
    assert section_ids(body)[0] == "fieldwork" and 'hx-get' not in body


def test_unknown_filter_is_reported_and_ignored(app, filled, analyst):
    response = page(analyst, filled, "?category=nonsense&compare=999")
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Some filters were not applied" in text and 'aria-invalid="true"' in text
    assert 'id="report-n">300<' in text and "section-change" not in text


def test_csv_download_of_a_table_with_filters_and_neutralised_formulas(app, filled, analyst):
    response = analyst.get(f"/secretariat/rounds/{filled}/report/choice-reasons.csv?category=civil_society")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["Option", "Respondents", "Share"]
    everyone = list(csv.reader(io.StringIO(analyst.get(
        f"/secretariat/rounds/{filled}/report/choice-reasons.csv").get_data().decode("utf-8-sig"))))
    assert sum(int(r[1]) for r in rows[1:] if r[1] != "–") < sum(int(r[1]) for r in everyone[1:] if r[1] != "–")
    text = analyst.get(f"/secretariat/rounds/{filled}/report/free-text-one_change.csv").get_data(as_text=True)
    assert "'=1+1 should stay text" in text and "\n=1+1" not in text
    assert analyst.get(f"/secretariat/rounds/{filled}/report/no-such-table.csv").status_code == 404
    heat = analyst.get(f"/secretariat/rounds/{filled}/report/heat-category.csv").get_data(as_text=True)
    assert "–" in heat


def test_change_since_an_earlier_round(app, filled, analyst):
    with app.app_context():
        current = db.session.get(Round, filled)
        earlier = create_round(current.survey_version, "2025 review", date(2025, 12, 31))
        db.session.commit()
        fill_round(earlier.id, definition_for(current.survey_version), 120, seed=5, submitted_share=1.0)
        earlier_id = earlier.id
    text = page(analyst, filled, f"?compare={earlier_id}").get_data(as_text=True)
    assert section_ids(text)[-4:] == ["change", "questionnaire", "methods", "suppression-log"]
    row = table_rows(text, "change")["alliance87.org website"]
    assert row[-3].endswith("pp") and row[-2].endswith("pp")
    small = page(analyst, filled, f"?compare={earlier_id}&category=survivor&region=arab_states").get_data(
        as_text=True)
    assert table_rows(small, "change")["alliance87.org website"][-3:] == ["–", "–", "–"]


def test_a_round_with_one_response_or_none_says_not_enough(app, analyst):
    with app.app_context():
        empty = demo_round(0)
    client = analyst
    response = page(client, empty)
    assert response.status_code == 200 and "Not enough responses" in response.get_data(as_text=True)
    with app.app_context():
        fill_round(empty, definition_for(db.session.get(Round, empty).survey_version), 1, submitted_share=1.0)
    response = page(client, empty)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="report-n">1<' in text  # the cache saw the new response
    assert "Not enough responses" in text and "section-satisfaction" in text


def test_sign_in_required_and_analysts_can_read(app, filled, analyst):
    anonymous = app.test_client().get(f"/secretariat/rounds/{filled}/report")
    assert anonymous.status_code in (302, 303) and "/sign-in" in anonymous.headers["Location"]
    assert app.test_client().get(f"/secretariat/rounds/{filled}/report/fieldwork-region.csv").status_code in (
        302, 303)
    assert page(analyst, filled).status_code == 200
    assert analyst.get(f"/secretariat/rounds/{filled}/report/fieldwork-region.csv").status_code == 200
    assert analyst.get("/secretariat/rounds/9999/report").status_code == 404


def test_script_in_answers_and_organisation_names_is_escaped(app, analyst):
    with app.app_context():
        round_id = demo_round(20, submitted_share=1.0, partners=[Partner("civil_society", "africa", False, "")])
        response = db.session.scalars(select(Response).join(Invitation).where(Invitation.round_id == round_id)
                                      .order_by(Response.id)).first()
        organisation = response.invitation.contact.organisation
        organisation.name = "<script>alert('org')</script> Helpers"
        db.session.execute(Answer.__table__.delete().where(Answer.response_id == response.id,
                                                           Answer.question == "one_change"))
        db.session.add(Answer(response_id=response.id, question="one_change",
                              value="<script>alert('x')</script> more from <script>alert('org')</script> Helpers",
                              updated_at=datetime.now(UTC)))
        db.session.commit()
    text = page(analyst, round_id).get_data(as_text=True)
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; more from [organisation]" in text
    free = text[text.index('id="section-free-text"'):text.index('id="section-questionnaire"')]
    assert "Helpers" not in free and "alert(&#39;org&#39;)" not in free


# -- the self-contained file ---------------------------------------------------------------------------------------


def test_report_command_writes_one_self_contained_file(app, filled, runner, tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(args=["analysis", "report", str(filled), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and "<style>" in text and text.count("<svg") >= 20
    assert "<script" not in text.lower() and "<link" not in text.lower()
    assert not EXTERNAL.findall(text)
    assert section_ids(text) == SECTIONS and "Download CSV" not in text
    assert "300 responses analysed" in result.output


def test_report_command_in_french_and_for_a_missing_round(app, filled, runner, tmp_path):
    out = tmp_path / "rapport.html"
    result = runner.invoke(args=["analysis", "report", str(filled), "--out", str(out), "--language", "fr"])
    assert result.exit_code == 0, result.output
    assert "Site web alliance87.org" in out.read_text(encoding="utf-8")
    missing = runner.invoke(args=["analysis", "report", "999", "--out", str(out)])
    assert missing.exit_code != 0 and "There is no round 999" in missing.output


def test_values_that_round_to_zero_are_shown_without_a_minus_sign():
    from analysis.report.model import format_value

    assert [format_value(-0.3, "nps"), format_value(-0.004, "pp"), format_value(-0.001, "signed")] == [
        "+0", "+0 pp", "+0.00"]
    assert [format_value(-3.2, "nps"), format_value(0.456, "pct")] == ["-3", "46%"]


def test_organisation_level_weighting_counts_each_organisation_once():
    """Two people answer for organisation A (both 'Very satisfied'), one for B ('Very dissatisfied'): respondents
    give T2B 2/3, organisations 1/2 (each of A's answers weighs 1/2)."""
    import pandas as pd

    from analysis.frames import RoundData
    from analysis.report.builder import build_report
    from analysis.report.model import Filters
    from tests.analysis.builders import grid, likert, page, survey

    definition = survey(page("services", grid("satisfaction", likert("sat_web"))))
    respondents = pd.DataFrame({
        "response_id": [1, 2, 3], "organisation_id": [10, 10, 20], "organisation": ["A", "A", "B"],
        "category": ["un"] * 3, "region": ["global"] * 3, "country": [None] * 3, "pathfinder": [False] * 3,
        "status": ["submitted"] * 3, "language": ["en"] * 3,
        "started_at": pd.to_datetime(["2026-11-01"] * 3, utc=True),
        "submitted_at": pd.to_datetime(["2026-11-02"] * 3, utc=True)})
    answers = pd.DataFrame({"response_id": [1, 2, 3], "question": ["sat_web"] * 3, "value": ["5", "5", "1"]})
    invitations = pd.DataFrame({
        "invitation_id": [1, 2, 3], "organisation_id": [10, 10, 20], "category": ["un"] * 3,
        "region": ["global"] * 3, "pathfinder": [False] * 3, "ineligible": [None] * 3,
        "response_status": ["submitted"] * 3, "response_id": [1, 2, 3]})
    data = RoundData(round_id=1, round_name="R", answers=answers, respondents=respondents,
                     invitations=invitations, definition=definition)
    people = build_report(data, threshold=1).table("satisfaction-satisfaction")
    organisations = build_report(data, threshold=1, filters=Filters(weighting="organisation")).table(
        "satisfaction-satisfaction")
    assert people.rows[0]["t2b"] == pytest.approx(2 / 3)
    assert organisations.rows[0]["t2b"] == pytest.approx(1 / 2)
    assert organisations.rows[0]["n"] == 3  # the base stays the number of respondents


def test_the_report_compares_with_last_years_closed_round_unless_told_not_to(app, rounds, analyst):
    """Last year's closed round is the comparison on first sight; "No comparison" is kept in every link."""
    this, last = rounds
    page = analyst.get(f"/secretariat/rounds/{this}/report").get_data(as_text=True)
    assert re.search(rf'<option selected value="{last}">', page)
    assert 'id="section-change"' in page
    assert f"report.docx?compare={last}" in page and f"report.pdf?compare={last}" in page
    assert "Clear filters" not in page
    french = analyst.get(f"/secretariat/rounds/{this}/report", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert re.search(rf'<option selected value="{last}">Revue 2025', html.unescape(french))
    plain = analyst.get(f"/secretariat/rounds/{this}/report?compare=none").get_data(as_text=True)
    assert '<option selected value="none">' in plain and 'id="section-change"' not in plain
    assert "report.docx?compare=none" in plain and "report.pdf?compare=none" in plain
    assert re.search(r'/report/[a-z0-9-]+\.csv\?compare=none', plain)
    assert "key-findings?compare=none" in plain
    fragment = analyst.get(f"/secretariat/rounds/{this}/report?compare=none&region=africa",
                           headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="section-change"' not in fragment and "compare=none" in fragment


def test_only_an_earlier_closed_round_is_compared_by_default(app, rounds, analyst):
    this, last = rounds
    with app.app_context():
        db.session.get(Round, last).status = "open"
        db.session.commit()
    page = analyst.get(f"/secretariat/rounds/{this}/report").get_data(as_text=True)
    assert '<option selected value="none">' in page and 'id="section-change"' not in page
    later = analyst.get(f"/secretariat/rounds/{last}/report").get_data(as_text=True)
    assert '<option selected value="none">' in later  # this year's round closes after last year's
