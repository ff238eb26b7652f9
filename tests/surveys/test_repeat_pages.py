"""Repeats on the partner pages: entries added, answered, removed and submitted without JavaScript and with htmx;
a refused request (an entry removed twice) changes nothing."""

import pytest

from engagement.extensions import db
from surveys.models import Answer
from tests import factories
from tests.conftest import start_survey

SURVEY = [
    {"type": "text", "name": "org", "label": "Organisation"},
    *factories.repeat(
        "people", "Person",
        {"type": "text", "name": "name", "label": "Name", "required": "yes"},
        {"type": "integer", "name": "age", "label": "Age", "constraint": ". < 120",
         "constraint_message": "Too old", "relevant": "${name} != ''"},
    ),
    *factories.group(
        "home", "Home",
        {"type": "integer", "name": "rooms", "label": "Rooms"},
        {"type": "calculate", "name": "ages", "calculation": "sum(${age})"},
        *factories.repeat("room", "Room", {"type": "text", "name": "use", "label": "Used for"}, repeat_count="${rooms}"),
    ),
]


@pytest.fixture
def token(app):
    return factories.partner_token(app, SURVEY)


def stored(app):
    with app.app_context():
        return {a.question: a.value for a in db.session.scalars(db.select(Answer))}


def post(client, token, page, data, action, **kw):
    return client.post(f"/s/{token}/page/{page}", data={**data, "action": action}, **kw)


def entry(n, name=None, age=None):
    data = {f"people[{n}]/name__present": "1", f"people[{n}]/age__present": "1"}
    if name is not None:
        data[f"people[{n}]/name"] = name
    if age is not None:
        data[f"people[{n}]/age"] = age
    return data


def test_a_repeat_is_answered_without_javascript(app, client, token):
    start_survey(client, token)
    post(client, token, "page_1", {"org__present": "1", "org": "ILO"}, "next")
    page = client.get(f"/s/{token}/page/people").get_data(as_text=True)
    assert "No entries yet." in page and "Add an entry" in page
    first = post(client, token, "people", {}, "add:people")
    assert first.status_code == 303 and first.headers["Location"].endswith("/page/people#r-people")
    post(client, token, "people", entry(1, "Ana"), "add:people")  # typed answers are kept when adding
    assert stored(app)["people#entries"] == "1 2"
    assert stored(app)["people[1]/name"] == "Ana"
    page = client.get(f"/s/{token}/page/people").get_data(as_text=True)
    assert page.count("Remove this entry") == 2
    assert 'name="people[2]/name"' in page
    # age is relevant once the entry's own name is given: shown in entry 1, hidden in entry 2
    assert 'name="people[1]/age"' in page and 'id="q-people[2]/age" hidden' in page
    # a constraint and a required answer inside an entry
    refused = post(client, token, "people", {**entry(1, "Ana", "130"), **entry(2, "")}, "next")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Too old" in html and "Please answer this question." in html
    summary = html[html.index('id="error-summary"'):html.index("</ul>", html.index('id="error-summary"'))]
    assert '<span class="summary-question">Age (Person 1)</span>' in summary  # named as the partner sees it
    assert '<span class="summary-question">Name (Person 2)</span>' in summary
    assert ">people[" not in summary
    assert "people[1]/age" not in stored(app)
    # edit entry 1, fill entry 2, then remove entry 1
    post(client, token, "people", {**entry(1, "Ana", "30"), **entry(2, "Ben", "12")}, "save")
    assert stored(app)["people[1]/age"] == "30"
    post(client, token, "people", {**entry(1, "Ana", "31"), **entry(2, "Ben", "12")}, "remove:people:1")
    answers = stored(app)
    assert answers["people#entries"] == "2"
    assert not [k for k in answers if k.startswith("people[1]")]
    assert answers["people[2]/name"] == "Ben"
    # removing entry 1 again is refused with a message, and no entry changes
    before = stored(app)
    again = post(client, token, "people", entry(2, "Ben", "12"), "remove:people:1", follow_redirects=True)
    assert "Entry 1 does not exist (it may have been removed already); nothing was changed." in again.get_data(
        as_text=True)
    assert stored(app) == before
    # the counted repeat shows as many entries as ${rooms}, without add or remove
    done = post(client, token, "people", entry(2, "Ben", "12"), "next")
    assert done.headers["Location"].endswith("/page/home")
    post(client, token, "home", {"rooms__present": "1", "rooms": "2"}, "save")
    page = client.get(f"/s/{token}/page/home").get_data(as_text=True)
    assert 'name="room[1]/use"' in page and 'name="room[2]/use"' in page and 'name="room[3]/use"' not in page
    assert "Add an entry" not in page and "Remove this entry" not in page
    post(client, token, "home", {"rooms__present": "1", "rooms": "2", "room[1]/use__present": "1",
                                 "room[1]/use": "Kitchen", "room[2]/use__present": "1", "room[2]/use": "Office"},
         "review")
    assert stored(app)["room#entries"] == "1 2"
    assert stored(app)["ages"] == "12"  # a calculation outside the repeat reads every entry
    assert stored(app)["room[2]/use"] == "Office"
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert "Ben" in review and "Office" in review
    submitted = client.post(f"/s/{token}/submit", data={})
    assert submitted.status_code == 303
    receipt = client.get(submitted.headers["Location"]).get_data(as_text=True)
    assert "Ben" in receipt and "Kitchen" in receipt


