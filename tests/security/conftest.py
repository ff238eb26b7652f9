"""Fixtures of the security tests: the demo round under the signed-in clients, and a snapshot of every table to prove "nothing changed"."""

import pytest
from sqlalchemy import inspect

from engagement.extensions import db
from surveys.demo import load_demo
from surveys.invitations import token_for
from tests.conftest import HtmxClient, saved_database


@pytest.fixture
def demo(app):
    """The demo round: (round id, {organisation name: token}) with admin and analyst accounts."""
    def build():
        round_, invitations = load_demo()
        return round_.id, {inv.contact.organisation.name: token_for(inv) for inv in invitations}

    return saved_database(app, "demo", build)


@pytest.fixture
def tokens(demo):
    return list(demo[1].values())


@pytest.fixture
def admin(demo, admin):
    """tests/conftest.py's signed-in admin, over the demo round: what the security tests attack."""
    return admin


@pytest.fixture
def analyst(demo, analyst):
    """tests/conftest.py's signed-in analyst, over the demo round."""
    return analyst


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
