"""Partners with the same answers on a page share its rendering: each still gets their own link and CSRF token,
never another partner's, never another partner's answers, and exactly the HTML a fresh render would give."""

import re
from pathlib import Path

import pytest

from engagement.htmx import RenderCache
from surveys.routes import rendered
from tests import factories
from tests.conftest import HtmxClient

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


def page(partner, name):
    client, token = partner
    response = client.get(f"/s/{token}/page/{name}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def fresh(app, partner, name):
    """The page rendered with nothing cached."""
    rendered_pages(app).clear()
    return page(partner, name)


def rendered_pages(app) -> RenderCache:
    with app.test_request_context():
        return rendered()


def without_csrf(html: str) -> str:
    return CSRF.sub(r"\1CSRF\"", html)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("name", ["first", "second", "third"])
def test_a_shared_page_is_the_fresh_page_with_the_partners_own_link_and_token(app, partners, name, language):
    ama, rosa = partners["ama"], partners["rosa"]
    for client, token in (ama, rosa):
        client.post(f"/s/{token}/language", {"language": language})
    page(ama, name)  # rendered and kept
    shared = page(rosa, name)
    assert rosa[1] in shared and ama[1] not in shared
    assert CSRF.search(shared).group(2) == rosa[0].csrf  # the token of Rosa's own session, put back
    assert without_csrf(shared) == without_csrf(fresh(app, rosa, name))


def test_a_partner_never_sees_another_partners_answers(app, partners):
    (ama, ama_token), rosa = partners["ama"], partners["rosa"]
    answer = "Evidence <b>matters</b> to us"
    ama.post(f"/s/{ama_token}/answer/member", {"member": "yes", "member__present": "1"}, htmx=True)
    ama.post(f"/s/{ama_token}/answer/why_member", {"why_member": answer, "why_member__present": "1"}, htmx=True)
    mine = page(partners["ama"], "first")
    theirs = page(rosa, "first")
    assert "Evidence &lt;b&gt;matters&lt;/b&gt; to us" in mine
    assert "matters" not in theirs
    assert 'value="yes" checked' in mine and 'value="yes" checked' not in theirs
    assert without_csrf(theirs) == without_csrf(fresh(app, rosa, "first"))
    assert without_csrf(mine) == without_csrf(fresh(app, partners["ama"], "first"))


def test_an_answer_that_contains_a_link_is_shown_as_typed(app, partners):
    """Rosa pastes Ama's link into an answer: her page shows what she typed, not her own link in its place."""
    (ama, ama_token), (rosa, rosa_token) = partners["ama"], partners["rosa"]
    for client, token in ((ama, ama_token), (rosa, rosa_token)):
        client.post(f"/s/{token}/answer/member", {"member": "yes", "member__present": "1"}, htmx=True)
    pasted = f"See /s/{ama_token}/page/first"
    for client, token in ((ama, ama_token), (rosa, rosa_token)):
        saved = client.post(f"/s/{token}/answer/why_member", {"why_member": pasted, "why_member__present": "1"},
                            htmx=True)
        assert saved.status_code == 200
    page(partners["ama"], "first")
    html = page(partners["rosa"], "first")
    assert f'value="{pasted}"' in html
    assert f"/s/{rosa_token}/answer/" in html
    assert without_csrf(html) == without_csrf(fresh(app, partners["rosa"], "first"))


def test_a_shared_autosave_reply_is_the_fresh_one_with_the_partners_link(app, partners):
    """Answering "yes" shows the follow-up question, whose autosave URL carries the partner's own link."""
    (ama, ama_token), (rosa, rosa_token) = partners["ama"], partners["rosa"]

    def say_yes(client, token):
        reply = client.post(f"/s/{token}/answer/member", {"member": "yes", "member__present": "1"}, htmx=True)
        assert reply.status_code == 200
        return reply.get_data(as_text=True)

    say_yes(ama, ama_token)
    shared = say_yes(rosa, rosa_token)
    assert 'id="q-why_member"' in shared and f"/s/{rosa_token}/answer/why_member" in shared
    assert ama_token not in shared
    rosa.post(f"/s/{rosa_token}/answer/member", {"member": "no", "member__present": "1"}, htmx=True)
    rendered_pages(app).clear()
    assert say_yes(rosa, rosa_token) == shared


def test_errors_are_not_shared_between_different_mistakes(app, partners):
    (ama, ama_token), (rosa, rosa_token) = partners["ama"], partners["rosa"]
    first = ama.post(f"/s/{ama_token}/answer/staff", {"staff": "-5", "staff__present": "1"}, htmx=True)
    second = rosa.post(f"/s/{rosa_token}/answer/staff", {"staff": "many", "staff__present": "1"}, htmx=True)
    assert first.status_code == second.status_code == 422
    assert "Between 0 and 100000" in first.get_data(as_text=True)
    assert "Between 0 and 100000" not in second.get_data(as_text=True)


def test_the_cache_keeps_only_the_most_recent_renderings():
    cache = RenderCache(size=2)
    for number in range(3):
        cache.put(number, f"<a href='/s/SECRET/{number}'>", ["SECRET"])
    assert cache.get(0, ["mine"]) is None
    assert cache.get(2, ["mine"]) == "<a href='/s/mine/2'>"
    assert cache.get(1, ["mine"]) == "<a href='/s/mine/1'>"


def test_the_cache_refuses_html_whose_content_holds_a_secret():
    cache = RenderCache()
    cache.put("key", "<p>SECRET</p><a href='/s/SECRET'>", ["SECRET"], content=["SECRET"])
    assert cache.get("key", ["mine"]) is None


def test_a_cache_of_size_zero_keeps_nothing():
    cache = RenderCache(size=0)
    cache.put("key", "<p>page</p>", ["SECRET"])
    assert cache.get("key", ["mine"]) is None
