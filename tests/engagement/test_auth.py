"""Sign-in, sign-out and roles: who may read and who may change the Secretariat's pages."""

import re

from werkzeug.routing import IntegerConverter

from engagement.extensions import db
from engagement.models import User
from tests.conftest import ADMIN, post_sign_in

# The pages behind the links mailed to staff, and "Forgot your password?", are open to anyone.
ACCOUNT_LINKS = ("accounts.forgot_password", "accounts.accept_invitation", "accounts.reset_password")


def secretariat_rules(app, methods):
    """Every secretariat URL rule: all of them but the partner's /s/ pages, sign-in and the pages behind mailed
    links, static files and health."""
    found = []
    for rule in app.url_map.iter_rules():
        public = (rule.endpoint in ("static", "healthz", *ACCOUNT_LINKS) or rule.endpoint.startswith("auth.")
                  or rule.rule.startswith("/s/"))
        if not public and rule.methods & set(methods):
            found.append(rule)
    return found


def build(rule) -> str:
    values = {}
    for name in rule.arguments:
        values[name] = 1 if isinstance(rule._converters[name], IntegerConverter) else "x"
    return rule.build(values, append_unknown=False)[1]


def test_sign_in_page_and_wrong_password(client, accounts):
    page = client.get("/sign-in")
    assert page.status_code == 200
    assert 'name="password"' in page.get_data(as_text=True)
    wrong = client.post("/sign-in", {"email": ADMIN[0], "password": "not the password"})
    assert wrong.status_code == 422
    assert "Email or password is not correct." in wrong.get_data(as_text=True)
    unknown = client.post("/sign-in", {"email": "nobody@example.org", "password": "not the password"})
    assert "Email or password is not correct." in unknown.get_data(as_text=True)
    not_an_email = client.post("/sign-in", {"email": "nobody", "password": "x"})
    assert not_an_email.status_code == 422
    assert client.get("/partners/").status_code == 303


def test_sign_in_renews_the_session_and_sign_out_kills_old_cookies(app, client, accounts):
    client.get("/sign-in")
    before = client.client.get_cookie("session").value
    response = client.post("/sign-in", {"email": ADMIN[0].upper(), "password": ADMIN[1]})
    assert response.status_code == 303
    signed_in = client.client.get_cookie("session").value
    assert signed_in != before
    assert client.get("/partners/").status_code == 200

    client.post("/sign-out")
    assert client.get("/partners/").status_code == 303
    # A copy of the cookie taken while signed in no longer opens anything.
    client.client.set_cookie("session", signed_in)
    stale = client.get("/partners/")
    assert stale.status_code == 303
    assert "/sign-in" in stale.headers["Location"]


def test_sign_in_returns_to_the_page_asked_for_and_not_elsewhere(client, accounts):
    first = client.get("/partners/?q=ghana")
    assert first.status_code == 303
    target = first.headers["Location"]
    assert "next=" in target
    client.get(target)
    back = client.post(target, {"email": ADMIN[0], "password": ADMIN[1]})
    assert back.headers["Location"].endswith("/partners/?q=ghana")

    client.post("/sign-out")
    client.get("/sign-in?next=//evil.example/")
    away = client.post("/sign-in?next=//evil.example/", {"email": ADMIN[0], "password": ADMIN[1]})
    assert "evil.example" not in away.headers["Location"]


def test_htmx_sign_in_answers_with_hx_redirect(client, accounts):
    response = post_sign_in(client, *ADMIN, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/secretariat")


def test_inactive_account_cannot_sign_in(app, client, accounts):
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(email=ADMIN[0])).active = False
        db.session.commit()
    response = post_sign_in(client, *ADMIN)
    assert response.status_code == 422


def test_anonymous_get_of_every_secretariat_url_goes_to_sign_in(app, client):
    rules = secretariat_rules(app, ["GET"])
    assert {"partners", "analysis", "surveys"} <= {rule.endpoint.split(".")[0] for rule in rules}
    for rule in rules:
        url = build(rule)
        page = client.get(url)
        assert page.status_code in (302, 303), url
        assert "/sign-in" in page.headers["Location"], url
        fragment = client.get(url, headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/partners/"})
        assert fragment.status_code == 204, url
        assert fragment.headers["HX-Redirect"].startswith("/sign-in"), url
        assert "next=/partners/" in fragment.headers["HX-Redirect"]
        assert fragment.get_data() == b""


def test_expired_session_htmx_post_is_sent_to_sign_in(app, admin):
    admin.get("/partners/")
    # Signed out elsewhere (or the password was reset): this browser's cookie still has its CSRF token.
    with app.app_context():
        account = db.session.scalar(db.select(User).filter_by(email=ADMIN[0]))
        account.session_nonce = "changed"
        db.session.commit()
    response = admin.post("/partners/new", {"name": "X"}, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/sign-in")


def test_page_left_open_after_sign_out_elsewhere_is_sent_to_sign_in(admin):
    admin.get("/partners/")
    token = admin.csrf
    admin.post("/sign-out")  # in another tab of the same browser
    admin.csrf = token
    response = admin.post("/partners/new", {"name": "X"}, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/sign-in")
    assert admin.get("/partners/").status_code == 303


# Pages every staff member uses in full: their own account, a preview, which changes nothing of a round (mailing
# a test link is refused to analysts: tests/surveys/test_previews.py), and the analysts' own work on a round's
# analysis: coding the open answers and writing the key findings (issue 15).
EVERY_ROLE = {"accounts.account", "previews.new_preview", "coding.code_comment", "coding.add_theme",
              "coding.edit_theme", "coding.remove_theme", "findings.edit_key_findings"}


def test_analyst_reads_but_every_post_is_refused(app, analyst):
    assert analyst.get("/partners/").status_code == 200
    rules = [rule for rule in secretariat_rules(app, ["POST"]) if rule.endpoint not in EVERY_ROLE]
    assert rules
    for rule in rules:
        url = build(rule)
        assert analyst.post(url, {"name": "changed"}).status_code == 403, url
        refused = analyst.post(url, {"name": "changed"}, htmx=True)
        assert refused.status_code == 403, url
        assert re.search(r'id="error-message"', refused.get_data(as_text=True)), url


def test_sign_out_needs_csrf(admin):
    response = admin.post("/sign-out", csrf=False)
    assert response.status_code == 400
    assert admin.get("/partners/").status_code == 200
