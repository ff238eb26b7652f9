"""Forms of the registry pages: an organisation, a contact, a CSV upload, and one-button actions."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from . import registry
from .countries import country_code, country_name


def _choices(mapping: dict, first: tuple | None = None) -> list[SelectChoice]:
    return ([SelectChoice(*first)] if first else []) + [SelectChoice(code, label) for code, label in mapping.items()]


class EmptyForm(FlaskForm):
    """A one-button POST (deactivate, delete, remove): only the CSRF token."""


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _check_email(form, field):
    field.data = registry.normalise_email(field.data)
    if not registry.is_email(field.data):
        raise ValidationError(_l("Enter an email address like name@example.org."))


def _unique_email(field, contact_id=None):
    existing = registry.contact_with_email(field.data)
    if existing is not None and existing.id != contact_id:
        raise ValidationError(_l("This email is already a contact of %(organisation)s.",
                                 organisation=existing.organisation.name))


class ContactForm(FlaskForm):
    contact_id: int | None = None

    name = StringField(_l("Contact name"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254), _check_email])
    language = SelectField(_l("Language"), choices=_choices(registry.LANGUAGES), default="en")

    def validate_email(self, field):
        _unique_email(field, self.contact_id)


class OrganisationForm(FlaskForm):
    organisation_id: int | None = None

    name = StringField(_l("Organisation"), validators=[DataRequired(), Length(max=200)])
    category = SelectField(_l("Category"), choices=_choices(registry.CATEGORIES, ("", _l("Choose a category"))),
                           validators=[DataRequired(message=_l("Choose a category."))])
    country = StringField(_l("Country"), validators=[Length(max=100)],
                          description=_l("A name or ISO code, e.g. Ghana or GH; empty for a global organisation."))
    pathfinder = BooleanField(_l("Pathfinder Country"))
    gcg_member = BooleanField(_l("GCG member"))
    action_groups = CheckboxesField(_l("Action Groups"), choices=_choices(registry.ACTION_GROUPS))

    def validate_name(self, field):
        field.data = registry.clean_name(field.data)
        existing = registry.organisation_named(field.data)
        if existing is not None and existing.id != self.organisation_id:
            raise ValidationError(_l("There is already an organisation with this name."))

    def validate_country(self, field):
        try:
            self.country_code = country_code(field.data)
        except KeyError as error:
            raise ValidationError(_l("Unknown country: use its name or ISO code (e.g. Ghana or GH).")) from error

    def values(self) -> dict:
        """What the registry stores, from the validated form."""
        chosen = set(self.action_groups.data or [])
        return {"name": self.name.data, "category": self.category.data, "country": self.country_code,
                "pathfinder": bool(self.pathfinder.data), "gcg_member": bool(self.gcg_member.data),
                "action_groups": " ".join(code for code in registry.ACTION_GROUPS if code in chosen)}

    @classmethod
    def for_organisation(cls, organisation) -> "OrganisationForm":
        """The form filled from the organisation, or from what was just posted."""
        form = cls(obj=organisation)
        form.organisation_id = organisation.id
        if not form.is_submitted():
            form.country.data = country_name(organisation.country)
            form.action_groups.data = organisation.action_group_list
        return form


class NewOrganisationForm(OrganisationForm):
    contact_name = StringField(_l("Contact name"), validators=[DataRequired(), Length(max=200)])
    contact_email = StringField(_l("Contact email"), validators=[DataRequired(), Length(max=254), _check_email])
    contact_language = SelectField(_l("Contact's language"), choices=_choices(registry.LANGUAGES),
                                   default="en")

    def validate_contact_email(self, field):
        _unique_email(field)

    def contact(self) -> dict:
        return {"name": registry.clean_name(self.contact_name.data), "email": self.contact_email.data,
                "language": self.contact_language.data}


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file to import."))])


class ConfirmImportForm(FlaskForm):
    """The previewed file travels back signed, so nothing is stored on the server between preview and confirm."""

    payload = HiddenField(validators=[DataRequired()])
