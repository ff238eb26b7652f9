"""Defined results when a partner repeats or races themselves: submitting twice, replaying an old autosave, two tabs
saving the same question, saving after another tab submitted, and a database too busy to save."""

import sqlite3
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from engagement import database
from engagement.extensions import db
from surveys.models import Answer, Response
from tests import factories
from tests.conftest import HtmxClient

SURVEY = [
    {"type": "begin_group", "name": "about", "label": "About you"},
    {"type": "text", "name": "comment", "label": "Any comment?"},
    {"type": "select_one yn", "name": "satisfied", "label": "Satisfied?", "required": "yes"},
    {"type": "end_group", "name": "about"},
]
CHOICES = [
    {"list_name": "yn", "name": "yes", "label": "Yes"},
    {"list_name": "yn", "name": "no", "label": "No"},
]


@pytest.fixture
def token(app):
    with app.app_context():
        return factories.invited_partner(factories.survey_from_rows(SURVEY, CHOICES))[1]


def started(app, token) -> HtmxClient:
    """A new browser tab on the partner's link, past the welcome page, on the first page (its CSRF token known)."""
    tab = HtmxClient(app.test_client())
    tab.get(f"/s/{token}")
    location = tab.post(f"/s/{token}/start").headers["Location"]
    tab.get(location)
    return tab


def autosave(tab, token, question, value):
    return tab.post(
        f"/s/{token}/answer/{question}", {question: value, f"{question}__present": "1"}, htmx=True
    )


def answers(app) -> list[tuple[str, str]]:
    with app.app_context():
        return sorted(tuple(row) for row in db.session.execute(db.select(Answer.question, Answer.value)))


def response_row(app):
    with app.app_context():
        return db.session.execute(db.select(Response.status, Response.submitted_at)).one()


def test_answers_come_back_from_the_link_look_up_exactly_as_stored(app, token):
    """The link's row and its answers are read as one statement, the answers as one JSON object: no value may change
    on the way (quotes, backslashes, line breaks, other scripts, text that looks like JSON)."""
    tab = started(app, token)
    tricky = 'He said "no" \\ C:\\path\n\tnext line, العربية, 中文, {"a": null} null true 1e3 \u00e9'
    assert autosave(tab, token, "comment", tricky).status_code == 200
    assert autosave(tab, token, "satisfied", "yes").status_code == 200
    with app.test_request_context():
        from surveys.respondent import open_visit

        assert open_visit(token).values == dict(answers(app))
    assert dict(answers(app))["comment"] == tricky  # stored as typed, so the comparison above covers every character


def test_second_submit_is_a_no_op_that_shows_the_receipt(app, token):
    tab = started(app, token)
    assert autosave(tab, token, "satisfied", "yes").status_code == 200
    first = tab.post(f"/s/{token}/submit")
    assert first.status_code == 303 and first.headers["Location"].endswith("/receipt")
    status, submitted_at = response_row(app)
    second = tab.post(f"/s/{token}/submit")
    assert second.status_code == 303 and second.headers["Location"].endswith("/receipt")
    again = tab.post(f"/s/{token}/submit", htmx=True)
    assert again.headers["HX-Redirect"].endswith("/receipt")
    assert response_row(app) == (status, submitted_at) and status == "submitted"
    receipt = tab.get(f"/s/{token}/receipt")
    assert receipt.status_code == 200 and "Yes" in receipt.get_data(as_text=True)
    assert answers(app) == [("satisfied", "yes")]


def test_replaying_an_old_autosave_after_a_newer_one_stores_the_replay(app, token):
    """The server cannot tell a replay from a change: the save acknowledged last wins, whatever it carries."""
    tab = started(app, token)
    assert autosave(tab, token, "comment", "first thought").status_code == 200
    assert autosave(tab, token, "comment", "second thought").status_code == 200
    assert answers(app) == [("comment", "second thought")]
    assert autosave(tab, token, "comment", "first thought").status_code == 200
    assert answers(app) == [("comment", "first thought")]


def test_two_tabs_saving_the_same_question_keep_one_answer_the_last_acknowledged(app, token):
    one, two = started(app, token), started(app, token)
    assert autosave(one, token, "satisfied", "yes").status_code == 200
    assert autosave(two, token, "satisfied", "no").status_code == 200
    assert answers(app) == [("satisfied", "no")]
    assert autosave(one, token, "satisfied", "yes").status_code == 200
    assert answers(app) == [("satisfied", "yes")]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Response)) == 1


def test_saving_in_a_tab_after_the_other_tab_submitted_is_refused_and_changes_nothing(app, token):
    one, two = started(app, token), started(app, token)
    assert autosave(one, token, "satisfied", "yes").status_code == 200
    assert one.post(f"/s/{token}/submit").headers["Location"].endswith("/receipt")
    refused = autosave(two, token, "comment", "too late")
    assert refused.status_code == 409
    assert "submitted already" in refused.get_data(as_text=True)
    page = two.post(f"/s/{token}/page/about", {"comment": "too late", "satisfied": "no", "action": "next"})
    assert page.status_code == 303 and page.headers["Location"].endswith("/receipt")
    assert answers(app) == [("satisfied", "yes")]


