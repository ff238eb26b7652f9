"""The partner's journey through the test client: every step, every question type, every error."""

from pathlib import Path

import pytest
from sqlalchemy import event

from engagement.extensions import db
from surveys.models import Answer, Response, Round
from tests import factories
from tests.conftest import HtmxClient, start_survey

EVERY_TYPE = (Path(__file__).parent / "every_type.yaml").read_text()


@pytest.fixture
def survey(app):
    """A round of the every-type survey, for one Pathfinder government with an English contact."""
    with app.app_context():
        version = factories.survey_from_yaml(EVERY_TYPE, "every_type.yaml")
        factories.organisation(contacts=[("Ama", "ama@example.org", "en")])
        factories.organisation(name="Workers Union", category="workers", country="BR", region="americas",
                               pathfinder=False, contacts=[("Lucía", "lucia@example.org", "fr")])
        round_, tokens = factories.open_round_for(version)
        return {"round_id": round_.id, "token": tokens["ama@example.org"], "other": tokens["lucia@example.org"]}


def stored(app, token=None):
    with app.app_context():
        return {a.question: a.value for a in db.session.scalars(db.select(Answer))}


def test_welcome_page_names_organisation_round_and_closing_date(client, survey):
    page = client.get(f"/s/{survey['token']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ministry of Labour of Ghana" in html
    assert "Test round" in html
    assert "About 4 minutes" in html  # its questions (the time follows the form: see below)
    assert "How your answers are used" in html
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_time_promised_follows_the_form(app, client):
    """A form of three questions promises 2 minutes, on the welcome page and in the invitation (the default
    survey's 77 questions, 15: tests/engagement/test_translations.py)."""
    with app.app_context():
        version = factories.survey_from_rows([{"type": "text", "name": "a", "label": "A"},
                                              {"type": "integer", "name": "b", "label": "B"},
                                              {"type": "select_one yn", "name": "c", "label": "C"}],
                                             choices=factories.YES_NO)
        _round, token = factories.invited_partner(version)
        from surveys.mailing import build_message
        from surveys.models import Invitation

        mail = build_message(db.session.scalars(db.select(Invitation)).one(), "invitation")
        assert "The survey takes about 2 minutes." in mail.get_body(("plain",)).get_content()
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert "About 2 minutes" in html and "About 15 minutes" not in html


def test_start_prefills_from_registry_and_lands_on_first_page(app, client, survey):
    location = start_survey(client, survey["token"])
    assert location.endswith("/page/first")
    assert stored(app) == {"category": "government_pathfinder"}
    page = client.get(location).get_data(as_text=True)
    assert 'value="government_pathfinder" checked' in page
    assert "Section 1 of 3" in page


def test_start_twice_keeps_one_response(app, client, survey):
    start_survey(client, survey["token"])
    start_survey(client, survey["token"])
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Response.id))) == 1


def page_post(client, token, page, data, action="next", **kw):
    return client.post(f"/s/{token}/page/{page}", data={**data, "action": action}, **kw)


def first_page(**overrides):
    data = {"member__present": "1", "member": "yes", "why_member__present": "1", "why_member": "Evidence <b>matters</b>",
            "reasons__present": "1", "reasons": ["evidence", "other"], "reasons_other": "Peer support",
            "staff__present": "1", "staff": "42", "share__present": "1", "share": "0,5",
            "joined__present": "1", "joined": "2020-02-29", "category__present": "1", "category": "workers"}
    data.update(overrides)
    return [(k, v) for k, values in data.items() for v in (values if isinstance(values, list) else [values])]


