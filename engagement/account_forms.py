"""Forms of the staff account pages: an invitation, a password chosen or changed, a reset asked for."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from .i18n import LANGUAGE_NAMES
from .passwords import MAX_LENGTH, MIN_LENGTH

ROLE_CHOICES = [SelectChoice("analyst", _l("Analyst: reads everything, changes nothing")),
                SelectChoice("admin", _l("Administrator: runs rounds, keeps the registry and the staff accounts"))]
PASSWORD_HINT = _l("At least %(min)s characters. A few words you will remember make a good password; no need for "
                   "symbols or digits.", min=MIN_LENGTH)

TOO_LONG = _l("Use at most %(max)s characters.")


class ActionForm(FlaskForm):
    """A one-button POST (deactivate, reactivate, cancel): only the CSRF token."""


class InviteForm(FlaskForm):
    email = EmailField(_l("Colleague's email"), validators=[DataRequired(_l("Enter the colleague's email.")),
                                                            Length(max=254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="analyst")
    language = SelectField(_l("Language of the invitation email"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()])


def _new_password_fields():
    password = PasswordField(_l("New password"), description=PASSWORD_HINT,
                             validators=[DataRequired(_l("Choose a password.")), Length(max=MAX_LENGTH, message=TOO_LONG)])
    confirm = PasswordField(_l("The new password again"), validators=[
        DataRequired(_l("Type the password a second time.")),
        EqualTo("password", _l("The two passwords are not the same."))])
    return password, confirm


class SetPasswordForm(FlaskForm):
    """A password chosen from an invitation or a reset link."""

    password, confirm = _new_password_fields()


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password.")),
                                                               Length(max=MAX_LENGTH, message=TOO_LONG)])
    password, confirm = _new_password_fields()


class ForgotPasswordForm(FlaskForm):
    # No format check beyond the browser's: any address gets the same answer.
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email.")), Length(max=254)])
