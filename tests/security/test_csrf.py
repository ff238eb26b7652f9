"""CSRF on every state-changing request (partner and secretariat, htmx or not), and tokens that outlive a night."""

import time

import pytest
from itsdangerous.timed import TimestampSigner

from engagement.extensions import db
from partners.models import Contact, Organisation
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
                "version_id": 1}


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


def test_a_token_from_yesterday_still_saves(app, client, demo, monkeypatch):
    token = url_values(app, demo)["token"]
    with monkeypatch.context() as patch:
        _sign_tokens_yesterday(patch)
        started(app, client, token)  # the page was opened 25 hours ago
    saved = client.post(f"/s/{token}/answer/roles", {"roles": "gcg_member", "roles__present": "1"}, htmx=True)
    assert saved.status_code == 200
    assert "Saved" in saved.get_data(as_text=True)


def test_with_a_one_hour_limit_the_same_token_would_fail(app, client, demo, monkeypatch):
    """The control: the default Flask-WTF limit (3600 s) would lose the overnight partner's answer."""
    token = url_values(app, demo)["token"]
    with monkeypatch.context() as patch:
        _sign_tokens_yesterday(patch)
        started(app, client, token)
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    refused = client.post(f"/s/{token}/answer/roles", {"roles": "gcg_member", "roles__present": "1"}, htmx=True)
    assert refused.status_code == 400


def test_csrf_time_limit_is_off_in_the_configuration(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
