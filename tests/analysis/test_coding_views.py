"""The coding workspace: the codebook, ticking themes per comment (page and fragment, without and with htmx), bad
input refused with nothing changed, deleting a theme in use; and the themes in the report."""

import re

import pytest
from sqlalchemy import func, select

from analysis.coding_store import seed_demo_codes
from analysis.models import FIRST, SECOND, CommentCode, CommentReview, Theme
from engagement.database import run_write
from engagement.extensions import db
from surveys.models import Answer, Invitation, Response
from tests.factories import filled_demo_round

QUESTION = "one_change"


@pytest.fixture
def round_id(app):
    with app.app_context():
        return filled_demo_round(60, submitted_share=1.0)


def commenters(round_id):
    return db.session.scalars(
        select(Answer.response_id).join(Response).join(Invitation)
        .where(Invitation.round_id == round_id, Answer.question == QUESTION, Answer.value != "")
        .order_by(Answer.response_id)).all()


def add_theme(client, round_id, name, keywords="", htmx=False):
    return client.post(f"/secretariat/rounds/{round_id}/coding/{QUESTION}/themes",
                       {"name": name, "description": "", "keywords": keywords}, htmx=htmx)


def themes(app):
    with app.app_context():
        return {t.name: t.id for t in db.session.scalars(select(Theme).where(Theme.question == QUESTION))}


def codes(app, coder=FIRST):
    with app.app_context():
        return sorted(db.session.execute(select(CommentCode.response_id, CommentCode.theme_id)
                                         .where(CommentCode.coder == coder)).all())


def test_the_questions_page_lists_the_open_questions_with_progress(app, analyst, round_id):
    page = analyst.get(f"/secretariat/rounds/{round_id}/coding")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"/coding/{QUESTION}" in text and "0 of" in text


def test_an_analyst_builds_the_codebook_and_a_name_used_twice_is_refused(app, analyst, round_id):
    response = add_theme(analyst, round_id, "Meetings", "meeting, réunion")
    assert response.status_code == 303 and response.headers["Location"].endswith("#codebook")
    assert list(themes(app)) == ["Meetings"]
    twice = add_theme(analyst, round_id, " meetings ")
    assert twice.status_code == 422
    assert "already called" in twice.get_data(as_text=True)
    fragment = add_theme(analyst, round_id, "MEETINGS", htmx=True)
    assert fragment.status_code == 422
    body = fragment.get_data(as_text=True)
    assert 'id="codebook-panel"' in body and "<html" not in body and 'aria-invalid="true"' in body
    assert list(themes(app)) == ["Meetings"]
    empty = add_theme(analyst, round_id, "")
    assert empty.status_code == 422 and list(themes(app)) == ["Meetings"]


def test_a_theme_is_renamed_but_not_onto_another_ones_name(app, analyst, round_id):
    add_theme(analyst, round_id, "Meetings")
    add_theme(analyst, round_id, "Money")
    ids = themes(app)
    url = f"/secretariat/rounds/{round_id}/coding/{QUESTION}/themes/{ids['Money']}"
    assert analyst.post(url, {"name": "Meetings", "description": "", "keywords": ""}).status_code == 422
    assert analyst.post(url, {"name": "Funding", "description": "Money", "keywords": "fund"}).status_code == 303
    assert set(themes(app)) == {"Meetings", "Funding"}


