"""Secretariat sign-in: accounts with hashed passwords, two roles, and the checks every secretariat view uses."""

import secrets
from functools import wraps
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Blueprint, abort, current_app, flash, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from htmx_flask import request
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from .audit import record
from .database import run_write
from .extensions import db, limiter, login_manager
from .htmx import redirect_to, render
from .models import ROLES, User, utcnow
from .passwords import password_problem
from .text import strip_bidi_controls
from .urls import same_site_path

bp = Blueprint("auth", __name__)
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong email and a wrong password take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signer built only for a request that sends the cookie: a partner's
    browser usually has none, and building the signer costs every autosave a few percent of its time."""

    def open_session(self, app, request):
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


class SignInForm(FlaskForm):
    # No format check on the email: an unknown address gets the same answer as a wrong password.
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(text: str) -> str:
    """An account's email as stored and looked up: lower case, no spaces around, no direction controls."""
    return strip_bidi_controls(text).strip().lower()


def create_user(email: str, password: str, role: str) -> User:
    """Create or reset a secretariat account (the caller commits)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    email = normalise_email(email)
    problem = password_problem(password, email)
    if problem:
        raise ValueError(problem)
    user = db.session.scalar(db.select(User).filter_by(email=email)) or User(email=email)
    user.password_hash = hash_password(password)
    user.role = role
    user.session_nonce = secrets.token_hex(8)
    db.session.add(user)
    return user


def _signed_in(user: User) -> None:
    renew_session_nonce(user)
    user.last_sign_in_at = utcnow()
    record("user.sign_in", user.email, actor=user.email)


def _signed_out(user: User) -> None:
    renew_session_nonce(user)
    record("user.sign_out", user.email)


def renew_session_nonce(user: User) -> None:
    """Sessions carry the nonce (see load_user): a new one ends every earlier session of the account."""
    user.session_nonce = secrets.token_hex(8)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Find the signed-in user; a session from before the last sign-out carries an old nonce and fails, and so does
    one of a deactivated account."""
    ident, _sep, nonce = user_id.partition(":")
    if not ident.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or not secrets.compare_digest(user.session_nonce, nonce):
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """Send the browser to sign in: a whole-page redirect even when an htmx fragment asked."""
    return redirect_to(url_for("auth.sign_in", next=_return_path()))


def _return_path() -> str | None:
    """Where to come back after sign-in: the page itself, or for htmx the page the fragment belongs to."""
    if request.htmx:
        current = urlsplit(request.htmx.current_url or "")
        if current.netloc and current.netloc != request.host:
            return None
        return (current.path + ("?" + current.query if current.query else "")) or None
    return request.full_path.rstrip("?") if request.method == "GET" else None


def _account_key() -> str:
    return f"sign-in-account:{normalise_email(request.form.get('email') or '')[:254]}"


def _account_and_address_key() -> str:
    return f"{_account_key()}|{get_remote_address()}"


@bp.get("/")
def root():
    """Staff who type the site's address land on sign-in, or on their home when signed in; partners use their link."""
    if current_user.is_authenticated:
        return redirect_to(url_for("analysis.rounds_overview"))
    return redirect_to(url_for("auth.sign_in"))


# Three counters: guesses at one account from one address are stopped soon, without locking the colleague whose
# email was typed out of anyone else's address; an account's own ceiling stops guesses spread over many addresses;
# and one address trying many accounts is stopped too.
@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], methods=["POST"], scope="sign-in-address")
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT_AND_ADDRESS"], methods=["POST"],
               key_func=_account_and_address_key, scope="sign-in-account-address")
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"], methods=["POST"], key_func=_account_key,
               scope="sign-in-account")
def sign_in():
    """Sign a secretariat user in, renewing the session so no earlier cookie carries over."""
    form = SignInForm()
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        user = db.session.scalar(db.select(User).filter_by(email=email))
        correct = check_password(user, form.password.data)
        if correct and user.active:
            run_write(lambda: _signed_in(user))
            session.clear()
            login_user(user)
            return redirect_to(same_site_path(request.args.get("next")) or url_for("analysis.rounds_overview"))
        # Never the password, and the email only when it is an account's: text typed for an unknown email may be a
        # password typed in the wrong field. The sign-in limits bound how many entries one address can add.
        if user is None:
            run_write(lambda: record("user.sign_in_unknown", actor=""))
        else:
            reason = "deactivated" if correct else "password"
            run_write(lambda: record("user.sign_in_failed", email, actor="", reason=reason))
        form.password.errors.append(_("Email or password is not correct."))
    return render("auth/sign_in.html", form=form, status=200 if request.method == "GET" else 422 if form.errors else 200)


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """End the session here and invalidate any copy of its cookie."""
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)  # the signed-in account, from the identity map
        run_write(lambda: _signed_out(user))
    logout_user()
    # Keep only the CSRF token: a page left open in another tab then gets "sign in again", not "form expired".
    csrf_field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    csrf_token = session.get(csrf_field)
    session.clear()
    if csrf_token:
        session[csrf_field] = csrf_token
    flash(_("You are signed out."))
    return redirect_to(url_for("auth.sign_in"))


def require_signed_in() -> None:
    """before_request of staff pages that every role may use in full (a preview changes nothing of a round)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def require_secretariat() -> None:
    """before_request of every secretariat blueprint: signed in, and only admins may change anything."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if request.method not in ("GET", "HEAD", "OPTIONS") and not current_user.is_admin:
        abort(403)
    return None


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
