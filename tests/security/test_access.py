"""Access: every secretariat URL needs sign-in and the right role; a partner's link opens only their own answers."""

import pytest
from werkzeug.routing import IntegerConverter

from engagement.extensions import db
from partners.models import Contact, Organisation
from surveys.invitations import form_token, hash_token
from surveys.models import Answer, Invitation, Response
from tests.conftest import HtmxClient
from tests.security.conftest import snapshot, started

PARTNER_PREFIX = "/s/"
# The personal links are credentials: only admins may download them.
ADMIN_ONLY_READS = {"/secretariat/rounds/<int:round_id>/invitations.csv"}
OPEN_TO_ALL = {"/sign-in", "/sign-out", "/healthz", "/static/<path:filename>", "/forgot-password",
               "/accept-invitation/<token>", "/reset-password/<token>"}
# Every staff member, analysts too, changes their own password and previews a survey as a partner
# (previews are kept apart from real answers; mailing a test link stays an admin's action, tested with previews).
# Analysts code the open answers and keep the codebook, and write the report's key findings (issue 15): the text
# and the codes only, never an answer, a figure or a round.
OPEN_TO_EVERY_ROLE = {"/secretariat/account", "/secretariat/previews/new",
                      "/secretariat/rounds/<int:round_id>/coding/<question>/comments/<int:response_id>",
                      "/secretariat/rounds/<int:round_id>/coding/<question>/themes",
                      "/secretariat/rounds/<int:round_id>/coding/<question>/themes/<int:theme_id>",
                      "/secretariat/rounds/<int:round_id>/coding/<question>/themes/<int:theme_id>/delete",
                      "/secretariat/rounds/<int:round_id>/report/key-findings"}


def secretariat_rules(app, method):
    rules = [r for r in app.url_map.iter_rules() if method in r.methods
             and not r.rule.startswith(PARTNER_PREFIX) and r.rule not in OPEN_TO_ALL]
    assert len(rules) >= 10
    return rules


def real_values(app, demo) -> dict:
    with app.app_context():
        organisation = db.session.scalar(db.select(Organisation).order_by(Organisation.id))
        contact = db.session.scalar(db.select(Contact).filter_by(organisation_id=organisation.id))
        return {"organisation_id": organisation.id, "contact_id": contact.id, "round_id": demo[0], "version_id": 1}


def build(rule, values):
    """The rule's URL with real ids where known, and a plausible value for any other argument."""
    filled = {}
    for name in rule.arguments:
        numeric = isinstance(rule._converters[name], IntegerConverter)
        filled[name] = values.get(name, 1 if numeric else "x")
    return rule.build(filled, append_unknown=False)[1]


def test_every_secretariat_url_sends_anonymous_visitors_to_sign_in(app, demo):
    client = HtmxClient(app.test_client())
    values = real_values(app, demo)
    for method in ("GET", "POST"):
        for rule in secretariat_rules(app, method):
            url = build(rule, values)
            client.get("/sign-in")  # a CSRF token, so only sign-in stands in the way
            response = client.get(url) if method == "GET" else client.post(url, {"name": "x"})
            assert response.status_code in (302, 303), (method, url, response.status_code)
            assert "/sign-in" in response.headers["Location"], url
            fragment = (client.get(url, headers={"HX-Request": "true"}) if method == "GET"
                        else client.post(url, {"name": "x"}, htmx=True))
            assert fragment.status_code == 204, (method, url)
            assert fragment.headers["HX-Redirect"].startswith("/sign-in"), url


def test_an_analyst_cannot_change_anything_nor_download_the_links(app, analyst, demo):
    values = real_values(app, demo)
    for rule in secretariat_rules(app, "GET"):
        response = analyst.get(build(rule, values))
        response.get_data()
        if rule.rule in ADMIN_ONLY_READS:
            assert response.status_code == 403, rule.rule
        assert response.status_code < 500, rule.rule  # reading pages is allowed (some are admin-only)
    before = snapshot(app)
    for rule in secretariat_rules(app, "POST"):
        if rule.rule in OPEN_TO_EVERY_ROLE:
            continue
        url = build(rule, values)
        body = {"name": "Changed by analyst", "category": "un", "email": "a@example.org", "closes_on": "2099-01-01"}
        assert analyst.post(url, body).status_code == 403, url
        assert analyst.post(url, body, htmx=True).status_code == 403, url
    assert snapshot(app) == before


def test_the_same_changes_go_through_for_an_admin(app, admin, demo):
    """The control of the analyst test: an admin's identical request does change the registry."""
    values = real_values(app, demo)
    before = snapshot(app)
    response = admin.post(f"/partners/{values['organisation_id']}/deactivate")
    assert response.status_code == 303
    assert snapshot(app) != before


@pytest.fixture
def two_partners(app, client, tokens):
    """Partner A has started; B has started and saved an answer; returns the tokens and B's response id."""
    token_a, token_b = tokens[0], tokens[1]
    other = HtmxClient(app.test_client())
    started(app, other, token_b)
    saved = other.post(f"/s/{token_b}/answer/one_change", {"one_change": "B's private answer"}, htmx=True)
    assert saved.status_code == 200
    started(app, client, token_a)
    with app.app_context():
        response_b = db.session.scalar(db.select(Response).join(Invitation).where(
            Invitation.token_hash == hash_token(token_b)))
        return token_a, token_b, response_b.id


def answers_of(app, response_id):
    with app.app_context():
        return {a.question: a.value for a in db.session.scalars(db.select(Answer).filter_by(response_id=response_id))}


def test_a_partner_sees_only_their_own_answers(app, client, two_partners):
    token_a, _token_b, _response_b = two_partners
    for url in (f"/s/{token_a}/page/engagement", f"/s/{token_a}/review", f"/s/{token_a}/page/overall"):
        page = client.get(url)
        assert "B&#39;s private answer" not in page.get_data(as_text=True)
        assert "B's private answer" not in page.get_data(as_text=True)


def test_a_partner_cannot_write_into_another_response(app, client, two_partners):
    token_a, _token_b, response_b = two_partners
    before_b = answers_of(app, response_b)
    attempts = [
        client.post(f"/s/{token_a}/answer/one_change", {"one_change": "A writes", "response_id": str(response_b),
                                                        "invitation_id": "2"}, htmx=True),
        client.post(f"/s/{token_a}/page/overall", {"one_change": "A writes", "response_id": str(response_b),
                                                   "action": "save"}),
    ]
    assert all(r.status_code < 500 for r in attempts)
    assert answers_of(app, response_b) == before_b
    # A's own response holds A's answer: the token alone decides whose answers change.
    with app.app_context():
        own = db.session.scalars(db.select(Answer).filter_by(question="one_change", value="A writes")).all()
        assert own and all(a.response_id != response_b for a in own)


def test_session_of_one_partner_does_not_open_another_link(app, client, two_partners):
    """The browser session carries nothing that opens a response: a forged link with A's cookies is 404."""
    _token_a, token_b, _response_b = two_partners
    forged = token_b[:-2] + ("AA" if token_b[-2:] != "AA" else "BB")
    assert client.get(f"/s/{forged}").status_code == 404
    # A's page's form token belongs to A's link: refused before any look-up.
    assert client.post(f"/s/{forged}/answer/one_change", {"one_change": "x"}, htmx=True).status_code == 400
    # Even with the form token the server would give the forged link, there is no such invitation.
    with app.test_request_context():
        client.csrf = form_token(forged)
    assert client.post(f"/s/{forged}/answer/one_change", {"one_change": "x"}, htmx=True).status_code == 404
