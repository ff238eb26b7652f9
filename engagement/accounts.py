"""Staff accounts managed in the browser: invitations to join, roles, deactivation, passwords and their resets.

Each change is a plain function that the caller runs in one unit of work (engagement.database.run_write), with its
audit entry. The links mailed to staff (an invitation, a reset) are single-use: the database keeps only SHA-256 of
the token, the first use marks it used, a newer link for the same address replaces it, and it expires.
"""

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from jinja2_fragments.flask import render_block

from .audit import record
from .auth import check_password, hash_password, normalise_email, renew_session_nonce
from .extensions import db
from .mail import new_message, set_body
from .models import ROLES, AccountToken, User
from .passwords import password_problem
from .timestamps import as_utc

INVITATION, RESET = "invitation", "reset"
ROLE_NAMES = {"admin": _l("administrator"), "analyst": _l("analyst")}
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) makes
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class AccountError(ValueError):
    """A change that cannot be made; the message says why, in the reader's language."""


class WrongPassword(AccountError):
    """The current password typed to change it is not the account's."""


def _now() -> datetime:
    return datetime.now(UTC)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- Reading -------------------------------------------------------------------------------------------------------

def staff_accounts() -> list[User]:
    return list(db.session.scalars(db.select(User).order_by(User.email)))


def open_invitations() -> list[AccountToken]:
    """Invitations not used yet (expired ones included, so the list says they expired), newest first."""
    return list(db.session.scalars(db.select(AccountToken).where(
        AccountToken.purpose == INVITATION, AccountToken.used_at.is_(None)).order_by(AccountToken.created_at.desc())))


def account_with_email(email: str) -> User | None:
    return db.session.scalar(db.select(User).filter_by(email=normalise_email(email)))


def find_link(token: str, purpose: str) -> AccountToken | None:
    """The link a token opens, whatever its state; None for a malformed or unknown token."""
    if not token or not _TOKEN_SHAPE.fullmatch(token):
        return None
    wanted = _hash(token)
    link = db.session.scalar(db.select(AccountToken).filter_by(token_hash=wanted, purpose=purpose))
    return link if link is not None and hmac.compare_digest(link.token_hash, wanted) else None


def locked_account(user_id: int) -> User:
    """An account read afresh inside a unit of work, its row locked until the commit (PostgreSQL)."""
    return db.session.scalar(db.select(User).where(User.id == user_id).with_for_update()
                             .execution_options(populate_existing=True))


def locked_link(link_id: int) -> AccountToken:
    """A link read afresh inside a unit of work, so two tabs using it at once cannot both succeed."""
    return db.session.scalar(db.select(AccountToken).where(AccountToken.id == link_id).with_for_update()
                             .execution_options(populate_existing=True))


def link_state(link: AccountToken | None) -> str:
    """"usable", "used", "expired" or "unknown"; a reset for an account deactivated since counts as used."""
    if link is None:
        return "unknown"
    if link.used_at is not None or (link.purpose == RESET and (link.user is None or not link.user.active)):
        return "used"
    if as_utc(link.expires_at) <= _now():
        return "expired"
    return "usable"


def is_expired(link: AccountToken) -> bool:
    return as_utc(link.expires_at) <= _now()


# --- Links ---------------------------------------------------------------------------------------------------------

def _issue(purpose: str, email: str, lifetime: timedelta, **values) -> str:
    """A new link for `email`; earlier unused links of the same purpose for it stop working. Returns the token."""
    now = _now()
    db.session.execute(db.update(AccountToken).where(
        AccountToken.purpose == purpose, AccountToken.email == email, AccountToken.used_at.is_(None)
    ).values(used_at=now))
    token = secrets.token_urlsafe(32)
    db.session.add(AccountToken(purpose=purpose, token_hash=_hash(token), email=email, created_at=now,
                                expires_at=now + lifetime, **values))
    return token


def _use(link: AccountToken) -> None:
    link.used_at = _now()


def _end_resets(user: User) -> None:
    """A password just set, or an account deactivated: reset links already mailed must not work any more."""
    db.session.execute(db.update(AccountToken).where(
        AccountToken.purpose == RESET, AccountToken.user_id == user.id, AccountToken.used_at.is_(None)
    ).values(used_at=_now()))