def test_a_save_racing_a_submit_is_not_acknowledged(app, token):
    """The visit was opened before the other tab's submit committed: save_page must report that nothing was saved."""
    from surveys.respondent import open_visit, save_page

    tab = started(app, token)
    assert autosave(tab, token, "satisfied", "yes").status_code == 200
    with app.test_request_context():
        visit = open_visit(token)
        with app.app_context():
            db.session.execute(db.update(Response).values(status="submitted"))
            db.session.commit()
        assert save_page(visit, {"comment": "racing"}, current_page=None, clean_hidden=False) is False
    assert answers(app) == [("satisfied", "yes")]


RELEVANT = factories.group(
    "work", "Work", {"type": "select_one yn", "name": "uses", "label": "Do you use the knowledge platform?"},
    {"type": "text", "name": "which", "label": "Which parts?", "relevant": "${uses} = 'yes'"})


@pytest.fixture
def relevant_token(app):
    with app.app_context():
        return factories.invited_partner(factories.survey_from_rows(RELEVANT, CHOICES))[1]


def test_submit_drops_answers_hidden_by_the_answers_as_they_are_at_submit(app, relevant_token):
    token = relevant_token
    tab = started(app, token)
    assert autosave(tab, token, "uses", "yes").status_code == 200
    assert autosave(tab, token, "which", "the data portal").status_code == 200
    assert autosave(tab, token, "uses", "no").status_code == 200  # hides "which"; kept until leaving or submitting
    assert answers(app) == [("uses", "no"), ("which", "the data portal")]
    assert tab.post(f"/s/{token}/submit").headers["Location"].endswith("/receipt")
    assert answers(app) == [("uses", "no")]


def test_submit_reads_the_answers_again_when_another_tab_saved_after_they_were_read(app, relevant_token):
    """The submitting request read "uses = yes"; another tab then saved "no": the hidden answer goes all the same."""
    from surveys.respondent import open_visit, submit

    token = relevant_token
    one, two = started(app, token), started(app, token)
    assert autosave(one, token, "uses", "yes").status_code == 200
    assert autosave(one, token, "which", "the data portal").status_code == 200
    with app.test_request_context():
        visit = open_visit(token)
        assert visit.values == {"uses": "yes", "which": "the data portal"}
        assert autosave(two, token, "uses", "no").status_code == 200
        assert submit(visit) is True
        assert visit.values == {"uses": "no"} and visit.submitted
    assert answers(app) == [("uses", "no")]
    assert response_row(app)[0] == "submitted"
    with app.test_request_context():
        assert submit(open_visit(token)) is False  # the second submit changes nothing
    assert answers(app) == [("uses", "no")]


def test_connections_dropped_by_the_database_are_replaced_without_an_error(app, token):
    """A PostgreSQL restart or a proxy's idle timeout closes the pooled connections between two requests: the next
    page and autosave work as usual (each connection is tested when taken from the pool)."""
    tab = started(app, token)
    assert autosave(tab, token, "comment", "before").status_code == 200
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        # A SQLite file has no server to drop its connections, so they are not tested (a statement per transaction).
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
        return
    killer = create_engine(url)
    with killer.connect() as connection:
        dropped = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    killer.dispose()
    assert dropped >= 1
    assert tab.get(f"/s/{token}/page/about").status_code == 200
    assert autosave(tab, token, "comment", "after").status_code == 200
    assert answers(app) == [("comment", "after")]


@contextmanager
def write_lock_held(app):
    """Another connection holds the write lock on what an autosave writes, longer than the busy timeout."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(url)
    with engine.connect() as holder:
        holder.execute(text("LOCK TABLE answers IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            holder.rollback()
    engine.dispose()


@pytest.fixture
def short_busy_timeout(app, monkeypatch):
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 100)
    with app.app_context():
        db.engine.dispose()  # new connections take the short timeout
    yield
    with app.app_context():
        db.engine.dispose()


def test_a_locked_database_gives_a_could_not_save_503_never_a_500_and_the_retry_saves(
    app, token, short_busy_timeout
):
    tab = started(app, token)
    with write_lock_held(app):
        busy = autosave(tab, token, "comment", "saved at last")
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "2"
        html = busy.get_data(as_text=True)
        assert "Could not save" in html and "try again in a moment" in html
        assert "<html" not in html  # the htmx fragment, which the page shows as "Could not save, retrying"
        full = tab.post(f"/s/{token}/page/about", {"comment": "saved at last", "action": "save"})
        assert full.status_code == 503 and "Could not save" in full.get_data(as_text=True)
    assert answers(app) == []
    retried = autosave(tab, token, "comment", "saved at last")
    assert retried.status_code == 200
    assert answers(app) == [("comment", "saved at last")]


def test_a_briefly_locked_database_is_waited_for_and_the_partner_sees_a_normal_save(app, token):
    """A lock released within the busy timeout costs a wait, not an error."""
    tab = started(app, token)
    with write_lock_held(app):
        release = threading.Event()
        timer = threading.Timer(0.3, release.set)
        timer.start()
        saved = {}
        worker = threading.Thread(target=lambda: saved.update(r=autosave(tab, token, "comment", "patient")))
        worker.start()
        release.wait()
    worker.join(timeout=30)
    assert saved["r"].status_code == 200
    assert answers(app) == [("comment", "patient")]


def test_the_page_tells_the_partner_a_failed_save_is_retried(app, token):
    tab = started(app, token)
    page = tab.get(f"/s/{token}/page/about").get_data(as_text=True)
    assert 'data-failed="Could not save your last answer. Retrying…"' in page
    assert 'data-retry="Retry now"' in page
