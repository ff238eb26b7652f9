"""Staff accounts in the browser: the staff list (admins), one's own account, and the pages behind mailed links
(accept an invitation, reset a forgotten password)."""

import smtplib

from flask import Blueprint, abort, current_app, flash, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user
from htmx_flask import request

from . import accounts
from .account_forms import ActionForm, ChangePasswordForm, ForgotPasswordForm, InviteForm, SetPasswordForm
from .auth import admin_required, normalise_email
from .database import run_write
from .extensions import db, limiter
from .htmx import is_htmx, redirect_to, render
from .mail import send_after_response, send_now
from .models import AccountToken, User

bp = Blueprint("accounts", __name__)
STAFF = "staff/list.html"


# --- The staff list (admins) ---------------------------------------------------------------------------------------

def _staff_page(invite_form: InviteForm | None = None, problem: str | None = None, status: int = 200):
    form = invite_form or InviteForm(formdata=None, language=str(get_locale()))
    return render(STAFF, block="staff", status=status, accounts=accounts.staff_accounts(),
                  invitations=accounts.open_invitations(), invite_form=form, action_form=ActionForm(),
                  role_names=accounts.ROLE_NAMES, is_expired=accounts.is_expired, problem=problem,
                  fragment=is_htmx())


def _done(message: str):
    """After a change: the list again (htmx), or a redirect to it (a plain form)."""
    flash(message)
    return _staff_page() if is_htmx() else redirect_to(url_for(".staff_list"))


@bp.get("/secretariat/staff")
@admin_required
def staff_list():
    """Every staff account with its role, status and last sign-in; invitations waiting; the invitation form."""
    return _staff_page()


@bp.post("/secretariat/staff/invite")
@admin_required
def invite():
    """Invite a colleague by email; the link in the mail lets them choose their password (valid 7 days)."""
    form = InviteForm()
    if not form.validate_on_submit():
        return _staff_page(form, status=422)
    inviter = db.session.get(User, current_user.id)
    try:
        _token, message = run_write(lambda: accounts.invite(form.email.data, form.role.data, form.language.data,
                                                            inviter))
    except accounts.AccountError as error:
        form.email.errors.append(str(error))
        return _staff_page(form, status=422)
    email = normalise_email(form.email.data)
    try:
        send_now(message)
    except (smtplib.SMTPException, OSError) as error:
        reason = str(error) or type(error).__name__
        current_app.logger.warning("invitation mail to a colleague failed: %s", reason)
        run_write(lambda: accounts.invitation_not_sent(email, reason))
        return _staff_page(form, status=422, problem=_(
            "The invitation email to %(email)s could not be sent (%(error)s), so no invitation was made. Check the "
            "mail settings and try again.", email=email, error=reason))
    return _done(_("An invitation was sent to %(email)s. The link in it works for %(days)s days.", email=email,
                   days=current_app.config["STAFF_INVITATION_DAYS"]))


