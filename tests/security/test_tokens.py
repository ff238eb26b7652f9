"""Invitation tokens: 256 bits, stored only as a hash, compared in constant time, never written to any log."""

import base64
import logging
import re
import shutil

import httpx
import pytest
from sqlalchemy import String, Text

from engagement.extensions import db
from engagement.logging import redact_path
from surveys import invitations as invitation_module
from surveys.invitations import find_invitation, hash_token
from tests.security import servers
from tests.security.conftest import started


def test_tokens_carry_at_least_128_bits(app, tokens):
    assert len(set(tokens)) == len(tokens) == 8
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128
        assert len(raw) == 32


def all_text_in_the_database(app) -> str:
    """Every text value of every table, joined: what a stolen copy of the database would show."""
    values = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
            if columns:
                for row in db.session.execute(db.select(*columns)):
                    values.extend(str(v) for v in row if v is not None)
    return "\n".join(values)


def test_the_database_never_holds_a_token(app, client, tokens):
    started(app, client, tokens[0])  # a response exists too
    stored = all_text_in_the_database(app)
    assert len(stored) > 1000
    for token in tokens:
        assert token not in stored
        assert token[:16] not in stored
        assert hash_token(token) in stored  # what is stored instead


def test_tokens_are_compared_in_constant_time(app, tokens, monkeypatch):
    calls = []
    real = invitation_module.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(invitation_module.hmac, "compare_digest", spy)
    with app.app_context():
        assert find_invitation(tokens[0]) is not None
        assert calls and calls[-1][1] == hash_token(tokens[0])
        count = len(calls)
        assert find_invitation("A" * 43) is None
        assert find_invitation(tokens[0][:-1] + ("A" if tokens[0][-1] != "A" else "B")) is None
    assert len(calls) >= count  # the comparison never falls back to ==


@pytest.mark.parametrize("bad", ["", "x", "A" * 42, "A" * 44, "A" * 42 + "/", "A" * 42 + "%", "' OR 1=1 --" + "A" * 32])
def test_malformed_tokens_open_nothing(app, client, bad):
    with app.app_context():
        assert find_invitation(bad) is None
    if bad.isalnum():
        assert client.get(f"/s/{bad}").status_code == 404


def partner_session(get, post, token):
    """What a partner does: open, start, save, change page, a bad save, review."""
    page = get(f"/s/{token}").text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    headers = {"X-CSRFToken": csrf}
    post(f"/s/{token}/start", headers=headers)
    post(f"/s/{token}/answer/roles", data={"roles": "gcg_member", "roles__present": "1"},
         headers={**headers, "HX-Request": "true"})
    post(f"/s/{token}/answer/no_such_question", data={"x": "1"}, headers={**headers, "HX-Request": "true"})
    post(f"/s/{token}/answer/roles", data={"roles": "x"})  # no CSRF token: refused early
    get(f"/s/{token}/page/engagement")
    get(f"/s/{token}/review")


def test_the_development_server_logs_no_token(app, tokens, live_server, caplog):
    app.config["REQUEST_LOG"] = True
    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=live_server) as http:
        partner_session(http.get, http.post, tokens[0])
    # Everything the server side logged (the test's own HTTP client, httpx, prints its URLs and is left out).
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert "engagement.requests" in {r.name for r in server_side}
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in server_side)
    assert tokens[0] not in logged
    assert tokens[0][:12] not in logged


@pytest.mark.slow
def test_gunicorn_logs_no_token(tmp_path, tmp_path_factory):
    database = servers.demo_database(tmp_path_factory.mktemp("demo"))
    copy = tmp_path / "app.sqlite"
    shutil.copy(database, copy)
    from wsgi import create_app

    application = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}", "SECRET_KEY": "s" * 48})
    with application.app_context():
        from surveys.invitations import token_for
        from surveys.models import Invitation
        token = token_for(db.session.scalars(db.select(Invitation)).first())
        db.engine.dispose()
    output = tmp_path / "gunicorn.log"
    # The project's gunicorn.conf.py, with gunicorn's debug logging on: still nothing prints the link.
    with servers.gunicorn(copy, output, {"RATELIMIT_STORAGE_URI": "memory://"},
                          ["-w", "2", "--log-level", "debug"]) as base, httpx.Client(base_url=base) as http:
        partner_session(http.get, http.post, token)
    logged = output.read_text()
    assert '"path": "/s/<token>' in logged  # the structured request log ran
    assert token not in logged
    assert token[:12] not in logged


@pytest.mark.parametrize("path", ["/accept-invitation/", "/reset-password/"])
def test_the_links_mailed_to_staff_are_redacted_too(path):
    token = "Q" * 43
    for text in (f"{path}{token}", f"GET {path}{token}?x=1 HTTP/1.1", f"Exception on {path}{token} [POST]"):
        redacted = redact_path(text)
        assert token not in redacted and f"{path}<token>" in redacted
