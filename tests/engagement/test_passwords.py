"""Passwords: the rules (NIST SP 800-63B), changing one's own, and "Forgot your password?" with a single-use link.

Mails go through a real SMTP server on localhost (the `smtp` fixture, aiosmtpd)."""

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from engagement.auth import check_password
from engagement.extensions import db
from engagement.mail import wait_for_background_mail
from engagement.models import AccountToken, AuditEntry, User
from engagement.passwords import MIN_LENGTH, common_passwords, password_problem
from tests.conftest import ADMIN, ANALYST, CSRF_FIELD, HtmxClient, post_sign_in

NEW_PASSWORD = "copper kettle at dawn"


@pytest.mark.parametrize(("password", "email", "refused"), [
    ("correct horse battery", "", None),
    ("Ünïcödé passphrase ✓", "", None),
    ("a" * 11, "", "at least 12"),
    ("qwerty123456", "", "most common"),
    ("iloveyou2026!!", "", "most common"),
    ("PASSWORD1234", "", "most common"),
    ("abcdefghijklm", "", "sequential"),
    ("            ", "", "repeated"),
    ("ines.moreau.geneva", "Ines.Moreau.Geneva@example.org", "must not be your email"),
    ("ines.moreau.geneva@example.org", "ines.moreau.geneva@example.org", "must not be your email"),
    ("x" * 1001, "", "at most 1000"),
])
def test_password_rules(app, password, email, refused):
    with app.test_request_context():
        problem = password_problem(password, email)
    assert (problem is None) if refused is None else (refused in problem), problem


def test_the_shipped_list_is_the_common_one(app):
    common = common_passwords()
    assert len(common) > 19_000 and {"123456", "password", "qwerty", "iloveyou"} <= common
    assert MIN_LENGTH == 12


def test_rules_in_french(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert "au moins 12 caractères" in password_problem("court")


# --- One's own password ---------------------------------------------------------------------------------------------

def change(client, current, new, confirm=None, htmx=False):
    client.get("/secretariat/account")
    return client.post("/secretariat/account", {"current": current, "password": new,
                                                 "confirm": new if confirm is None else confirm}, htmx=htmx)


def test_analyst_changes_own_password_other_sessions_end_this_one_goes_on(app, analyst):
    elsewhere = HtmxClient(app.test_client())  # a copy of the session, as another browser holding the cookie
    elsewhere.client.set_cookie("session", analyst.client.get_cookie("session").value)
    assert elsewhere.get("/secretariat/").status_code == 200
    page = analyst.get("/secretariat/account")
    assert page.status_code == 200 and ANALYST[0] in page.get_data(as_text=True)
    response = change(analyst, ANALYST[1], NEW_PASSWORD)
    assert response.status_code == 303
    assert "Your password is changed" in analyst.get("/secretariat/account").get_data(as_text=True)
    assert analyst.get("/secretariat/").status_code == 200
    assert elsewhere.get("/secretariat/").status_code in (302, 303)
    assert post_sign_in(HtmxClient(app.test_client()), ANALYST[0], ANALYST[1]).status_code == 422
    assert post_sign_in(HtmxClient(app.test_client()), ANALYST[0], NEW_PASSWORD).status_code == 303
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).filter_by(action="user.password_change"))
        assert entry.actor == ANALYST[0] and NEW_PASSWORD not in str(entry.details)


@pytest.mark.parametrize(("current", "new", "confirm", "message"), [
    ("not my password", NEW_PASSWORD, None, "Your current password is not correct."),
    (ANALYST[1], "too short", None, "Use at least 12 characters"),
    (ANALYST[1], "password123456", None, "one of the most common"),
    (ANALYST[1], NEW_PASSWORD, "copper kettle at dusk", "The two passwords are not the same."),
    ("", NEW_PASSWORD, None, "Enter your current password."),
])
def test_a_refused_change_says_why_and_changes_nothing(app, analyst, current, new, confirm, message):
    with app.app_context():
        before = db.session.scalar(db.select(User.password_hash).filter_by(email=ANALYST[0]))
    for htmx in (False, True):
        response = change(analyst, current, new, confirm, htmx=htmx)
        body = response.get_data(as_text=True)
        assert response.status_code == 422 and message in body
        assert ("<html" in body) is not htmx
    with app.app_context():
        assert db.session.scalar(db.select(User.password_hash).filter_by(email=ANALYST[0])) == before
    assert analyst.get("/secretariat/").status_code == 200


# --- Forgot your password? ------------------------------------------------------------------------------------------

def ask(client, email):
    client.get("/forgot-password")
    return client.post("/forgot-password", {"email": email})