def _account(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _change(user_id: int, change, message: str):
    """Run one change of an account; a refused one shows the list with the reason and changes nothing."""
    if not ActionForm().validate_on_submit():
        abort(400)
    user = _account(user_id)
    try:
        run_write(lambda: change(accounts.locked_account(user.id)))
    except accounts.AccountError as error:
        return _staff_page(problem=str(error), status=422)
    return _done(message % {"email": user.email})


@bp.post("/secretariat/staff/<int:user_id>/role")
@admin_required
def change_role(user_id: int):
    """Make an account administrator or analyst (the last active administrator stays one)."""
    role = request.form.get("role", "")
    return _change(user_id, lambda user: accounts.change_role(user, role),
                   _("%(email)s is now administrator.") if role == "admin" else _("%(email)s is now analyst."))


@bp.post("/secretariat/staff/<int:user_id>/deactivate")
@admin_required
def deactivate(user_id: int):
    """Stop an account from signing in; its open sessions end at once."""
    return _change(user_id, lambda user: accounts.set_active(user, False),
                   _("%(email)s is deactivated: it can no longer sign in, and its sessions have ended."))


@bp.post("/secretariat/staff/<int:user_id>/reactivate")
@admin_required
def reactivate(user_id: int):
    """Let a deactivated account sign in again with its password."""
    return _change(user_id, lambda user: accounts.set_active(user, True),
                   _("%(email)s can sign in again."))


@bp.post("/secretariat/staff/invitations/<int:link_id>/cancel")
@admin_required
def cancel_invitation(link_id: int):
    """Withdraw an invitation: its link stops working."""
    if not ActionForm().validate_on_submit():
        abort(400)
    link = db.session.get(AccountToken, link_id)
    if link is None or link.purpose != accounts.INVITATION:
        abort(404)
    run_write(lambda: accounts.cancel_invitation(accounts.locked_link(link.id)))
    return _done(_("The invitation of %(email)s is cancelled: its link no longer works.", email=link.email))


# --- One's own account ---------------------------------------------------------------------------------------------

@bp.route("/secretariat/account", methods=["GET", "POST"])
@login_required
def account():
    """A staff member's own account: who they are, and changing their password (the current one is asked)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = db.session.get(User, current_user.id)
        try:
            run_write(lambda: accounts.change_password(accounts.locked_account(user.id), form.current.data,
                                                       form.password.data))
        except accounts.WrongPassword as error:
            form.current.errors.append(str(error))
        except accounts.AccountError as error:
            form.password.errors.append(str(error))
        else:
            login_user(user)  # this session goes on with the account's new nonce; every other one has ended
            flash(_("Your password is changed. You were signed out everywhere else."))
            return redirect_to(url_for(".account"))
    return render("staff/account.html", block="password_form", form=form, role_names=accounts.ROLE_NAMES,
                  status=422 if form.errors else 200)


# --- Pages behind mailed links, and the forgotten password -----------------------------------------------------------

def _typed_email_key() -> str:
    return f"reset-email:{normalise_email(request.form.get('email') or '')[:254]}"


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"], methods=["POST"],
               scope="reset-address")
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_typed_email_key, scope="reset-account")
def forgot_password():
    """Ask for a reset link. The answer is the same, as fast, whether or not the address has an account: the mail
    is written and sent after the answer."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email, language = normalise_email(form.email.data), str(get_locale())
        token = run_write(lambda: accounts.request_reset(email, language))
        if token is not None:
            send_after_response(lambda: accounts.reset_mail(email, token, language))
        flash(_("If %(email)s is the address of a staff account, an email with a link to choose a new password is on "
                "its way. The link works for %(minutes)s minutes, once. Nothing arrived? Check the spam folder, or "
                "ask an administrator.", email=email, minutes=current_app.config["PASSWORD_RESET_MINUTES"]))
        return redirect_to(url_for(".forgot_password"))
    return render("auth/forgot_password.html", form=form, status=422 if form.errors else 200)


def _link_or_problem(token: str, purpose: str):
    """The usable link behind a token, or the page that says why it cannot be used (and changes nothing)."""
    link = accounts.find_link(token, purpose)
    state = accounts.link_state(link)
    if state == "usable":
        return link, None
    status = 404 if state == "unknown" else 410
    return None, render("auth/link_problem.html", status=status, state=state, purpose=purpose)


def _set_password_page(purpose: str, token: str, change):
    """The page where an invited colleague, or someone who forgot theirs, chooses a password."""
    link, problem = _link_or_problem(token, purpose)
    if problem is not None:
        return problem
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            run_write(lambda: change(accounts.locked_link(link.id), form.password.data))
        except accounts.AccountError as error:
            if accounts.link_state(accounts.find_link(token, purpose)) != "usable":
                return _link_or_problem(token, purpose)[1]  # used meanwhile, in another tab
            form.password.errors.append(str(error))
        else:
            flash(_("Your password is set. Sign in with it now.") if purpose == accounts.INVITATION
                  else _("Your new password is set, and every earlier session has ended. Sign in with it now."))
            return redirect_to(url_for("auth.sign_in"))
    return render("auth/set_password.html", form=form, link=link, purpose=purpose, role_names=accounts.ROLE_NAMES,
                  status=422 if form.errors else 200)


@bp.route("/accept-invitation/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], methods=["POST"], scope="account-links",
               key_func=get_remote_address)
def accept_invitation(token: str):
    """An invited colleague chooses a password; the account is created and the link is used up."""
    return _set_password_page(accounts.INVITATION, token, accounts.accept_invitation)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], methods=["POST"], scope="account-links",
               key_func=get_remote_address)
def reset_password(token: str):
    """Choose a new password from a reset link; the link is used up and every session of the account ends."""
    return _set_password_page(accounts.RESET, token, accounts.reset_password)