def test_entries_are_changed_in_place_with_htmx(app, client, token):
    start_survey(client, token)
    reply = post(client, token, "people", {}, "add:people", htmx=True)
    assert reply.status_code == 200
    html = reply.get_data(as_text=True)
    assert 'id="r-people"' in html and 'name="people[1]/name"' in html
    assert 'hx-select="#r-people"' in html
    saved = client.post(f"/s/{token}/answer/people[1]/name", data={"people[1]/name__present": "1",
                                                                  "people[1]/name": "Ana"}, htmx=True)
    assert saved.status_code == 200 and "Saved" in saved.get_data(as_text=True)
    assert stored(app)["people[1]/name"] == "Ana"
    # the entry's age, shown once its name is given, is drawn in place with the reply (and hidden again)
    shown = saved.get_data(as_text=True)
    assert 'id="q-people[1]/age" data-question="people[1]/age" hx-swap-oob="outerHTML"' in shown
    assert 'name="people[1]/age"' in shown
    cleared = client.post(f"/s/{token}/answer/people[1]/name", data={"people[1]/name__present": "1",
                                                                    "people[1]/name": ""}, htmx=True)
    assert '<div class="question" id="q-people[1]/age" hx-swap-oob="outerHTML" hidden></div>' in cleared.get_data(
        as_text=True)
    client.post(f"/s/{token}/answer/people[1]/name", data={"people[1]/name__present": "1", "people[1]/name": "Ana"},
                htmx=True)
    refused = client.post(f"/s/{token}/answer/people[1]/age", data={"people[1]/age__present": "1",
                                                                   "people[1]/age": "500"}, htmx=True)
    assert refused.status_code == 422 and "Too old" in refused.get_data(as_text=True)
    assert "people[1]/age" not in stored(app)
    reply = post(client, token, "people", {}, "remove:people:1", htmx=True)
    assert "No entries yet." in reply.get_data(as_text=True)
    again = post(client, token, "people", {}, "remove:people:1", htmx=True)
    assert "Entry 1 does not exist" in again.get_data(as_text=True)
    assert stored(app).get("people#entries") in (None, "")


def test_the_review_names_an_unanswered_entry_question_with_its_entry(app, client, token):
    start_survey(client, token)
    post(client, token, "page_1", {"org__present": "1", "org": "ILO"}, "next")
    post(client, token, "people", {}, "add:people")
    post(client, token, "people", entry(1, "Ana"), "add:people")
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    summary = review[review.index('id="error-summary"'):review.index("</ul>", review.index('id="error-summary"'))]
    assert "Name (Person 2)</a>" in summary and "Person 1" not in summary


COUNTED = [
    *factories.repeat("people", "Person", {"type": "text", "name": "name", "label": "Name"}),
    *factories.group("after", "After", {"type": "text", "name": "why", "label": "Why so many?",
                                        "relevant": "count(${people}) > 1"}),
]