def link_in(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    found, = re.findall(r"http://localhost(/reset-password/\S+)", text)
    return found


def choose(client, path, password):
    client.get("/sign-in")
    client.get(path)
    return client.post(path, {"password": password, "confirm": password})


def test_sign_in_page_offers_the_reset(client):
    assert 'href="/forgot-password"' in client.get("/sign-in").get_data(as_text=True)


def test_the_answer_is_the_same_for_any_address_and_only_accounts_get_a_mail(app, client, accounts, smtp):
    answers = []
    for email in (ADMIN[0], "nobody@alliance87.example"):
        response = ask(client, email)
        assert response.status_code == 303 and response.headers["Location"] == "/forgot-password"
        page = client.get("/forgot-password").get_data(as_text=True)
        # the CSRF token is signed with the time: two pages a second apart differ there and nowhere else
        answers.append(CSRF_FIELD.sub('name="csrf_token" value="TOKEN"', page.replace(email, "EMAIL")))
    assert answers[0] == answers[1] and "If EMAIL is the address of a staff account" in answers[0]
    wait_for_background_mail()
    assert [rcpts for rcpts, _message in smtp.messages] == [[ADMIN[0]]]
    with app.app_context():
        requests = db.session.scalars(db.select(AuditEntry).filter_by(action="user.password_reset_request")).all()
        assert [(e.target, e.actor) for e in requests] == [(ADMIN[0], ""), ("nobody@alliance87.example", "")]
        assert db.session.scalar(db.select(db.func.count(AccountToken.id))) == 1


def test_the_mail_is_sent_after_the_answer(app, client, accounts, smtp):
    """A slow mail server does not slow the answer, so its time tells nothing about the address."""
    async def slow_data(server, session, envelope):
        await asyncio.sleep(1.5)
        smtp.messages.append((envelope.rcpt_tos[:], None))
        return "250 OK"

    smtp.handle_DATA = slow_data
    client.get("/forgot-password")
    started = time.monotonic()
    assert client.post("/forgot-password", {"email": ADMIN[0]}).status_code == 303
    assert time.monotonic() - started < 1.0
    wait_for_background_mail()
    assert len(smtp.messages) == 1


def test_a_reset_link_works_once_ends_every_session_and_says_so_when_used_again(app, client, admin, smtp):
    ask(client, ADMIN[0].upper())
    wait_for_background_mail()
    _rcpts, message = smtp.messages[0]
    assert "60 minutes" in message.get_body(preferencelist=("plain",)).get_content()
    path = link_in(message)
    page = client.get(path)
    assert page.status_code == 200 and ADMIN[0] in page.get_data(as_text=True)
    weak = choose(client, path, "password2024")
    assert weak.status_code == 422 and "one of the most common" in weak.get_data(as_text=True)
    assert choose(client, path, NEW_PASSWORD).status_code == 303
    assert admin.get("/secretariat/").status_code in (302, 303)  # the session opened before the reset has ended
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email=ADMIN[0]))
        assert check_password(user, NEW_PASSWORD)
    again = choose(client, path, "yet another good passphrase")
    assert again.status_code == 410 and "Nothing was changed" in again.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email=ADMIN[0]))
        assert check_password(user, NEW_PASSWORD)
        assert db.session.scalar(db.select(AuditEntry).filter_by(action="user.password_reset")).actor == ADMIN[0]
    assert post_sign_in(HtmxClient(app.test_client()), ADMIN[0], NEW_PASSWORD).status_code == 303


def test_an_expired_reset_link_changes_nothing(app, client, accounts, smtp):
    ask(client, ADMIN[0])
    wait_for_background_mail()
    path = link_in(smtp.messages[0][1])
    with app.app_context():
        link = db.session.scalar(db.select(AccountToken))
        assert abs((link.expires_at.replace(tzinfo=UTC) - datetime.now(UTC)) - timedelta(minutes=60)) \
            < timedelta(minutes=1)
        link.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    response = choose(client, path, NEW_PASSWORD)
    assert response.status_code == 410 and "This link has expired." in response.get_data(as_text=True)
    assert post_sign_in(HtmxClient(app.test_client()), *ADMIN).status_code == 303


def test_a_newer_link_or_a_deactivation_ends_earlier_links(app, client, admin, accounts, smtp):
    ask(client, ANALYST[0])
    ask(client, ANALYST[0])
    wait_for_background_mail()
    first, second = (link_in(message) for _rcpts, message in smtp.messages)
    assert client.get(first).status_code == 410 and client.get(second).status_code == 200
    with app.app_context():
        analyst_id = db.session.scalar(db.select(User.id).filter_by(email=ANALYST[0]))
    admin.get("/secretariat/staff")
    assert admin.post(f"/secretariat/staff/{analyst_id}/deactivate").status_code == 303
    assert client.get(second).status_code == 410
    ask(client, ANALYST[0])  # a deactivated account gets no mail, and the same answer
    wait_for_background_mail()
    assert len(smtp.messages) == 2


def test_an_empty_request_says_what_is_missing(client):
    response = ask(client, "")
    assert response.status_code == 422 and "Enter your email." in response.get_data(as_text=True)
