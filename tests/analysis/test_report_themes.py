"""Themes in the report: counts and shares per theme, by partner category with the suppression rules, quotes with
the writer's organisation masked, uncoded comments last, top_themes for the key findings, kappa in the annex."""

import pytest
from sqlalchemy import select

from analysis.coding import in_blind_sample
from analysis.coding_store import comments, load_coding, save_review, seed_demo_codes
from analysis.loader import load_round
from analysis.models import FIRST, SECOND
from analysis.report.builder import build_report
from analysis.report.model import Filters
from analysis.report.themes import distinct_quotes
from analysis.suppression import DASH, MIN_FREE_TEXT
from engagement.database import run_write
from engagement.extensions import db
from partners.models import Contact, Organisation
from surveys.models import Answer, Invitation, Response
from tests.conftest import saved_database
from tests.factories import filled_demo_round

QUESTION = "one_change"


@pytest.fixture
def coded(app):
    """A demo round of 300 submitted responses, coded by the demo's keyword rules; yields inside an app context."""
    def build():
        round_id = filled_demo_round(300, submitted_share=1.0)
        run_write(lambda: seed_demo_codes(db.session, round_id))
        return round_id

    round_id = saved_database(app, "demo-300-coded", build)
    with app.app_context():
        yield round_id


def report_of(round_id, **options):
    return build_report(load_round(db.session, round_id), coding=load_coding(db.session, round_id), **options)


def test_counts_and_shares_per_theme_with_uncoded_comments_last(coded):
    report = report_of(coded)
    table = report.table(f"themes-{QUESTION}")
    found = comments(db.session, coded, QUESTION)
    coding = load_coding(db.session, coded)
    question_codes = coding.codes[coding.codes["question"] == QUESTION]
    assert table.rows[-1]["theme"] == "Not yet coded"
    assert table.rows[-1]["n"] == len(found) - question_codes["response_id"].nunique()
    for row in table.rows[:-1]:
        theme_id = coding.themes.loc[(coding.themes["question"] == QUESTION)
                                     & (coding.themes["name"] == row["theme"]), "theme_id"].item()
        expected = question_codes.loc[question_codes["theme_id"] == theme_id, "response_id"].nunique()
        assert row["n"] == expected
        assert row["share"] == pytest.approx(expected / len(found))
    counts = [row["n"] for row in table.rows[:-1]]
    assert counts == sorted(counts, reverse=True)
    assert "free-text-one_change" not in [b.table.key for s in report.sections for b in s.blocks]


def test_theme_cells_of_small_groups_are_hidden_with_their_complements(coded):
    report = report_of(coded)
    table = report.table(f"themes-{QUESTION}")
    category_columns = [c.key for c in table.columns if c.key.startswith("category-")]
    assert category_columns, "300 responses give several categories of at least ten respondents"
    sizes = load_round(db.session, coded).respondents["category"].value_counts()
    shown = {key.removeprefix("category-") for key in category_columns}
    assert shown == {code for code, n in sizes.items() if n >= MIN_FREE_TEXT}
    hidden_somewhere = False
    for index, row in enumerate(table.rows):
        hidden = table.hidden[index]
        for key in category_columns:
            if row[key] < report.threshold:
                assert key in hidden and table.cell(index, next(c for c in table.columns if c.key == key)) == DASH
            hidden_somewhere |= key in hidden
        assert len(hidden) != 1  # a single hidden cell in a row could be worked out from the total
    for key in category_columns:
        assert sum(key in h for h in table.hidden) != 1
    assert hidden_somewhere
    logged = {(r.table, r.reason) for r in report.suppression}
    assert (f"themes-{QUESTION}", "n < 5") in logged


def test_no_theme_is_shown_for_a_group_under_the_free_text_threshold(coded):
    respondents = load_round(db.session, coded).respondents
    small = next(code for code, n in respondents["category"].value_counts().items() if 0 < n < MIN_FREE_TEXT)
    report = report_of(coded, filters=Filters(category=small))
    table = report.table(f"themes-{QUESTION}")
    assert table.rows == [] and report.top_themes == []
    quotes = report.table(f"quotes-{QUESTION}")
    assert quotes.rows == []


