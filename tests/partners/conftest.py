"""Signed-in clients for the registry's tests, and CSV text as people write it."""

import pytest

from tests.factories import user

HEADER = "organisation,category,country,pathfinder,action_groups,gcg_member,contact_name,contact_email,language"


def csv_bytes(*rows: str, header: str = HEADER, newline: str = "\n", bom: bool = False) -> bytes:
    text = newline.join([header, *rows]) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def sign_in(client, email, password):
    client.get("/sign-in")
    response = client.post("/sign-in", {"email": email, "password": password})
    assert response.status_code == 303
    client.get("/partners/")  # the session was renewed at sign-in: pick up its CSRF token
    return client


@pytest.fixture
def admin(app, client):
    with app.app_context():
        user("admin@example.org", "admin", "correct horse battery")
    return sign_in(client, "admin@example.org", "correct horse battery")


@pytest.fixture
def analyst(app, client):
    with app.app_context():
        user("analyst@example.org", "analyst", "analyst horse battery")
    return sign_in(client, "analyst@example.org", "analyst horse battery")