def absolute_url(endpoint: str, **values) -> str:
    """An address for a mail, on BASE_URL (the public address), not the address this request came to."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def _staff_mail(kind: str, email: str, language: str, **context) -> EmailMessage:
    """The invitation or reset mail, in `language`, as plain text and HTML."""
    with force_locale(language):
        context.update(lang=language, secretariat_email=current_app.config["SECRETARIAT_EMAIL"])
        subject = render_block(f"mail/{kind}.txt", "subject", **context)
        message = new_message("", email, subject, language)
        set_body(message, render_block(f"mail/{kind}.txt", "body", **context),
                 render_template(f"mail/{kind}.html", survey_title=subject, **context))
    return message


# --- Invitations ---------------------------------------------------------------------------------------------------

def invite(email: str, role: str, language: str, inviter: User) -> tuple[str, EmailMessage]:
    """Invite a colleague to join with `role`: returns the token and the mail to send (the caller sends it after the
    unit of work commits). Refuses an address that is not an email or already has an account."""
    email = normalise_email(email)
    if len(email) > 254 or not _EMAIL.match(email):
        raise AccountError(_l("Enter an email address like name@example.org."))
    if role not in ROLES:
        raise AccountError(_l("Choose a role."))
    if account_with_email(email) is not None:
        raise AccountError(_l("%(email)s already has an account: change its role or reactivate it in the list.",
                              email=email))
    days = current_app.config["STAFF_INVITATION_DAYS"]
    token = _issue(INVITATION, email, timedelta(days=days), role=role, language=language, created_by_id=inviter.id)
    record("user.invite", email, role=role)
    message = _staff_mail("staff_invitation", email, language, inviter=inviter.email, role=role, days=days,
                          role_names=ROLE_NAMES,
                          link=absolute_url("accounts.accept_invitation", token=token))
    return token, message


def invitation_not_sent(email: str, error: str) -> None:
    """The mail of a new invitation failed: its link stops working, as if no invitation had been made."""
    db.session.execute(db.update(AccountToken).where(
        AccountToken.purpose == INVITATION, AccountToken.email == email, AccountToken.used_at.is_(None)
    ).values(used_at=_now()))
    record("user.invite_failed", email, error=error)


def cancel_invitation(link: AccountToken) -> None:
    if link.used_at is None:
        _use(link)
        record("user.invitation_cancel", link.email, role=link.role)


def accept_invitation(link: AccountToken, password: str) -> User:
    """Create the invited colleague's account with the password they chose; the link is then used."""
    if link_state(link) != "usable":
        raise AccountError(_l("This invitation can no longer be used."))
    if account_with_email(link.email) is not None:
        raise AccountError(_l("%(email)s already has an account: sign in, or ask for a new password.",
                              email=link.email))
    problem = password_problem(password, link.email)
    if problem:
        raise AccountError(problem)
    user = User(email=link.email, role=link.role or "analyst", active=True, password_hash=hash_password(password),
                session_nonce=secrets.token_hex(8))
    db.session.add(user)
    _use(link)
    db.session.flush()
    record("user.join", user.email, actor=user.email, role=user.role)
    return user


# --- Roles and deactivation -----------------------------------------------------------------------------------------

def _active_admins() -> int:
    """Counted with the admins' rows locked, so two admins demoting each other at once cannot leave none."""
    return len(db.session.scalars(db.select(User.id).where(User.role == "admin", User.active.is_(True))
                                  .with_for_update()).all())


def _keep_an_admin(user: User) -> None:
    if user.active and user.role == "admin" and _active_admins() <= 1:
        raise AccountError(_l("%(email)s is the last active administrator: make another account administrator "
                              "first.", email=user.email))


def change_role(user: User, role: str) -> None:
    if role not in ROLES:
        raise AccountError(_l("Choose a role."))
    if role == user.role:
        return
    if role != "admin":
        _keep_an_admin(user)
    previous, user.role = user.role, role
    record("user.role", user.email, previous=previous, role=role)


def set_active(user: User, active: bool) -> None:
    """Deactivate (every session of the account ends at once, its reset links stop working) or reactivate."""
    if user.active == active:
        return
    if not active:
        _keep_an_admin(user)
        renew_session_nonce(user)
        _end_resets(user)
    user.active = active
    record("user.reactivate" if active else "user.deactivate", user.email)


# --- Passwords -----------------------------------------------------------------------------------------------------

def _set_password(user: User, password: str) -> None:
    problem = password_problem(password, user.email)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    renew_session_nonce(user)  # every other session of the account ends
    _end_resets(user)


def change_password(user: User, current: str, new: str) -> None:
    """A signed-in staff member changes their own password; the current one is asked first."""
    if not check_password(user, current):
        raise WrongPassword(_l("Your current password is not correct."))
    _set_password(user, new)
    record("user.password_change", user.email)


def request_reset(email: str, language: str) -> str | None:
    """Record the request; for an active account, issue a reset link (returned) to mail. The caller answers the
    same whatever this returns."""
    email = normalise_email(email)[:254]
    user = account_with_email(email)
    record("user.password_reset_request", email, actor="")
    if user is None or not user.active:
        return None
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    return _issue(RESET, user.email, timedelta(minutes=minutes), user_id=user.id, language=language)


def reset_mail(email: str, token: str, language: str) -> EmailMessage:
    return _staff_mail("password_reset", email, language, minutes=current_app.config["PASSWORD_RESET_MINUTES"],
                       link=absolute_url("accounts.reset_password", token=token))


def reset_password(link: AccountToken, password: str) -> User:
    if link_state(link) != "usable":
        raise AccountError(_l("This link can no longer be used."))
    user = link.user
    _set_password(user, password)
    _use(link)
    record("user.password_reset", user.email, actor=user.email)
    return user