def test_the_workspace_shows_a_page_of_comments_with_their_language_and_keyword_suggestions(app, analyst, round_id):
    add_theme(analyst, round_id, "Meetings", "meeting, réunion")
    page = analyst.get(f"/secretariat/rounds/{round_id}/coding/{QUESTION}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    with app.app_context():
        total = len(commenters(round_id))
    assert f"0 of {total} comments coded." in text
    assert text.count('class="coding-comment"') == min(total, 20)
    assert "Language:" in text and "suggested" in text
    assert 'checked' not in re.sub(r'name="quotable"[^>]*', "", text)  # a suggestion is never ticked for you
    fragment = analyst.get(f"/secretariat/rounds/{round_id}/coding/{QUESTION}?page=2", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "coding-comment" in fragment.get_data(as_text=True)


def test_ticking_themes_without_javascript_redirects_back_to_the_comment(app, analyst, round_id):
    add_theme(analyst, round_id, "Meetings")
    add_theme(analyst, round_id, "Money")
    ids = themes(app)
    with app.app_context():
        first = commenters(round_id)[0]
    url = f"/secretariat/rounds/{round_id}/coding/{QUESTION}/comments/{first}"
    response = analyst.post(url, [("theme", str(ids["Meetings"])), ("theme", str(ids["Money"])),
                                  ("quotable", "yes")])
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#comment-{first}")
    assert codes(app) == sorted([(first, ids["Meetings"]), (first, ids["Money"])])
    page = analyst.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 of" in page
    with app.app_context():
        assert db.session.scalar(select(CommentReview.quotable).where(CommentReview.response_id == first))


def test_ticking_themes_with_htmx_returns_the_comment_and_the_progress(app, analyst, round_id):
    add_theme(analyst, round_id, "Meetings")
    ids = themes(app)
    with app.app_context():
        first = commenters(round_id)[0]
    url = f"/secretariat/rounds/{round_id}/coding/{QUESTION}/comments/{first}"
    fragment = analyst.post(url, {"theme": str(ids["Meetings"])}, htmx=True)
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith(f'<li id="comment-{first}"') and "<html" not in body
    assert 'hx-swap-oob="true"' in body and "1 of" in body and "Saved." in body
    assert codes(app) == [(first, ids["Meetings"])]
    # Unticking every theme leaves the comment saved but uncoded.
    analyst.post(url, {}, htmx=True)
    assert codes(app) == []


@pytest.mark.parametrize("value", ["999999", "not-a-number"])
def test_a_theme_of_another_codebook_is_refused_and_nothing_changes(app, analyst, round_id, value):
    add_theme(analyst, round_id, "Meetings")
    with app.app_context():
        first = commenters(round_id)[0]
    url = f"/secretariat/rounds/{round_id}/coding/{QUESTION}/comments/{first}"
    for htmx in (False, True):
        response = analyst.post(url, {"theme": value}, htmx=htmx)
        assert response.status_code == 422
        assert "codebook" in response.get_data(as_text=True)
    assert codes(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count(CommentReview.id))) == 0


def test_a_comment_that_is_not_in_the_round_is_not_found(app, analyst, round_id):
    add_theme(analyst, round_id, "Meetings")
    url = f"/secretariat/rounds/{round_id}/coding/{QUESTION}/comments/999999"
    assert analyst.post(url, {"theme": str(themes(app)["Meetings"])}).status_code == 404
    assert analyst.get(f"/secretariat/rounds/{round_id}/coding/not_a_question").status_code == 404


def test_deleting_a_theme_in_use_asks_then_reassigns_its_comments(app, analyst, round_id):
    add_theme(analyst, round_id, "Meetings")
    add_theme(analyst, round_id, "Events")
    ids = themes(app)
    with app.app_context():
        first, second = commenters(round_id)[:2]
    for response_id in (first, second):
        analyst.post(f"/secretariat/rounds/{round_id}/coding/{QUESTION}/comments/{response_id}",
                     [("theme", str(ids["Events"])), ("theme", str(ids["Meetings"]))] if response_id == first
                     else {"theme": str(ids["Events"])})
    url = f"/secretariat/rounds/{round_id}/coding/{QUESTION}/themes/{ids['Events']}/delete"
    asked = analyst.post(url, {})
    assert asked.status_code == 200 and "2 comments carry this theme." in asked.get_data(as_text=True)
    assert "Events" in themes(app)
    wrong = analyst.post(url, {"confirm": "yes", "reassign_to": "999999"})
    assert wrong.status_code == 422 and "Events" in themes(app)
    done = analyst.post(url, {"confirm": "yes", "reassign_to": str(ids["Meetings"])})
    assert done.status_code == 303
    assert set(themes(app)) == {"Meetings"}
    assert codes(app) == sorted([(first, ids["Meetings"]), (second, ids["Meetings"])])


def test_an_unused_theme_is_deleted_at_once(app, analyst, round_id):
    add_theme(analyst, round_id, "Meetings")
    url = f"/secretariat/rounds/{round_id}/coding/{QUESTION}/themes/{themes(app)['Meetings']}/delete"
    assert analyst.post(url, {}).status_code == 303
    assert themes(app) == {}


def test_the_second_coder_codes_the_blind_sample_without_seeing_the_first_codes(app, analyst, round_id):
    add_theme(analyst, round_id, "Meetings")
    ids = themes(app)
    page = analyst.get(f"/secretariat/rounds/{round_id}/coding/{QUESTION}?coder=second").get_data(as_text=True)
    shown = [int(r) for r in re.findall(r'<li id="comment-(\d+)"', page)]
    with app.app_context():
        assert len(shown) < len(commenters(round_id))
    if not shown:
        pytest.fail("the demo round should give the blind sample at least one comment")
    url = f"/secretariat/rounds/{round_id}/coding/{QUESTION}/comments/{shown[0]}"
    analyst.post(url, {"theme": str(ids["Meetings"])})
    again = analyst.get(f"/secretariat/rounds/{round_id}/coding/{QUESTION}?coder=second").get_data(as_text=True)
    assert "checked" not in again  # blind: the first coder's tick is not shown to the second
    assert analyst.post(url, {"theme": str(ids["Meetings"]), "coder": SECOND}).status_code == 303
    assert codes(app, SECOND) == [(shown[0], ids["Meetings"])]
    first_page = analyst.get(f"/secretariat/rounds/{round_id}/coding/{QUESTION}").get_data(as_text=True)
    assert "checked" in first_page  # the first coder's own tick, saved above


def test_the_report_shows_themes_counts_quotes_and_that_the_round_is_open(app, admin, round_id):
    with app.app_context():
        coded = run_write(lambda: seed_demo_codes(db.session, round_id))
    assert coded > 0
    text = admin.get(f"/secretariat/rounds/{round_id}/report").get_data(as_text=True)
    assert 'id="table-themes-one_change"' in text and "Fewer, better meetings" in text
    assert "Not yet coded" in text and "still open" in text
    assert 'id="table-quotes-one_change"' in text


def test_codes_go_into_the_long_csv_and_a_sheet_of_the_xlsx(app, admin, round_id):
    import csv
    import io

    import openpyxl

    add_theme(admin, round_id, "Meetings")
    add_theme(admin, round_id, "=Money")  # a theme name is neutralised like any text
    ids = themes(app)
    with app.app_context():
        first, second = commenters(round_id)[:2]
    admin.post(f"/secretariat/rounds/{round_id}/coding/{QUESTION}/comments/{first}",
               [("theme", str(ids["Meetings"])), ("theme", str(ids["=Money"]))])
    admin.post(f"/secretariat/rounds/{round_id}/coding/{QUESTION}/comments/{second}", {"theme": str(ids["Meetings"])})
    long = admin.get(f"/secretariat/rounds/{round_id}/export-long.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = [r for r in csv.DictReader(io.StringIO(long)) if r["option"] == "theme"]
    assert sorted((int(r["response_id"]), r["question"], r["value"]) for r in rows) == sorted(
        [(first, QUESTION, "'=Money"), (first, QUESTION, "Meetings"), (second, QUESTION, "Meetings")])
    workbook = openpyxl.load_workbook(io.BytesIO(admin.get(f"/secretariat/rounds/{round_id}/export.xlsx").data))
    sheet = list(workbook["themes"].values)
    assert sheet[0] == ("response_id", "question", "theme")
    assert sorted(sheet[1:]) == sorted([(first, QUESTION, "'=Money"), (first, QUESTION, "Meetings"),
                                        (second, QUESTION, "Meetings")])
    anonymised = admin.get(f"/secretariat/rounds/{round_id}/export-long.csv?anonymised=1")
    assert anonymised.status_code == 200
    import zipfile
    with zipfile.ZipFile(io.BytesIO(anonymised.data)) as archive:
        data = next(archive.read(n) for n in archive.namelist() if n.endswith(".csv")).decode("utf-8-sig")
    assert data.startswith("response_id,")
    assert not [r for r in csv.DictReader(io.StringIO(data)) if r["option"] == "theme"]  # gone with the free text
