"""What a partner meets first (issue 17): no skipped questions without JavaScript, Enter goes forward, honest save
status, grid rows under their question, the receipt after the round closes, one language per page, the Secretariat's
address, shorter screens on phones and a ranking with few controls."""

import pytest
from lxml import html as lxml_html

from engagement.extensions import db
from surveys.definition import Grid
from surveys.demo import load_demo
from surveys.invitations import token_for
from surveys.models import Answer, Response, Round
from surveys.relevance import layout, partner_attributes, visible_questions
from surveys.versions import definition_for
from tests import factories
from tests.conftest import HtmxClient
from tests.surveys.walker import answer_every_page, form_fields

FOLLOW_UP = [
    {"type": "begin_group", "name": "first", "label": "First"},
    {"type": "select_one yn", "name": "member", "label": "Are you a member?", "required": "yes"},
    {"type": "text", "name": "why", "label": "Why?", "relevant": "${member} = 'yes'"},
    {"type": "end_group", "name": "first"},
    {"type": "begin_group", "name": "second", "label": "Second"},
    {"type": "text", "name": "anything", "label": "Anything else?"},
    {"type": "end_group", "name": "second"},
]


def started(client, token) -> str:
    client.get(f"/s/{token}")
    return client.post(f"/s/{token}/start").headers["Location"]


answers = factories.stored_answers


@pytest.fixture
def follow_up(app, client):
    token = factories.partner_token(app, FOLLOW_UP, factories.YES_NO)
    started(client, token)
    return token


def test_without_javascript_a_question_that_appears_on_the_same_page_is_shown_before_moving_on(app, client, follow_up):
    token = follow_up
    sent = client.post(f"/s/{token}/page/first", {"member": "yes", "member__present": "1", "action": "next"})
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/s/{token}/page/first?new=why#new-questions"
    assert answers(app)["member"] == "yes"  # saved, not lost
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'id="new-questions"' in page and '<a href="#q-why">Why?</a>' in page
    assert 'class="question is-new"' in page and '<span class="new-tag">New</span>' in page
    # Answered (or even left empty: it is optional and has now been seen), the partner moves on.
    moved = client.post(f"/s/{token}/page/first", {"member": "yes", "member__present": "1", "why": "Evidence",
                                                   "why__present": "1", "action": "next"})
    assert moved.headers["Location"] == f"/s/{token}/page/second"
    assert answers(app)["why"] == "Evidence"


def test_a_follow_up_already_answered_or_hidden_does_not_hold_the_partner_back(app, client, follow_up):
    token = follow_up
    no = client.post(f"/s/{token}/page/first", {"member": "no", "member__present": "1", "action": "next"})
    assert no.headers["Location"] == f"/s/{token}/page/second"
    assert client.get(f"/s/{token}/page/first?new=why&new=member").status_code == 200  # a stale marker is ignored
    page = client.get(f"/s/{token}/page/first?new=why").get_data(as_text=True)
    assert 'id="new-questions"' not in page  # "why" is not shown for "no"


def test_a_client_without_javascript_ends_the_demo_survey_with_nothing_relevant_unanswered(app):
    with app.app_context():
        round_, invitations = load_demo()
        partners = {i.contact.organisation.name: (token_for(i), partner_attributes(i.contact.organisation))
                    for i in invitations}
        definition = definition_for(round_.survey_version)
    for name in ("Ministry of Labour of Ghana", "Confederación Sindical de las Américas"):
        token, partner = partners[name]
        client = HtmxClient(app.test_client())
        visited = answer_every_page(client, token)
        with app.app_context():
            response_id = db.session.scalar(db.select(Response.id).join(Response.invitation)
                                            .where(Response.invitation.has(contact_id=next(
                                                i.contact_id for i in invitations if token_for(i) == token))))
            values = {a.question: a.value for a in db.session.scalars(
                db.select(Answer).filter_by(response_id=response_id))}
        shown = visible_questions(definition, values, partner)
        unanswered = [q.name for q in definition.questions() if q.answerable and q.name in shown
                      and not values.get(q.name)]
        assert unanswered == [], (name, visited)
        assert any("?new=" in page for page in visited) or name != "Ministry of Labour of Ghana", visited


def test_the_forward_button_is_the_first_of_the_page_form(app, demo):
    """Pressing Enter in a field submits with the form's first submit button: it must be "Save and continue"."""
    client = HtmxClient(app.test_client())
    token = demo["Ministère du Travail de Madagascar"]
    page = lxml_html.fromstring(client.get(started(client, token)).get_data(as_text=True))
    buttons = page.xpath('//button[@type="submit"][ancestor::form[@id="page-form"] or @form="page-form"]')
    assert buttons[0].get("value") == "next"
    assert [b.get("value") for b in buttons if b.get("value", "").startswith("lang:")], "the language switch is there"


def test_without_javascript_the_page_promises_no_autosave(client, follow_up):
    html = client.get(f"/s/{follow_up}/page/first").get_data(as_text=True)
    state = lxml_html.fromstring(html).get_element_by_id("save-state")
    assert state.text_content() == "Your answers are saved when you press one of the buttons at the end of the page."
    assert state.get("data-autosave") == "Answers are saved as you go."  # what site.js says once it runs
    assert state.get("data-refused") == "An answer was not saved: see the message beside it."


def test_error_lines_give_the_question_then_the_message(client, follow_up):
    html = client.post(f"/s/{follow_up}/page/first", {"member__present": "1", "action": "next"}).get_data(
        as_text=True)
    summary = lxml_html.fromstring(html).get_element_by_id("error-summary")
    line = summary.xpath(".//li/a")[0]
    assert [span.text_content() for span in line.xpath("./span")] == ["Are you a member?",
                                                                       "Please answer this question."]
    assert "?:" not in summary.text_content()


