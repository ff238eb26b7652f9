"""Session cookies, renewal at sign-in, sign-out that ends the session, and production's refusal of a weak key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engagement.config import DEFAULT_SECRET_KEY, ConfigurationError
from engagement.extensions import db
from surveys.demo import DEMO_ADMIN, load_demo
from tests import factories
from tests.conftest import HtmxClient, _database_url, post_sign_in, start_survey
from wsgi import create_app

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 48


def set_cookie_of(response, name="session") -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no {name} cookie set: {response.headers.getlist('Set-Cookie')}")


@pytest.fixture
def production_app(tmp_path, monkeypatch):
    url, drop = _database_url(tmp_path)
    application = create_app({"PRODUCTION": True, "SECRET_KEY": STRONG_KEY, "SQLALCHEMY_DATABASE_URI": url,
                              "RATELIMIT_STORAGE_URI": f"sqlitefile://{tmp_path / 'limits.sqlite'}",
                              "RATELIMIT_ENABLED": False})
    with application.app_context():
        db.create_all()
        load_demo()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


def test_production_session_cookie_is_secure_httponly_and_lax(production_app):
    client = HtmxClient(production_app.test_client())
    response = post_sign_in(client, *DEMO_ADMIN, base_url="https://localhost")
    assert response.status_code == 303
    cookie = set_cookie_of(response).lower()
    assert "; secure" in cookie
    assert "; httponly" in cookie
    assert "samesite=lax" in cookie


def test_development_session_cookie_is_httponly_and_lax_without_secure(app, demo):
    client = HtmxClient(app.test_client())
    response = post_sign_in(client, *DEMO_ADMIN)
    cookie = set_cookie_of(response).lower()
    assert "; httponly" in cookie and "samesite=lax" in cookie
    assert "; secure" not in cookie  # plain http on a newcomer's laptop must still work


def test_a_partner_gets_no_cookie_until_the_session_holds_something_and_then_it_is_read(app):
    with app.app_context():
        factories.organisation(contacts=[("Ama", "ama@example.org", "en"), ("Kofi", "kofi@example.org", "en")])
        _round, tokens = factories.open_round_for(
            factories.survey_from_rows(factories.BILINGUAL, settings=factories.BILINGUAL_SETTINGS))
    first, second = tokens["ama@example.org"], tokens["kofi@example.org"]
    client = HtmxClient(app.test_client())
    page = client.get(start_survey(client, first))
    autosave = client.post(f"/s/{first}/answer/q", {"q": "x", "q__present": "1"}, htmx=True)
    assert page.status_code == autosave.status_code == 200
    assert page.headers.getlist("Set-Cookie") == [] and autosave.headers.getlist("Set-Cookie") == []
    # Before Start, a language chosen is kept in the session: the cookie is set, and read on the next page.
    client.get(f"/s/{second}")
    switched = client.post(f"/s/{second}/language", {"language": "fr"})
    assert "; httponly" in set_cookie_of(switched).lower()
    assert '<html lang="fr">' in client.get(f"/s/{second}").get_data(as_text=True)


def test_sign_in_starts_a_new_session(app, demo):
    client = HtmxClient(app.test_client())
    client.get("/sign-in")
    with client.client.session_transaction() as session:
        session["planted"] = "by someone who set this cookie beforehand"
    planted_cookie = client.client.get_cookie("session").value
    assert post_sign_in(client, *DEMO_ADMIN).status_code == 303
    with client.client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")
    assert client.client.get_cookie("session").value != planted_cookie


def test_sign_out_ends_the_session_and_an_old_cookie_no_longer_works(app, demo, admin):
    old_cookie = admin.client.get_cookie("session").value
    assert admin.post("/sign-out").status_code == 303
    assert admin.get("/secretariat/").status_code == 303
    thief = app.test_client()
    thief.set_cookie("session", old_cookie)
    stale = thief.get("/secretariat/")
    assert stale.status_code == 303 and "/sign-in" in stale.headers["Location"]


@pytest.mark.parametrize("key", [None, "", DEFAULT_SECRET_KEY, "short-key"])
def test_production_refuses_a_missing_default_or_short_secret_key(tmp_path, monkeypatch, key):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = {"PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"}
    if key is not None:
        config["SECRET_KEY"] = key
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(config)


def test_production_refuses_per_process_rate_limit_counters(tmp_path):
    with pytest.raises(ConfigurationError, match="RATELIMIT_STORAGE_URI is memory://"):
        create_app({"PRODUCTION": True, "SECRET_KEY": STRONG_KEY, "RATELIMIT_STORAGE_URI": "memory://"})


def test_production_starts_with_a_strong_key(tmp_path):
    application = create_app({"PRODUCTION": True, "SECRET_KEY": STRONG_KEY,
                              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    assert application.config["SESSION_COOKIE_SECURE"] is True
    assert application.config["RATELIMIT_STORAGE_URI"].startswith("sqlitefile://")


def test_the_flask_command_refuses_to_start_in_production_without_a_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "RATELIMIT_STORAGE_URI")}
    env.update(ENGAGEMENT_PRODUCTION="1", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite'}")
    done = subprocess.run([Path(sys.executable).parent / "flask", "--app", "wsgi", "routes"], check=False, cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "SECRET_KEY is missing or is the development default" in done.stderr + done.stdout
    assert "Endpoint" not in done.stdout