def test_quotes_are_quotable_comments_at_most_three_per_theme_organisation_masked(coded):
    found = comments(db.session, coded, QUESTION)
    target = found[0].response_id
    organisation = db.session.scalar(select(Organisation).join(Contact).join(Invitation).join(Response)
                                     .where(Response.id == target))

    def write():
        answer = db.session.scalar(select(Answer).where(Answer.response_id == target, Answer.question == QUESTION))
        answer.value = f"More regional meetings; {organisation.name.upper()} would host one."
    run_write(write)
    run_write(lambda: seed_demo_codes(db.session, coded))  # codes the changed comment (quotable, as the first)
    run_write(lambda: save_review(db.session, target, QUESTION, set(load_coding(db.session, coded).codes.loc[
        lambda f: (f["response_id"] == target) & (f["question"] == QUESTION), "theme_id"]), True, FIRST, None))
    report = report_of(coded)
    quotes = report.table(f"quotes-{QUESTION}")
    coding = load_coding(db.session, coded)
    per_theme = {}
    for row in quotes.rows:
        per_theme[row["theme"]] = per_theme.get(row["theme"], 0) + 1
    assert all(n <= 3 for theme, n in per_theme.items() if theme != "Not yet coded")
    assert any("[organisation] would host one" in row["quote"] for row in quotes.rows)
    assert not any(organisation.name.lower() in row["quote"].lower() for row in quotes.rows)
    themed = [row for row in quotes.rows if row["theme"] != "Not yet coded"]
    assert themed and len({(r, q) for r, q in coding.quotable if q == QUESTION}) >= len(themed) / 3
    uncoded_rows = [i for i, row in enumerate(quotes.rows) if row["theme"] == "Not yet coded"]
    assert uncoded_rows and uncoded_rows == list(range(len(themed), len(quotes.rows)))  # listed last
    assert len({(row["theme"], row["quote"]) for row in themed}) == len(themed)  # the same sentence quoted once


def test_two_partners_who_wrote_the_same_sentence_are_quoted_once():
    texts = {1: "More regional meetings.", 2: "more  regional meetings.", 3: "Translation.", 4: "Funding.", 5: "Data."}
    assert distinct_quotes([1, 2, 3, 4, 5], texts) == [1, 3, 4]


def test_top_themes_are_sorted_by_commenters_and_match_the_tables(coded):
    report = report_of(coded)
    assert report.top_themes
    assert [t.commenters for t in report.top_themes] == sorted((t.commenters for t in report.top_themes),
                                                               reverse=True)
    for top in report.top_themes:
        table = report.table(f"themes-{top.question}")
        row = next(r for r in table.rows if r["theme"] == top.theme)
        assert (row["n"], row["share"]) == (top.commenters, pytest.approx(top.share))
        assert top.question_label and top.question_label != top.question


def test_the_methods_annex_gives_kappa_per_theme_when_a_second_coder_coded_the_sample(coded):
    assert report_of(coded).table("coder-agreement") is None
    coding = load_coding(db.session, coded)
    sample = [c for c in comments(db.session, coded, QUESTION) if in_blind_sample(c.response_id, QUESTION)]
    assert sample
    for comment in sample:  # the second coder agrees exactly with the first
        themes = set(coding.codes.loc[(coding.codes["response_id"] == comment.response_id)
                                      & (coding.codes["question"] == QUESTION), "theme_id"])
        run_write(lambda comment=comment, themes=themes: save_review(
            db.session, comment.response_id, QUESTION, themes, False, SECOND, None))
    table = report_of(coded).table("coder-agreement")
    assert table is not None
    reviewed = {r for r, q in load_coding(db.session, coded).reviewed if q == QUESTION}
    both = [c for c in sample if c.response_id in reviewed]
    for row in table.rows:
        assert row["comments"] == len(both) and row["agreed"] == len(both)
        assert row["kappa"] in (1.0, None)
