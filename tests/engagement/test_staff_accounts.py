"""Staff accounts in the browser: the staff list, invitations by email, roles, deactivation and the last admin.

Mails go through a real SMTP server on localhost (the `smtp` fixture, aiosmtpd)."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from engagement.extensions import db
from engagement.models import AccountToken, AuditEntry, User
from tests.conftest import ADMIN, ANALYST, HtmxClient, post_sign_in, signed_in

COLLEAGUE = "Ines.Moreau@Alliance87.example"
GOOD_PASSWORD = "lantern harbour quietly"


def link_in(message) -> str:
    """The path of the one link in a mail's text part (the app's BASE_URL is http://localhost)."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(r"http://localhost(/\S+)", text)
    assert len(links) == 1, text
    return links[0]


def audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(db.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)).all()


def account(app, email: str) -> User | None:
    with app.app_context():
        return db.session.scalar(db.select(User).filter_by(email=email.lower()))


def links(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(db.select(AccountToken.email, AccountToken.purpose, AccountToken.used_at)
                                  .order_by(AccountToken.id)).all()


def invite(admin, email=COLLEAGUE, role="analyst", language="en", htmx=False):
    admin.get("/secretariat/staff")
    return admin.post("/secretariat/staff/invite", {"email": email, "role": role, "language": language}, htmx=htmx)


def choose(client, path, password, confirm=None):
    """The password form as a browser sends it; a form opened before the link was used up holds a CSRF token."""
    client.get("/sign-in")
    client.get(path)
    return client.post(path, {"password": password, "confirm": password if confirm is None else confirm})


def test_staff_list_shows_role_status_and_last_sign_in_page_and_fragment(app, admin, accounts):
    page = admin.get("/secretariat/staff")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    assert ADMIN[0] in html and ANALYST[0] in html and "(you)" in html
    assert "administrator" in html and "analyst" in html and "Active" in html
    assert "Never" in html  # the analyst has not signed in; the admin has
    assert re.search(r"<time datetime=\"\d{4}-\d\d-\d\dT", html)
    assert 'name="email"' in html and "Invite a colleague" in html
    assert 'href="/secretariat/staff"' in html  # in the navigation
    assert 'href="/secretariat/account"' in html


def test_an_invited_colleague_gets_the_mail_chooses_a_password_and_signs_in(app, admin, client, smtp):
    response = invite(admin, language="fr")
    assert response.status_code == 303 and response.headers["Location"] == "/secretariat/staff"
    listed = admin.get("/secretariat/staff").get_data(as_text=True)
    assert "An invitation was sent to ines.moreau@alliance87.example" in listed
    assert "Invitations waiting" in listed and "ines.moreau@alliance87.example" in listed

    message, = smtp.to("ines.moreau@alliance87.example")
    assert message["Content-Language"] == "fr" and message.get_content_type() == "multipart/alternative"
    assert "Secrétariat" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert ADMIN[0] in text and "analyste" in text and "7 jours" in text
    path = link_in(message)
    assert path.startswith("/accept-invitation/") and f'href="http://localhost{path}"' in html
    token = path.rsplit("/", 1)[1]
    with app.app_context():  # only the token's hash is stored
        assert db.session.scalar(db.select(AccountToken.token_hash)) != token

    page = client.get(path)
    assert page.status_code == 200
    assert "ines.moreau@alliance87.example" in page.get_data(as_text=True)
    assert choose(client, path, GOOD_PASSWORD).status_code == 303
    user = account(app, COLLEAGUE)
    assert user.role == "analyst" and user.active
    signed = post_sign_in(client, COLLEAGUE, GOOD_PASSWORD)
    assert signed.status_code == 303
    assert client.get("/secretariat/").status_code == 200
    joined, = audit(app, "user.join")
    assert joined.actor == "ines.moreau@alliance87.example" and joined.details == {"role": "analyst"}
    assert audit(app, "user.invite")[0].details == {"role": "analyst"}
    assert "ines.moreau" not in admin.get("/secretariat/staff").get_data(as_text=True).split("Invitations waiting")[1]


def test_the_invitation_form_as_an_htmx_fragment(app, admin, smtp):
    response = invite(admin, email="a.colleague@alliance87.example", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "An invitation was sent to a.colleague@alliance87.example" in body and 'role="status"' in body
    bad = invite(admin, email="not-an-email", htmx=True)
    assert bad.status_code == 422 and "Enter an email address like name@example.org." in bad.get_data(as_text=True)


@pytest.mark.parametrize(("email", "message"), [
    ("not-an-email", "Enter an email address like name@example.org."),
    ("", "Enter the colleague's email."),
    (ANALYST[0], "already has an account"),
])
def test_a_bad_invitation_is_refused_and_changes_nothing(app, admin, accounts, smtp, email, message):
    response = invite(admin, email=email)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert links(app) == [] and smtp.messages == [] and audit(app, "user.invite") == []


def test_an_unknown_role_is_refused(app, admin, smtp):
    response = invite(admin, role="owner")
    assert response.status_code == 422 and links(app) == [] and smtp.messages == []


def test_an_invitation_that_cannot_be_mailed_is_withdrawn_and_said(app, admin, smtp):
    smtp.refuse.add("ines.moreau@alliance87.example")
    response = invite(admin)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "could not be sent" in html and "no invitation was made" in html
    (_email, _purpose, used_at), = links(app)
    assert used_at is not None  # the link, never mailed, opens nothing
    assert audit(app, "user.invite_failed")[0].target == "ines.moreau@alliance87.example"


@pytest.mark.parametrize(("password", "confirm", "message"), [
    ("short pass", None, "Use at least 12 characters"),
    ("password1234", None, "one of the most common"),
    ("Password2026!", None, "one of the most common"),
    ("ines.moreau", None, "at least 12"),
    ("ines.moreau@alliance87.example", None, "must not be your email address"),
    ("abcabcabcabcabc", None, "repeated or sequential"),
    ("x" * 1001, None, "at most 1000"),
    (GOOD_PASSWORD, "lantern harbour quietly!", "The two passwords are not the same."),
])
def test_a_weak_or_common_password_is_refused_and_creates_nothing(app, admin, client, smtp, password, confirm,
                                                                   message):
    invite(admin)
    path = link_in(smtp.messages[0][1])
    response = choose(client, path, password, confirm)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert account(app, COLLEAGUE) is None
    assert choose(client, path, GOOD_PASSWORD).status_code == 303  # the link still works after the refusal


def test_a_used_expired_replaced_or_cancelled_invitation_shows_a_clear_page_and_changes_nothing(app, admin, client,
                                                                                                smtp):
    invite(admin)
    first = link_in(smtp.messages[0][1])
    invite(admin)  # invited again: the first link stops working
    second = link_in(smtp.messages[1][1])
    replaced = client.get(first)
    assert replaced.status_code == 410 and "used already, or a newer one replaced it" in replaced.get_data(as_text=True)
    assert choose(client, first, GOOD_PASSWORD).status_code == 410 and account(app, COLLEAGUE) is None

    assert choose(client, second, GOOD_PASSWORD).status_code == 303
    reused = choose(client, second, "another long password here")
    assert reused.status_code == 410 and "Each link works once" in reused.get_data(as_text=True)
    with app.app_context():
        from engagement.auth import check_password
        assert check_password(account(app, COLLEAGUE), GOOD_PASSWORD)

    invite(admin, email="late@alliance87.example")
    late = link_in(smtp.messages[2][1])
    with app.app_context():
        link = db.session.scalar(db.select(AccountToken).filter_by(email="late@alliance87.example"))
        link.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    expired = choose(client, late, GOOD_PASSWORD)
    assert expired.status_code == 410 and "This link has expired." in expired.get_data(as_text=True)
    assert account(app, "late@alliance87.example") is None
    assert "Expired: invite again" in admin.get("/secretariat/staff").get_data(as_text=True)

    invite(admin, email="cancelled@alliance87.example")
    cancelled = link_in(smtp.messages[3][1])
    with app.app_context():
        link_id = db.session.scalar(db.select(AccountToken.id).filter_by(email="cancelled@alliance87.example",
                                                                         used_at=None))
    assert admin.post(f"/secretariat/staff/invitations/{link_id}/cancel").status_code == 303
    assert client.get(cancelled).status_code == 410
    assert client.get("/accept-invitation/" + "A" * 43).status_code == 404
    assert client.get("/accept-invitation/not-a-token").status_code == 404


def test_roles_change_and_the_last_active_admin_stays_admin(app, admin, accounts):
    with app.app_context():
        admin_id = account(app, ADMIN[0]).id
        analyst_id = account(app, ANALYST[0]).id
    demote = admin.post(f"/secretariat/staff/{admin_id}/role", {"role": "analyst"})
    assert demote.status_code == 422
    assert "is the last active administrator" in demote.get_data(as_text=True)
    assert account(app, ADMIN[0]).role == "admin"
    deactivate = admin.post(f"/secretariat/staff/{admin_id}/deactivate", htmx=True)
    assert deactivate.status_code == 422 and "last active administrator" in deactivate.get_data(as_text=True)
    assert account(app, ADMIN[0]).active

    promote = admin.post(f"/secretariat/staff/{analyst_id}/role", {"role": "admin"})
    assert promote.status_code == 303 and account(app, ANALYST[0]).role == "admin"
    assert admin.post(f"/secretariat/staff/{admin_id}/role", {"role": "analyst"}).status_code == 303
    assert account(app, ADMIN[0]).role == "analyst"
    changes = [(e.target, e.details) for e in audit(app, "user.role")]
    assert changes == [(ANALYST[0], {"previous": "analyst", "role": "admin"}),
                       (ADMIN[0], {"previous": "admin", "role": "analyst"})]
    assert admin.post(f"/secretariat/staff/{analyst_id}/role", {"role": "owner"}).status_code == 403  # no longer admin


def test_a_deactivated_account_is_signed_out_at_once_and_cannot_sign_in(app, admin, accounts):
    colleague = signed_in(HtmxClient(app.test_client()), "analyst")
    assert colleague.get("/secretariat/").status_code == 200
    analyst_id = account(app, ANALYST[0]).id
    assert admin.post(f"/secretariat/staff/{analyst_id}/deactivate").status_code == 303
    after = colleague.get("/secretariat/")
    assert after.status_code in (302, 303) and "/sign-in" in after.headers["Location"]
    refused = post_sign_in(HtmxClient(app.test_client()), *ANALYST)
    assert refused.status_code == 422 and "Email or password is not correct." in refused.get_data(as_text=True)
    assert "Deactivated" in admin.get("/secretariat/staff").get_data(as_text=True)
    assert admin.post(f"/secretariat/staff/{analyst_id}/reactivate").status_code == 303
    assert post_sign_in(HtmxClient(app.test_client()), *ANALYST).status_code == 303
    assert [e.action for e in audit(app, "user.deactivate") + audit(app, "user.reactivate")] == [
        "user.deactivate", "user.reactivate"]
    assert audit(app, "user.sign_in_failed")[-1].details == {"reason": "deactivated"}


def test_an_analyst_gets_403_for_every_admin_action_and_nothing_changes(app, analyst, admin, smtp):
    with app.app_context():
        admin_id = account(app, ADMIN[0]).id
    invite(admin)
    with app.app_context():
        link_id = db.session.scalar(db.select(AccountToken.id))
    before = (links(app), [(u.email, u.role, u.active) for u in [account(app, ADMIN[0]), account(app, ANALYST[0])]])
    assert analyst.get("/secretariat/staff").status_code == 403
    for url, body in [("/secretariat/staff/invite", {"email": "x@example.org", "role": "admin", "language": "en"}),
                      (f"/secretariat/staff/{admin_id}/role", {"role": "analyst"}),
                      (f"/secretariat/staff/{admin_id}/deactivate", {}),
                      (f"/secretariat/staff/{admin_id}/reactivate", {}),
                      (f"/secretariat/staff/invitations/{link_id}/cancel", {})]:
        assert analyst.post(url, body).status_code == 403, url
        assert analyst.post(url, body, htmx=True).status_code == 403, url
    after = (links(app), [(u.email, u.role, u.active) for u in [account(app, ADMIN[0]), account(app, ANALYST[0])]])
    assert after == before and len(smtp.messages) == 1


def test_pages_behind_links_are_open_but_the_staff_pages_need_sign_in(app, client):
    for path in ("/secretariat/staff", "/secretariat/account"):
        response = client.get(path)
        assert response.status_code in (302, 303) and "/sign-in" in response.headers["Location"]
    assert client.get("/forgot-password").status_code == 200
    unknown = client.get("/reset-password/" + "B" * 43)
    assert unknown.status_code == 404 and "This link is not valid." in unknown.get_data(as_text=True)
