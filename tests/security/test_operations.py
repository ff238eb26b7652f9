"""Operations: the health check, structured request logs without tokens or answers, `flask db backup`, and a
gunicorn that will not start on a port already served."""

import json
import logging
import os
import socket
import sqlite3
import subprocess

import pytest

from engagement.extensions import db
from surveys.models import Answer, Invitation
from tests.security.conftest import started
from tests.security.servers import BIN, ROOT
from wsgi import create_app


def test_healthz_is_200_when_the_database_answers(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.parametrize("url", [
    "sqlite:////nonexistent-folder/for/sure/engagement.sqlite",
    "postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=2",
])
def test_healthz_is_503_when_the_database_is_unreachable(url):
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    response = application.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "database unreachable"}
    assert "nonexistent" not in response.get_data(as_text=True)  # no connection details leak
    with application.app_context():
        db.engine.dispose()


def request_log(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "engagement.requests"]


def test_request_log_is_json_with_a_request_id_and_no_token_or_answer(app, client, demo, caplog):
    app.config["REQUEST_LOG"] = True
    token = next(iter(demo[1].values()))
    secret_answer = "Our confidential opinion 7f3a"
    caplog.set_level(logging.DEBUG)
    started(app, client, token)
    saved = client.post(f"/s/{token}/answer/one_change",
                        {"one_change": secret_answer}, htmx=True)
    assert saved.status_code in (200, 422)
    client.get(f"/s/{token}/page/profile?from=/s/{token}/review")
    client.post(f"/s/{token}/start", csrf=False)  # refused by CSRF before the request's own hooks ran
    entries = request_log(caplog)
    assert len(entries) >= 5
    for entry in entries:
        assert set(entry) >= {"request_id", "method", "path", "status", "ms"}
        assert entry["request_id"] and len(entry["request_id"]) == 16
    assert {e["status"] for e in entries} >= {200, 303, 400}
    assert len({e["request_id"] for e in entries}) == len(entries)
    everything = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert token not in everything
    assert token[:12] not in everything
    assert secret_answer not in everything
    assert any(e["path"].startswith("/s/<token>/") for e in entries)


def test_the_request_id_is_returned_and_a_proxy_id_is_kept_when_plain(app, client):
    own = client.get("/healthz")
    assert len(own.headers["X-Request-Id"]) == 16
    kept = client.get("/healthz", headers={"X-Request-Id": "proxy-abc.123"})
    assert kept.headers["X-Request-Id"] == "proxy-abc.123"
    forged = client.get("/healthz", headers={"X-Request-Id": "a b /s/" + "T" * 43})
    assert forged.headers["X-Request-Id"] != "a b /s/" + "T" * 43


def test_a_server_error_on_a_partner_page_logs_no_token(app, client, demo, caplog, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    token = next(iter(demo[1].values()))
    started(app, client, token)
    caplog.set_level(logging.DEBUG)

    def broken(*args, **kwargs):
        raise RuntimeError(f"failure while reading /s/{token}/review")

    monkeypatch.setattr("surveys.routes.answer_store.missing_required", broken)
    response = client.get(f"/s/{token}/review")
    assert response.status_code == 500
    logged = caplog.text
    assert "Exception on /s/<token>/review" in logged
    assert token not in logged


def test_backup_copies_a_sqlite_database_that_can_be_opened(app, runner, demo, tmp_path):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'b.sqlite'}"})
        with app.app_context():
            db.create_all()
            from surveys.demo import load_demo
            load_demo()
        runner = app.test_cli_runner()
    with app.app_context():
        invitations = db.session.scalar(db.select(db.func.count()).select_from(Invitation))
        answers = db.session.scalar(db.select(db.func.count()).select_from(Answer))
    target = tmp_path / "backup.sqlite"
    result = runner.invoke(args=["db", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM invitations").fetchone()[0] == invitations == 8
    assert copy.execute("SELECT count(*) FROM answers").fetchone()[0] == answers
    copy.close()
    again = runner.invoke(args=["db", "backup", str(target)])
    assert again.exit_code != 0 and "exists already" in again.output
    with app.app_context():  # the SQLite app made above on PostgreSQL runs: its writers' lock file closes with it
        db.engine.dispose()


def test_backup_refuses_postgresql_and_points_to_pg_dump(tmp_path):
    application = create_app({"TESTING": True,
                              "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/nothing"})
    result = application.test_cli_runner().invoke(args=["db", "backup", str(tmp_path / "x.sqlite")])
    assert result.exit_code != 0
    assert "pg_dump" in result.output
    assert not (tmp_path / "x.sqlite").exists()


@pytest.mark.slow
def test_a_second_gunicorn_on_a_served_port_refuses_to_start(tmp_path):
    """gunicorn.conf.py gives each worker its own SO_REUSEPORT socket, so a second server on the same port (a
    forgotten `make demo` on another database) would quietly share its connections: its on_starting refuses."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite'}", "SECRET_KEY": "s" * 48}
    with socket.socket() as first:  # listening as a gunicorn worker does, so a second bind would succeed
        first.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        first.bind(("127.0.0.1", 0))
        first.listen()
        port = first.getsockname()[1]
        second = subprocess.run([BIN / "gunicorn", "--bind", f"127.0.0.1:{port}", "wsgi:app"], check=False, cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode != 0
    assert f"Something already listens on 127.0.0.1:{port}" in second.stdout + second.stderr