def test_full_page_save_without_javascript_stores_every_type_and_moves_on(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    response = client.post(f"/s/{token}/page/first", data=first_page() + [("action", "next")])
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/page/second")
    assert stored(app) == {"member": "yes", "why_member": "Evidence <b>matters</b>", "reasons": "evidence other",
                           "reasons_other": "Peer support", "staff": "42", "share": "0.5", "joined": "2020-02-29",
                           "category": "workers"}


@pytest.mark.parametrize("field, value, message", [
    ("staff", "12.5", "Please enter a whole number."),
    ("staff", "-3", "Between 0 and 100000"),
    ("share", "abc", "Please enter a number."),
    ("joined", "2021-02-29", "Please enter a date as YYYY-MM-DD."),
    ("member", "maybe", "Please choose one of the options shown."),
    ("reasons", ["evidence", "network", "advocacy"], "Choose up to two"),
    ("reasons", ["evidence", "nonsense"], "Please choose among the options shown."),
    ("why_member", "", "Please answer this question."),
])
def test_invalid_answers_are_refused_inline_and_not_stored(app, client, survey, field, value, message):
    token = survey["token"]
    start_survey(client, token)
    response = client.post(f"/s/{token}/page/first", data=first_page(**{field: value}) + [("action", "next")])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert f'id="error-{field}"' in html
    assert 'aria-invalid="true"' in html
    assert field not in stored(app) or stored(app)[field] != value


def test_other_requires_its_text(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    response = client.post(f"/s/{token}/page/first", data=first_page(reasons_other="") + [("action", "next")])
    assert response.status_code == 422
    assert "Please say what" in response.get_data(as_text=True)


def test_back_saves_without_requiring_answers(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    client.post(f"/s/{token}/page/first", data=first_page() + [("action", "next")])
    response = client.post(f"/s/{token}/page/second", data={"recommend__present": "1", "recommend": "9",
                                                             "action": "back"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/page/first")
    assert stored(app)["recommend"] == "9"


def test_autosave_saves_one_answer_and_returns_its_feedback(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    client.get(f"/s/{token}/page/first")
    response = client.post(f"/s/{token}/answer/staff", data={"staff__present": "1", "staff": "7"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="feedback-staff"' in html and "Saved" in html
    assert "<html" not in html
    assert response.headers["Vary"] == "HX-Request" or "HX-Request" in response.headers["Vary"]
    assert stored(app)["staff"] == "7"


def test_a_partner_request_reads_and_writes_on_one_connection_and_gives_it_back(app, client, survey):
    """The visit's read and the autosave's write share the request's connection (one checkout), which goes back to
    the pool when the request ends, after a refused save as after a stored one."""
    token = survey["token"]
    start_survey(client, token)
    with app.app_context():
        pool = db.engine.pool
    checkouts = []

    def count(*_args):
        checkouts.append(1)

    event.listen(pool, "checkout", count)
    try:
        assert client.post(f"/s/{token}/answer/staff", data={"staff": "7"}, htmx=True).status_code == 200
        assert len(checkouts) == 1 and pool.checkedout() == 0
        assert client.post(f"/s/{token}/answer/staff", data={"staff": "many"}, htmx=True).status_code == 422
        assert len(checkouts) == 2 and pool.checkedout() == 0
    finally:
        event.remove(pool, "checkout", count)
    assert stored(app)["staff"] == "7"


def test_autosave_replay_and_two_tabs_last_acknowledged_value_wins(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    client.get(f"/s/{token}/page/first")
    for value in ("1", "2", "1", "3"):
        assert client.post(f"/s/{token}/answer/staff", data={"staff": value}, htmx=True).status_code == 200
    with app.app_context():
        rows = db.session.scalars(db.select(Answer).filter_by(question="staff")).all()
    assert [row.value for row in rows] == ["3"]


def test_autosave_shows_dependent_questions_live(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    client.get(f"/s/{token}/page/first")
    shown = client.post(f"/s/{token}/answer/member", data={"member": "yes"}, htmx=True).get_data(as_text=True)
    assert 'id="q-why_member"' in shown and 'hx-swap-oob="outerHTML"' in shown and "Why?" in shown
    hidden = client.post(f"/s/{token}/answer/member", data={"member": "no"}, htmx=True).get_data(as_text=True)
    assert 'id="q-why_member" hx-swap-oob="outerHTML" hidden' in hidden


def test_autosave_of_grid_row_redraws_dependent_rows_on_same_page(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    client.post(f"/s/{token}/page/first", data=first_page(member="no", why_member="") + [("action", "next")])
    page = client.get(f"/s/{token}/page/second").get_data(as_text=True)
    assert 'id="q-sat_news" class="grid-row" hidden' in page
    assert 'id="q-sat_web"' in page and 'role="radiogroup"' in page


@pytest.mark.parametrize("question, data, status", [
    ("staff", {"staff": "many"}, 422),
    ("nonexistent", {"nonexistent": "1"}, 404),
    ("intro", {"intro": "1"}, 404),
    ("why_member", {"why_member": "hidden answer"}, 422),
    ("top", {"top[web]": "1", "top[news]": "1", "top[events]": "2"}, 422),
    ("top", {"top": "\x00partial:abc", "top__present": "1"}, 422),
    ("top", {"top": "\x00partial:2", "top__present": "1"}, 422),
    ("recommend", {"recommend": "11"}, 422),
    ("recommend", {"recommend": "2.5"}, 422),
])
def test_bad_autosaves_change_nothing(app, client, survey, question, data, status):
    token = survey["token"]
    start_survey(client, token)
    client.get(f"/s/{token}/page/first")
    before = stored(app)
    response = client.post(f"/s/{token}/answer/{question}", data=data, htmx=True)
    assert response.status_code == status
    assert stored(app) == before


def test_rank_must_be_a_permutation(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    ok = client.post(f"/s/{token}/answer/top", data={"top[web]": "2", "top[news]": "3", "top[events]": "1"},
                     htmx=True)
    assert ok.status_code == 200
    assert stored(app)["top"] == "events web news"


def test_a_ranking_being_given_is_not_an_error_and_is_saved_once_whole(app, client, survey):
    """Each position chosen autosaves the ranking; until every option has one, the partner reads how far they are,
    not an error, and nothing is stored."""
    token = survey["token"]
    start_survey(client, token)
    client.get(f"/s/{token}/page/second")
    partial = client.post(f"/s/{token}/answer/top", data={"top[web]": "1", "top[news]": "", "top[events]": ""},
                          htmx=True)
    html = partial.get_data(as_text=True)
    assert partial.status_code == 422  # not saved
    assert 'class="pending-message"' in html and "Not saved yet: give every option a position (1 of 3 placed)." in html
    assert "has-error" not in html and 'role="alert"' not in html and "Error:" not in html
    assert "top" not in stored(app)
    two = client.post(f"/s/{token}/answer/top", data={"top[web]": "1", "top[news]": "", "top[events]": "2"},
                      htmx=True).get_data(as_text=True)
    assert "(2 of 3 placed)" in two
    whole = client.post(f"/s/{token}/answer/top", data={"top[web]": "1", "top[news]": "3", "top[events]": "2"},
                        htmx=True)
    assert whole.status_code == 200 and "Saved" in whole.get_data(as_text=True)
    assert stored(app)["top"] == "web events news"
    # A repeated or impossible position is an error at once.
    for positions in ({"top[web]": "1", "top[news]": "1", "top[events]": ""},
                      {"top[web]": "1", "top[news]": "4", "top[events]": "2"}):
        wrong = client.post(f"/s/{token}/answer/top", data=positions, htmx=True).get_data(as_text=True)
        assert "has-error" in wrong and "Please give each option a different position, from 1 to 3." in wrong
    assert stored(app)["top"] == "web events news"


def test_a_ranking_left_half_given_stops_the_partner_at_next(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    client.post(f"/s/{token}/page/first", data=first_page() + [("action", "next")])
    page = client.post(f"/s/{token}/page/second", data={"sat_web": "4", "recommend": "9", "top[web]": "2",
                                                       "top[news]": "", "top[events]": "", "action": "next"})
    assert page.status_code == 422
    assert "Please give every option a position, from 1 to 3." in page.get_data(as_text=True)
    assert "top" not in stored(app) and stored(app)["recommend"] == "9"
    # The page's own Save keeps what is whole and says the ranking is not saved yet.
    saved = client.post(f"/s/{token}/page/second", data={"top[web]": "2", "top[news]": "", "top[events]": "",
                                                        "action": "save"})
    assert saved.status_code == 422 and "(1 of 3 placed)" in saved.get_data(as_text=True)
    french = HtmxClient(app.test_client())
    other = survey["other"]
    start_survey(french, other)
    client_page = french.post(f"/s/{other}/answer/top", data={"top[web]": "1", "top[news]": "", "top[events]": ""},
                              htmx=True).get_data(as_text=True)
    assert "Pas encore enregistré\u202f: attribuez un rang à chaque option (1 sur 3 classées)." in client_page


def test_a_top_n_ranking_asks_for_n_positions_and_stores_n_codes(app, client):
    """`parameters: top=2`: positions 1 and 2 only; the two codes chosen are the answer, in order."""
    rows = [{"type": "begin_group", "name": "p", "label": "Priorities"},
            {"type": "rank svc", "name": "best", "label": "Your two most useful services", "parameters": "top=2",
             "required": "yes"},
            {"type": "end_group", "name": "p"}]
    choices = [{"list_name": "svc", "name": code, "label": code.title()} for code in ("web", "news", "events", "data")]
    with app.app_context():
        _round, token = factories.invited_partner(factories.survey_from_rows(rows, choices))
    start_survey(client, token)
    page = client.get(f"/s/{token}/page/p").get_data(as_text=True)
    # One drop-down per position (two), each offering the four options: not one per option.
    assert page.count('class="rank-choice"') == 2 and page.count('<option value="events">') == 2
    empty = {"best__rank1": "", "best__rank2": ""}
    one = client.post(f"/s/{token}/answer/best", data={**empty, "best__rank1": "events"}, htmx=True)
    assert one.status_code == 422 and "Not saved yet: choose an option for each position (1 of 2)." in one.get_data(
        as_text=True)
    stop = client.post(f"/s/{token}/page/p", data={**empty, "best__rank2": "events", "action": "next"})
    assert stop.status_code == 422
    assert "Please choose an option for each position, from 1 to 2." in stop.get_data(as_text=True)
    twice = client.post(f"/s/{token}/answer/best", data={"best__rank1": "web", "best__rank2": "web"}, htmx=True)
    assert "Please give each option a different position, from 1 to 2." in twice.get_data(as_text=True)
    unknown = client.post(f"/s/{token}/answer/best", data={"best__rank1": "web", "best__rank2": "nope"}, htmx=True)
    assert unknown.status_code == 422
    assert "best" not in stored(app)
    whole = client.post(f"/s/{token}/answer/best", data={"best__rank1": "data", "best__rank2": "web"}, htmx=True)
    assert whole.status_code == 200 and stored(app)["best"] == "data web"
    again = client.get(f"/s/{token}/page/p").get_data(as_text=True)
    assert again.count('value="data" selected') == 1 and again.count('value="web" selected') == 1
    # A page of an older form (a position per option) still reads the same.
    legacy = {"best[web]": "1", "best[news]": "", "best[events]": "2", "best[data]": ""}
    assert client.post(f"/s/{token}/answer/best", data=legacy, htmx=True).status_code == 200
    assert stored(app)["best"] == "web events"
    # A value posted without positions must still be exactly two known, different codes.
    for bad in ("data", "data web news", "data data", "data nope"):
        assert client.post(f"/s/{token}/answer/best", data={"best": bad, "best__present": "1"},
                           htmx=True).status_code == 422
    assert stored(app)["best"] == "web events"
    assert client.post(f"/s/{token}/page/p", data={"best__rank1": "data", "best__rank2": "web",
                                                   "action": "next"}).headers["Location"].endswith("/review")
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert '<ol class="rank-answer"><li>Data</li><li>Web</li></ol>' in review


def test_hidden_page_is_skipped_and_hidden_answers_dropped(app, client, survey):
    token = survey["other"]
    start_survey(client, token)
    client.post(f"/s/{token}/page/first", data=first_page(member="no", why_member="") + [("action", "next")])
    response = client.post(f"/s/{token}/page/second", data={"recommend": "8", "action": "next"})
    assert response.headers["Location"].endswith("/review")  # not a Pathfinder: page three is skipped
    assert "why_member" not in stored(app)


def test_answer_to_question_that_becomes_hidden_is_removed_on_leaving_page(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    client.post(f"/s/{token}/page/first", data=first_page() + [("action", "next")])
    assert "why_member" in stored(app)
    client.post(f"/s/{token}/page/first", data=first_page(member="no") + [("action", "next")])
    assert "why_member" not in stored(app)


def answer_everything(client, token):
    start_survey(client, token)
    client.post(f"/s/{token}/page/first", data=first_page() + [("action", "next")])
    client.post(f"/s/{token}/page/second", data={"sat_web": "4", "sat_news": "na", "recommend": "10",
                                                 "top[web]": "1", "top[news]": "2", "top[events]": "3",
                                                 "action": "next"})
    return client.post(f"/s/{token}/page/third", data={"roadmap": "Adopted in 2024", "action": "next"})


def test_review_lists_every_answer_with_change_links_then_submit_shows_receipt(app, client, survey):
    token = survey["token"]
    last = answer_everything(client, token)
    assert last.headers["Location"].endswith("/review")
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert "Evidence &lt;b&gt;matters&lt;/b&gt;" in review
    assert "Peer support" in review
    assert f"/s/{token}/page/second#q-recommend" in review
    submitted = client.post(f"/s/{token}/submit")
    assert submitted.headers["Location"].endswith("/receipt")
    receipt = client.get(f"/s/{token}/receipt").get_data(as_text=True)
    assert "your answers have been submitted" in receipt
    assert "Adopted in 2024" in receipt and "Change" not in receipt


def test_second_submit_is_a_no_op_showing_the_receipt(app, client, survey):
    token = survey["token"]
    answer_everything(client, token)
    client.post(f"/s/{token}/submit")
    with app.app_context():
        first = db.session.scalar(db.select(Response.submitted_at))
    again = client.post(f"/s/{token}/submit")
    assert again.status_code == 303 and again.headers["Location"].endswith("/receipt")
    with app.app_context():
        assert db.session.scalar(db.select(Response.submitted_at)) == first


def test_submitted_answers_are_read_only(app, client, survey):
    token = survey["token"]
    answer_everything(client, token)
    client.post(f"/s/{token}/submit")
    assert client.get(f"/s/{token}").headers["Location"].endswith("/receipt")
    assert client.get(f"/s/{token}/page/first").headers["Location"].endswith("/receipt")
    late = client.post(f"/s/{token}/answer/staff", data={"staff": "1"}, htmx=True)
    assert late.status_code == 409
    assert stored(app)["staff"] == "42"


def test_submit_blocked_while_required_answers_missing(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    response = client.post(f"/s/{token}/submit")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Some required questions are not answered yet" in html
    assert "Are you a member?" in html


def test_reopening_the_link_restores_answers_and_page(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    client.post(f"/s/{token}/page/first", data=first_page() + [("action", "next")])
    fresh = factories_client(app)
    fresh.get(f"/s/{token}")
    resumed = fresh.post(f"/s/{token}/start")
    assert resumed.headers["Location"].endswith("/page/second")
    page = fresh.get(f"/s/{token}/page/first").get_data(as_text=True)
    assert 'value="42"' in page and "Peer support" in page


def factories_client(app):
    from tests.conftest import HtmxClient

    return HtmxClient(app.test_client())


def test_language_switch_keeps_answers_and_translates_content(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    response = client.post(f"/s/{token}/page/first", data=first_page() + [("action", "lang:fr")])
    assert response.headers["Location"].endswith("/page/first")
    page = client.get(f"/s/{token}/page/first").get_data(as_text=True)
    assert "Êtes-vous membre ?" in page and '<html lang="fr">' in page
    assert stored(app)["staff"] == "42"


def test_contact_language_is_the_default(client, survey):
    page = client.get(f"/s/{survey['other']}").get_data(as_text=True)
    assert '<html lang="fr">' in page


@pytest.mark.parametrize("token", ["x" * 43, "short", "../../etc/passwd", "A" * 400])
def test_unknown_or_malformed_link_is_a_polite_404(client, survey, token):
    response = client.get(f"/s/{token}")
    assert response.status_code == 404
    assert "Please check the link you were sent" in response.get_data(as_text=True)


def test_closed_round_is_410_and_refuses_answers(app, client, survey):
    token = survey["token"]
    start_survey(client, token)
    with app.app_context():
        db.session.get(Round, survey["round_id"]).status = "closed"
        db.session.commit()
    assert client.get(f"/s/{token}").status_code == 410
    assert client.post(f"/s/{token}/answer/staff", data={"staff": "5"}, htmx=True).status_code == 410
    assert "staff" not in stored(app)


def test_one_partner_cannot_touch_another_partners_response(app, client, survey):
    start_survey(client, survey["token"])
    client.post(f"/s/{survey['token']}/page/first", data=first_page() + [("action", "next")])
    other = survey["other"]
    start_survey(client, other)
    page = client.get(f"/s/{other}/page/first").get_data(as_text=True)
    assert "Peer support" not in page and 'value="42"' not in page


def test_state_changing_requests_need_the_csrf_token(app, client, survey):
    app.config["WTF_CSRF_ENABLED"] = True
    token = survey["token"]
    client.get(f"/s/{token}")
    refused = client.post(f"/s/{token}/start", csrf=False)
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Response.id))) == 0


def test_every_question_is_labelled_and_grouped(client, survey):
    token = survey["token"]
    start_survey(client, token)
    client.post(f"/s/{token}/page/first", data=first_page() + [("action", "next")])
    html = client.get(f"/s/{token}/page/second").get_data(as_text=True)
    assert "<legend>Satisfaction</legend>" in html
    assert 'aria-labelledby="rl-sat_web"' in html
    assert '<label for="f-top-1">Choice 1</label>' in html
    assert "<legend>Recommend? <span class=\"required\">(required)</span></legend>" in html


def test_closed_round_page_speaks_the_contacts_language(app, client, survey):
    with app.app_context():
        db.session.get(Round, survey["round_id"]).status = "closed"
        db.session.commit()
    response = client.get(f"/s/{survey['other']}", headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 410
    assert '<html lang="fr">' in html and "Ce cycle d" in html


def test_two_databases_whose_versions_share_an_id_show_each_its_own_survey(tmp_path):
    """The parsed definition is cached per process by the version's id and a creation time in its database (the
    round's, on partner pages): a second database whose version has the same id must not get the first's survey."""
    from tests.conftest import _close, _make_app

    seen = []
    for label in ("first", "second"):
        (tmp_path / label).mkdir()
        application, drop = _make_app(tmp_path / label, create_tables=True)
        try:
            with application.app_context():
                version = factories.survey_from_rows(
                    [{"type": "text", "name": f"q_{label}", "label": f"The {label} question"}])
                _round, token = factories.invited_partner(version)
                version_id = version.id
            client = HtmxClient(application.test_client())
            seen.append((version_id, client.get(start_survey(client, token)).get_data(as_text=True)))
        finally:
            _close(application, drop)
    (first_id, first_page), (second_id, second_page) = seen
    assert first_id == second_id
    assert "The first question" in first_page and "The second question" not in first_page
    assert "The second question" in second_page and "The first question" not in second_page
