"""CSRF on every state-changing request (partner and secretariat, htmx or not), and tokens that outlive a night."""

import time

import pytest
from itsdangerous.timed import TimestampSigner

from engagement.extensions import db
from engagement.models import User
from partners.models import Contact, Organisation
from surveys.models import Invitation
from tests.conftest import HtmxClient, signed_in
from tests.security.conftest import snapshot, started


def post_rules(app):
    rules = [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]
    assert len(rules) >= 20, [r.rule for r in rules]
    return rules


def url_values(app, demo) -> dict:
    """Real values for every URL argument, so that without CSRF the request would reach its view and act."""
    round_id, tokens = demo
    with app.app_context():
        organisation = db.session.scalar(db.select(Organisation).order_by(Organisation.id))
        contact = db.session.scalar(db.select(Contact).filter_by(organisation_id=organisation.id))
        return {"token": next(iter(tokens.values())), "name": "profile", "question_name": "roles",
                "organisation_id": organisation.id, "contact_id": contact.id, "round_id": round_id,
                "version_id": 1, "user_id": db.session.scalar(db.select(User.id).order_by(User.id)), "link_id": 1,
                "kind": "invitation", "language": "en", "question": "one_change", "response_id": 1, "theme_id": 1,
                "invitation_id": db.session.scalar(db.select(Invitation.id).order_by(Invitation.id))}


# Plausible bodies: what a forged form would carry to change something.
FORGED = {"roles": "gcg_member", "roles__present": "1", "name": "Forged organisation", "category": "un",
          "email": "forged@example.org", "password": "demo-admin-2026", "language": "fr", "action": "next",
          "contact_name": "Forged", "contact_email": "forged@example.org", "closes_on": "2099-01-01"}


def forge_every_post(app, client, demo, htmx):
    values = url_values(app, demo)
    refused = []
    for rule in post_rules(app):
        url = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
        response = client.post(url, FORGED, csrf=False, htmx=htmx)
        refused.append((rule.rule, response.status_code, response.get_data(as_text=True)))
    return refused


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_every_post_without_a_token_is_refused_and_changes_nothing(app, admin, demo, htmx):
    started(app, admin, url_values(app, demo)["token"])  # signed in and mid-survey: the most a forger could use
    before = snapshot(app)
    for rule, status, body in forge_every_post(app, admin, demo, htmx):
        assert status == 400, (rule, status)
        assert "This form has expired or was sent from elsewhere" in body, rule
    assert snapshot(app) == before


def test_a_wrong_token_is_refused_too(app, admin, demo):
    token = url_values(app, demo)["token"]
    started(app, admin, token)
    before = snapshot(app)
    response = admin.post(f"/s/{token}/answer/roles", FORGED, headers={"X-CSRFToken": "forged"}, csrf=False)
    assert response.status_code == 400
    assert admin.post("/partners/new", {**FORGED, "csrf_token": "forged"}, csrf=False).status_code == 400
    assert snapshot(app) == before


def test_the_same_forgeries_would_change_the_database_without_csrf(app, admin, demo):
    """The control of the test above: with CSRF off, the forged requests do act, so the 400s above are CSRF's."""
    started(app, admin, url_values(app, demo)["token"])
    before = snapshot(app)
    app.config["WTF_CSRF_ENABLED"] = False
    results = forge_every_post(app, admin, demo, htmx=False)
    assert any(status != 400 for _rule, status, _body in results)
    assert snapshot(app) != before


def _sign_tokens_yesterday(monkeypatch):
    yesterday = int(time.time()) - 25 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: yesterday)


def test_a_partner_page_opened_yesterday_still_saves_under_a_one_hour_token_limit(app, client, demo, monkeypatch):
    """A partner's form token is bound to the link, not to a session or a time: even under Flask-WTF's default
    one-hour limit (which session-bound tokens would meet), a page opened 25 hours ago saves."""
    token = url_values(app, demo)["token"]
    with monkeypatch.context() as patch:
        _sign_tokens_yesterday(patch)
        started(app, client, token)  # the page was opened 25 hours ago
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    saved = client.post(f"/s/{token}/answer/roles", {"roles": "gcg_member", "roles__present": "1"}, htmx=True)
    assert saved.status_code == 200
    assert "Saved" in saved.get_data(as_text=True)


def test_a_partner_page_sets_no_cookie_and_its_token_opens_no_other_link(app, client, demo):
    """No session is needed to answer; the token of one link's page is refused on another link."""
    tokens = list(demo[1].values())
    started(app, client, tokens[0])
    assert client.client.get_cookie("session") is None
    before = snapshot(app)
    started_elsewhere = client.post(f"/s/{tokens[1]}/start", {})  # the client still holds the first page's token
    assert started_elsewhere.status_code == 400
    assert snapshot(app) == before


def _new_organisation(admin, name: str):
    return admin.post("/partners/new", {"name": name, "category": "civil_society", "country": "Ghana",
                                        "contact_name": "Ama", "contact_email": f"{name.lower()}@example.org",
                                        "contact_language": "en"})


def _form_opened_yesterday(app, monkeypatch) -> HtmxClient:
    """The Secretariat's "new organisation" form, signed in and opened 25 hours ago."""
    with monkeypatch.context() as patch:
        _sign_tokens_yesterday(patch)
        admin = signed_in(HtmxClient(app.test_client()), "admin")
        assert admin.get("/partners/new").status_code == 200
    return admin


def test_a_secretariat_form_opened_yesterday_still_posts(app, demo, monkeypatch):
    assert _new_organisation(_form_opened_yesterday(app, monkeypatch), "Overnight").status_code == 303


def test_with_a_one_hour_limit_the_same_secretariat_form_would_fail(app, demo, monkeypatch):
    """The control: the default Flask-WTF limit (3600 s) would refuse the form left open overnight."""
    admin = _form_opened_yesterday(app, monkeypatch)
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    assert _new_organisation(admin, "Overnight").status_code == 400


def test_csrf_time_limit_is_off_in_the_configuration(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
