"""Fixtures of the security tests: the demo round, signed-in clients, and a snapshot of every table to prove "nothing changed"."""

import pytest
from sqlalchemy import inspect

from engagement.extensions import db
from surveys.demo import DEMO_ADMIN, DEMO_ANALYST, load_demo
from surveys.invitations import token_for
from tests.conftest import HtmxClient


def sign_in(client: HtmxClient, email: str, password: str) -> HtmxClient:
    client.get("/sign-in")
    response = client.post("/sign-in", {"email": email, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    client.get("/secretariat/")  # the session was renewed at sign-in: pick up its CSRF token
    return client


@pytest.fixture
def demo(app):
    """The demo round: (round id, {organisation name: token}) with admin and analyst accounts."""
    with app.app_context():
        round_, invitations = load_demo()
        return round_.id, {inv.contact.organisation.name: token_for(inv) for inv in invitations}


@pytest.fixture
def tokens(demo):
    return list(demo[1].values())


@pytest.fixture
def admin(app, demo):
    return sign_in(HtmxClient(app.test_client()), *DEMO_ADMIN)


@pytest.fixture
def analyst(app, demo):
    return sign_in(HtmxClient(app.test_client()), *DEMO_ANALYST)


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: equal snapshots mean the request changed nothing."""
    with app.app_context():
        tables = {}
        for table in sorted(db.metadata.sorted_tables, key=lambda t: t.name):
            if not inspect(db.engine).has_table(table.name):
                continue
            rows = db.session.execute(db.select(table)).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
        db.session.remove()
        return tables


def started(app, client: HtmxClient, token: str) -> HtmxClient:
    """A partner who opened the link and pressed Start (the response exists, the CSRF token is known)."""
    client.get(f"/s/{token}")
    response = client.post(f"/s/{token}/start")
    assert response.status_code == 303, response.status_code
    client.get(response.headers["Location"])
    return client
