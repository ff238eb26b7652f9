"""Redirects that follow a `next` the visitor chose: only to a page of this site, and never a server error.

Browsers drop tabs and line breaks inside a URL and read a backslash as a slash, so "/<tab>/evil.example" is
"//evil.example", another site; Werkzeug refuses a line break in a header, which was a 500.
"""

from urllib.parse import quote

import pytest

from tests.conftest import ADMIN
from tests.sending import confirm_and_send, confirmation_fields

HOSTILE = {
    "tab": "/%09/evil.example",
    "newline": "/%0a/evil.example",
    "carriage-return": "/%0d/evil.example",
    "header-injection": "/%0d%0aSet-Cookie:%20planted=1",
    "nul": "/%00/evil.example",
    "delete": "/%7f/evil.example",
    "c1-control": "/%c2%85/evil.example",
    "two-slashes": "//evil.example/",
    "backslash": "/%5cevil.example",
    "slash-backslash": "/%5c/evil.example",
    "scheme": "https://evil.example/",
    "scheme-relative-after-space": "%20//evil.example",
    "javascript": "javascript:alert(1)",
    "relative": "evil.example",
}
HOME = "/secretariat/"


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("target", HOSTILE.values(), ids=HOSTILE.keys())
def test_sign_in_goes_home_whatever_next_says(client, accounts, target, htmx):
    client.get(f"/sign-in?next={target}")
    response = client.post(f"/sign-in?next={target}", {"email": ADMIN[0], "password": ADMIN[1]}, htmx=htmx)
    if htmx:
        assert response.status_code == 204
        assert response.headers["HX-Redirect"] == HOME
    else:
        assert response.status_code == 303
        assert response.headers["Location"] == HOME


@pytest.mark.parametrize("target, location", [
    ("/partners/?q=ghana", "/partners/?q=ghana"),
    ("/secretariat/rounds/1/dashboard?region=africa&page=2", "/secretariat/rounds/1/dashboard?region=africa&page=2"),
    ("/partners/?q=Ministère", "/partners/?q=Minist%C3%A8re"),
    ("/secretariat/audit", "/secretariat/audit"),
])
def test_sign_in_returns_to_a_page_of_this_site(client, accounts, target, location):
    client.get("/sign-in")
    response = client.post(f"/sign-in?next={quote(target)}", {"email": ADMIN[0], "password": ADMIN[1]})
    assert response.status_code == 303
    assert response.headers["Location"] == location


@pytest.mark.parametrize("target", ["/secretariat/\r\nSet-Cookie: planted=1", "/secretariat/\t/x\n",
                                    "//evil.example/secretariat/", "/partners/"])
def test_a_sending_run_goes_back_to_the_round_when_next_is_not_a_secretariat_page(app, admin, demo, target):
    round_id = demo[0]
    admin.get(f"/secretariat/rounds/{round_id}")
    _page, fields = confirmation_fields(admin, f"/secretariat/rounds/{round_id}/send")
    assert fields
    response = admin.post(f"/secretariat/rounds/{round_id}/send", fields + [("next", target)])
    assert response.status_code == 303
    assert response.headers["Location"] == f"/secretariat/rounds/{round_id}"


def test_a_sending_run_goes_back_to_the_dashboard_it_was_pressed_on(app, admin, demo):
    round_id = demo[0]
    back = f"/secretariat/rounds/{round_id}/dashboard?region=africa"
    admin.get(back)
    response = confirm_and_send(admin, f"/secretariat/rounds/{round_id}/send", {"next": back})
    assert response.status_code == 303
    assert response.headers["Location"] == back
