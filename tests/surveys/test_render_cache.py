"""Partners in the same place of a page share its drawing (surveys.routes.drawn_page, drawn_autosave_reply): what
is kept holds no link, form token or organisation, and a page served from it is exactly the page drawn afresh."""

import re
from functools import lru_cache
from pathlib import Path

import pytest

from surveys import routes
from surveys.demo import load_demo
from surveys.invitations import form_token, token_for
from tests import factories
from tests.conftest import HtmxClient
from tests.surveys.walker import answer_every_page

EVERY_TYPE = (Path(__file__).parent / "every_type.yaml").read_text()
CSRF = re.compile(r'(name="csrf_token" value="|"X-CSRFToken": ")([^"]+)"')


@pytest.fixture
def partners(app):
    """Two Pathfinder governments (same prefilled answers) and a workers' union, in one round of every type."""
    with app.app_context():
        version = factories.survey_from_yaml(EVERY_TYPE, "every_type.yaml")
        factories.organisation(contacts=[("Ama", "ama@example.org", "en")])
        factories.organisation(name="Ministry of Labour of Peru", country="PE", region="americas",
                               contacts=[("Rosa", "rosa@example.org", "en")])
        factories.organisation(name="Workers Union", category="workers", country="BR", region="americas",
                               pathfinder=False, contacts=[("Lucía", "lucia@example.org", "en")])
        _round, tokens = factories.open_round_for(version)
    clients = {}
    for email, token in tokens.items():
        client = HtmxClient(app.test_client())
        client.get(f"/s/{token}")
        assert client.post(f"/s/{token}/start").status_code == 303
        clients[email.split("@")[0]] = (client, token)
    return clients


@pytest.fixture
def kept(monkeypatch):
    """Every drawing the caches keep, as they keep it (a page as its two halves around the form token)."""
    drawings = []
    for name in ("drawn_page", "drawn_autosave_reply"):
        draw = getattr(routes, name).__wrapped__

        def keeping(*key, draw=draw):
            drawn = draw(*key)
            drawings.extend(drawn if isinstance(drawn, tuple) else [drawn])
            return drawn

        monkeypatch.setattr(routes, name, lru_cache(maxsize=256)(keeping))
    return drawings


def page(partner, name):
    client, token = partner
    response = client.get(f"/s/{token}/page/{name}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def fresh(partner, name):
    """The page drawn with nothing kept."""
    routes.drawn_page.cache_clear()
    return page(partner, name)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("name", ["first", "second", "third"])
def test_a_shared_page_is_the_fresh_page_with_nothing_of_another_partner(app, partners, kept, name, language):
    ama, rosa = partners["ama"], partners["rosa"]
    for client, token in (ama, rosa):
        client.post(f"/s/{token}/language", {"language": language})
    page(ama, name)  # drawn and kept
    shared = page(rosa, name)
    assert len(kept) == 2, "the second partner in the same place was drawn again"
    with app.app_context():
        assert ama[1] not in shared and form_token(ama[1]) not in shared
        assert CSRF.search(shared).group(2) == form_token(rosa[1])
    assert shared == fresh(rosa, name)


def test_a_partner_never_sees_another_partners_answers(app, partners, kept):
    (ama, ama_token), rosa = partners["ama"], partners["rosa"]
    answer = "Evidence <b>matters</b> to us"
    ama.post(f"/s/{ama_token}/answer/member", {"member": "yes", "member__present": "1"}, htmx=True)
    ama.post(f"/s/{ama_token}/answer/why_member", {"why_member": answer, "why_member__present": "1"}, htmx=True)
    mine = page(partners["ama"], "first")
    theirs = page(rosa, "first")
    assert "Evidence &lt;b&gt;matters&lt;/b&gt; to us" in mine
    assert "matters" not in theirs
    assert 'value="yes" checked' in mine and 'value="yes" checked' not in theirs
    assert theirs == fresh(rosa, "first")
    assert mine == fresh(partners["ama"], "first")


def test_an_answer_that_contains_a_link_is_shown_as_typed(app, partners):
    """Rosa pastes Ama's link into an answer: her page shows what she typed, and autosaves to her own link."""
    ama_token, (rosa, rosa_token) = partners["ama"][1], partners["rosa"]
    rosa.post(f"/s/{rosa_token}/answer/member", {"member": "yes", "member__present": "1"}, htmx=True)
    pasted = f"See /s/{ama_token}/page/first"
    saved = rosa.post(f"/s/{rosa_token}/answer/why_member", {"why_member": pasted, "why_member__present": "1"},
                      htmx=True)
    assert saved.status_code == 200
    html = page(partners["rosa"], "first")
    assert f'value="{pasted}"' in html
    assert 'hx-post="../answer/why_member"' in html  # relative to Rosa's own page


def test_nothing_kept_holds_a_link_or_an_organisation(app, kept):
    """Every page of the demo survey, answered by two partners: no drawing kept holds a link, a form token or the
    name of an organisation."""
    with app.app_context():
        _round, invitations = load_demo()
        partners = [(token_for(i), i.contact.organisation.name) for i in invitations[:2]]
    for token, _name in partners:
        client = HtmxClient(app.test_client())
        answer_every_page(client, token)
        client.get(f"/s/{token}/page/services")  # a page kept, then an autosave that shows new questions
        for use in ("not_aware", "used_regularly"):  # hides, then shows, the website's satisfaction row
            client.post(f"/s/{token}/answer/use_website", {"use_website": use, "use_website__present": "1"},
                        htmx=True)
    assert len(kept) > 5
    with app.app_context():
        secrets = [text for token, name in partners for text in (token, form_token(token), name)]
    for html in kept:
        assert not [secret for secret in secrets if secret in html]


def test_errors_are_not_shared_between_different_mistakes(app, partners):
    (ama, ama_token), (rosa, rosa_token) = partners["ama"], partners["rosa"]
    first = ama.post(f"/s/{ama_token}/answer/staff", {"staff": "-5", "staff__present": "1"}, htmx=True)
    second = rosa.post(f"/s/{rosa_token}/answer/staff", {"staff": "many", "staff__present": "1"}, htmx=True)
    assert first.status_code == second.status_code == 422
    assert "Between 0 and 100000" in first.get_data(as_text=True)
    assert "Between 0 and 100000" not in second.get_data(as_text=True)