@pytest.fixture
def demo(app):
    with app.app_context():
        _round, invitations = load_demo()
        return {i.contact.organisation.name: token_for(i) for i in invitations}


def test_review_and_receipt_list_grid_rows_under_their_question(app, demo):
    client = HtmxClient(app.test_client())
    token = demo["Ministry of Labour of Ghana"]
    answer_every_page(client, token)
    for url in (f"/s/{token}/review", f"/s/{token}/receipt"):
        if url.endswith("receipt"):
            assert client.post(f"/s/{token}/submit").status_code == 303
        tree = lxml_html.fromstring(client.get(url).get_data(as_text=True))
        grids = {dt.text_content().strip(): dt.getparent() for dt in tree.xpath('//dt[@class="answer-grid-question"]')}
        use = next(grid for question, grid in grids.items() if question.startswith("Do you know each service"))
        satisfaction = next(grid for question, grid in grids.items() if question.startswith("How satisfied"))
        assert "alliance87.org website" in use.text_content() and "alliance87.org website" in satisfaction.text_content()
        assert len(grids) >= 3


def test_the_receipt_stays_readable_in_the_partners_language_after_the_round_closes(app, demo):
    client = HtmxClient(app.test_client())
    token = demo["Ministère du Travail de Madagascar"]
    answer_every_page(client, token)
    client.get(f"/s/{token}/review")
    assert client.post(f"/s/{token}/submit").status_code == 303
    with app.app_context():
        db.session.scalar(db.select(Round)).status = "closed"
        db.session.commit()
    receipt = client.get(f"/s/{token}/receipt")
    html = receipt.get_data(as_text=True)
    assert receipt.status_code == 200 and '<html lang="fr">' in html
    assert "Merci, vos réponses ont bien été envoyées" in html
    assert client.get(f"/s/{token}").headers["Location"].endswith("/receipt")
    assert client.get(f"/s/{token}/review").status_code == 303  # submitted: to the receipt
    assert client.post(f"/s/{token}/answer/recommend", {"recommend": "1"}, htmx=True).status_code == 410
    other = demo["Anti-Slavery Action Nepal"]  # did not submit: the round is gone for them
    assert client.get(f"/s/{other}/receipt").status_code == 410


def test_only_the_languages_of_the_form_are_offered(app, client):
    with app.app_context():
        _round, token = factories.invited_partner(factories.survey_from_rows(
            factories.BILINGUAL, settings=factories.BILINGUAL_SETTINGS))
    location = started(client, token)
    for html in (client.get(f"/s/{token}").get_data(as_text=True), client.get(location).get_data(as_text=True)):
        assert ">Français</button>" in html and "Español" not in html
    client.post(f"/s/{token}/page/p", {"q": "x", "q__present": "1", "action": "lang:es"})
    assert '<html lang="en">' in client.get(location).get_data(as_text=True)
    client.post(f"/s/{token}/language", {"language": "es", "next": location})
    assert '<html lang="en">' in client.get(location).get_data(as_text=True)


def test_a_french_partner_reads_the_round_name_in_french_and_the_secretariat_address_everywhere(app, demo):
    client = HtmxClient(app.test_client())
    token = demo["Ministère du Travail de Madagascar"]
    welcome = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Revue 2026 de l'engagement des partenaires (démo)" in welcome.replace("&#39;", "'")
    assert "2026 partner engagement review" not in welcome
    address = app.config["SECRETARIAT_EMAIL"]
    pages = [welcome]
    first = started(client, token)
    pages.append(client.get(first).get_data(as_text=True))
    pages.append(client.get(f"/s/{token}/review").get_data(as_text=True))
    assert all(f'href="mailto:{address}"' in page for page in pages)
    with app.app_context():
        db.session.scalar(db.select(Round)).status = "closed"
        db.session.commit()
    assert address in client.get(f"/s/{token}").get_data(as_text=True)  # the 410 page too


def test_the_services_page_comes_in_three_shorter_screens(app, demo):
    client = HtmxClient(app.test_client())
    token = demo["Ministry of Labour of Ghana"]
    visited = answer_every_page(client, token)
    assert [page for page in visited if page.startswith("services")] == [
        "services", "services?part=2", "services?part=3"]
    with app.app_context():
        definition = definition_for(db.session.scalar(db.select(Round)).survey_version)
    screens = layout(definition).screens
    for screen in screens.all:
        long_grids = [item for item in screen.items if isinstance(item, Grid) and len(item.questions) >= 6]
        assert len(long_grids) <= 1, screen.id


def test_a_top_three_ranking_is_three_drop_downs(app, demo):
    client = HtmxClient(app.test_client())
    token = demo["Ministry of Labour of Ghana"]
    started(client, token)
    html = client.get(f"/s/{token}/page/services?part=3").get_data(as_text=True)
    ranking = lxml_html.fromstring(html).get_element_by_id("q-top_services")
    selects = ranking.xpath(".//select")
    assert [s.get("name") for s in selects] == ["top_services__rank1", "top_services__rank2", "top_services__rank3"]
    assert all(len(s.xpath("./option[@value!='']")) == 12 for s in selects)
    _hidden, fields = form_fields(html)  # a partner choosing one option per position
    chosen = {name: value for name, value in fields if name.startswith("top_services__rank")}
    assert client.post(f"/s/{token}/answer/top_services", chosen, htmx=True).status_code == 200
    assert answers(app)["top_services"] == " ".join(chosen[f"top_services__rank{n}"] for n in (1, 2, 3))