def test_a_question_after_a_repeat_is_shown_by_how_many_entries_it_has(app, client):
    """count(${people}) outside the repeat reads its entries: shown with two entries, not with one (whose only
    entry id, like the first of two, is 1: the shown questions are not remembered by that value alone)."""
    token = factories.partner_token(app, COUNTED)
    start_survey(client, token)
    post(client, token, "people", {}, "add:people")
    one = post(client, token, "people", entry(1, "Ana"), "next")
    assert one.headers["Location"].endswith("/review")  # the page after holds only the hidden question
    post(client, token, "people", entry(1, "Ana"), "add:people")
    two = post(client, token, "people", {**entry(1, "Ana"), **entry(2, "Ben")}, "next")
    assert two.headers["Location"].endswith("/page/after")
    assert 'name="why"' in client.get(two.headers["Location"]).get_data(as_text=True)
    post(client, token, "people", entry(2, "Ben"), "remove:people:1")
    assert client.post(f"/s/{token}/page/people", data={**entry(2, "Ben"), "action": "next"}
                       ).headers["Location"].endswith("/review")


def test_entries_no_longer_shown_leave_with_the_page(app, client, token):
    """An entry past a lowered repeat_count, and an answer its entry's relevance now hides, are dropped when the
    partner leaves the page, like any hidden answer: the review and the exports never see them."""
    start_survey(client, token)
    post(client, token, "page_1", {"org__present": "1", "org": "ILO"}, "next")
    post(client, token, "people", {}, "add:people")
    post(client, token, "people", entry(1, "Ana", "30"), "next")
    rooms = {"rooms__present": "1", "room[1]/use__present": "1", "room[1]/use": "Kitchen",
             "room[2]/use__present": "1", "room[2]/use": "Office"}
    post(client, token, "home", {"rooms__present": "1", "rooms": "2"}, "save")
    post(client, token, "home", {**rooms, "rooms": "2"}, "save")
    assert stored(app)["room[2]/use"] == "Office"
    post(client, token, "home", {"rooms__present": "1", "rooms": "1", "room[1]/use__present": "1",
                                 "room[1]/use": "Kitchen"}, "review")
    answers = stored(app)
    assert answers["room[1]/use"] == "Kitchen" and "room[2]/use" not in answers
    assert answers["room#entries"] == "1"
    # age is shown only while the entry's name is given: clearing the name drops the age when the page is left
    post(client, token, "people", entry(1, "", "30"), "save")
    assert stored(app)["people[1]/age"] == "30"  # kept while the partner is still on the page
    post(client, token, "people", entry(1, ""), "back")  # going back leaves the page without requiring the name
    assert "people[1]/age" not in stored(app)
    assert "Office" not in client.get(f"/s/{token}/review").get_data(as_text=True)


HIDDEN_REPEAT = [
    {"type": "select_one yn", "name": "staff", "label": "Any staff?"},
    *factories.repeat("people", "Person", {"type": "text", "name": "name", "label": "Name"},
                      relevant="${staff} = 'yes'"),
]


def test_a_repeat_hidden_by_a_later_answer_loses_its_entries_at_submission(app, client):
    token = factories.partner_token(app, HIDDEN_REPEAT, factories.YES_NO)
    start_survey(client, token)
    post(client, token, "page_1", {"staff__present": "1", "staff": "yes"}, "next")
    post(client, token, "people", {}, "add:people")
    post(client, token, "people", entry(1, "Ana"), "review")
    assert stored(app)["people[1]/name"] == "Ana"
    post(client, token, "page_1", {"staff__present": "1", "staff": "no"}, "next")  # the repeat's page is now hidden
    answers = stored(app)
    assert answers["staff"] == "no"
    assert not [name for name in answers if name.startswith("people")]
    assert "Ana" not in client.get(f"/s/{token}/review").get_data(as_text=True)


def test_a_repeat_that_is_its_page_is_headed_once_on_screen(app, client, token):
    """A top-level repeat is its page: its label is the page's h1, and its fieldset's legend (kept for screen
    readers) is not shown a second time; a repeat inside a group keeps its visible legend."""
    start_survey(client, token)
    people = client.get(f"/s/{token}/page/people").get_data(as_text=True)
    assert '<h1 id="page-title">Person' in people
    assert '<legend class="visually-hidden">Person</legend>' in people
    post(client, token, "home", {"rooms__present": "1", "rooms": "1"}, "save")
    home = client.get(f"/s/{token}/page/home").get_data(as_text=True)
    assert '<h1 id="page-title">Home' in home and "<legend>Room</legend>" in home
