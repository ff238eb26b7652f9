"""Registry pages: the list with search and filters, add and edit organisations and contacts, import and export.

Thin views: the changes are registry.py's, the CSV logic csv_io.py's; every write runs in run_write().
"""

from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from engagement.audit import record
from engagement.auth import require_secretariat
from engagement.database import run_write
from engagement.extensions import db
from engagement.htmx import is_htmx, redirect_to, render
from engagement.spreadsheets import wants_bom

from . import csv_io, registry
from .countries import country_name, country_names
from .forms import (
    ConfirmImportForm,
    ContactForm,
    EmptyForm,
    ImportForm,
    NewOrganisationForm,
    OrganisationForm,
)
from .models import Contact, Organisation

bp = Blueprint("partners", __name__, url_prefix="/partners")
bp.before_request(require_secretariat)
LIST = "partners/list.html"
IMPORT_MAX_AGE = 3600


def _vocabulary() -> dict:
    return {"categories": registry.CATEGORIES, "regions": registry.REGIONS, "action_groups": registry.ACTION_GROUPS,
                "languages": registry.LANGUAGES, "statuses": registry.STATUSES, "country_name": country_name,
                "country_names": country_names()}


def _organisation(organisation_id: int) -> Organisation:
    return db.get_or_404(Organisation, organisation_id)


def _contact(organisation: Organisation, contact_id: int) -> Contact:
    contact = db.get_or_404(Contact, contact_id)
    if contact.organisation_id != organisation.id:
        abort(404)
    return contact


@bp.get("/")
def list_partners():
    """The registry: search as you type, filters and pages; htmx asks only for the results."""
    filters = registry.Filters.from_args(request.args)
    page = registry.find_organisations(filters)
    response = render(LIST, block="results", filters=filters, page=page, **_vocabulary())
    if is_htmx():
        # The address bar shows the tidy form of the filters (no empty fields), which reloads the same view.
        response.headers["HX-Push-Url"] = url_for(".list_partners", **filters.args())
    return response


@bp.get("/export.csv")
def export_partners():
    """The organisations the list shows (all pages), in the import's format."""
    filters = registry.Filters.from_args(request.args)
    organisations = registry.all_organisations(filters)
    text = csv_io.export_csv(organisations, bom=wants_bom(request.args.get("bom")))
    run_write(lambda: record("partners.export", "export.csv", organisations=len(organisations),
                             filters=filters.args(page=1)))
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="partners-{date.today().isoformat()}.csv"'
    return response


@bp.route("/new", methods=["GET", "POST"])
def new_organisation():
    """Add an organisation with its first contact."""
    form = NewOrganisationForm()
    if form.validate_on_submit():
        organisation = run_write(lambda: registry.create_organisation(form.values(), form.contact()))
        flash(_("%(name)s was added.", name=organisation.name))
        return redirect_to(url_for(".organisation_page", organisation_id=organisation.id))
    return render("partners/new.html", block="organisation_form", form=form,
                  status=422 if form.errors else 200, **_vocabulary())


@bp.get("/<int:organisation_id>")
def organisation_page(organisation_id):
    """One organisation: its attributes, contacts and what may be done with it."""
    organisation = _organisation(organisation_id)
    return _organisation_page(organisation, ContactForm(formdata=None))


def _organisation_page(organisation, contact_form, status=200):
    return render("partners/organisation.html", block="contacts", organisation=organisation,
                  contact_form=contact_form, action_form=EmptyForm(), deletable=registry.is_deletable(organisation),
                  status=status, **_vocabulary())


@bp.get("/<int:organisation_id>/row")
def organisation_row(organisation_id):
    """The organisation's row of the list (htmx: cancel an inline edit)."""
    organisation = _organisation(organisation_id)
    if not is_htmx():
        return redirect_to(url_for(".list_partners"))
    return render(LIST, block="organisation_row", org=organisation, **_vocabulary())


@bp.route("/<int:organisation_id>/edit", methods=["GET", "POST"])
def edit_organisation(organisation_id):
    """Edit an organisation: inline in its row with htmx, or on a page of its own without JavaScript."""
    organisation = _organisation(organisation_id)
    form = OrganisationForm.for_organisation(organisation)
    if form.validate_on_submit():
        changes = run_write(lambda: registry.update_organisation(organisation, form.values()))
        if is_htmx():
            return render(LIST, block="organisation_row", org=organisation, saved=True, **_vocabulary())
        flash(_("%(name)s was saved.", name=organisation.name) if changes else _("Nothing was changed."))
        return redirect_to(url_for(".list_partners"))
    status = 422 if form.errors else 200
    if is_htmx():
        return render(LIST, block="organisation_edit_row", org=organisation, form=form, status=status,
                      **_vocabulary())
    return render("partners/edit.html", organisation=organisation, form=form, status=status, **_vocabulary())


@bp.post("/<int:organisation_id>/deactivate")
def deactivate_organisation(organisation_id):
    """Leave an organisation out of new rounds, keeping it and its history."""
    return _set_active(organisation_id, False)


@bp.post("/<int:organisation_id>/reactivate")
def reactivate_organisation(organisation_id):
    """Bring a deactivated organisation back."""
    return _set_active(organisation_id, True)


def _set_active(organisation_id, active):
    organisation = _organisation(organisation_id)
    if EmptyForm().validate_on_submit():
        run_write(lambda: registry.set_active(organisation, active))
        flash(_("%(name)s is active again.", name=organisation.name) if active
              else _("%(name)s is deactivated: it stays in the registry and is left out of new rounds.",
                     name=organisation.name))
    return redirect_to(url_for(".organisation_page", organisation_id=organisation.id))


@bp.route("/<int:organisation_id>/delete", methods=["GET", "POST"])
def delete_organisation(organisation_id):
    """Delete an organisation nobody has invited or heard from, after a confirmation step."""
    organisation = _organisation(organisation_id)
    if not registry.is_deletable(organisation):
        flash(_("%(name)s has been invited to a round, so it cannot be deleted; deactivate it instead.",
                name=organisation.name))
        return redirect_to(url_for(".organisation_page", organisation_id=organisation.id))
    form = EmptyForm()
    if form.validate_on_submit():
        name = organisation.name
        run_write(lambda: registry.delete_organisation(organisation))
        flash(_("%(name)s was deleted.", name=name))
        return redirect_to(url_for(".list_partners"))
    return render("partners/delete.html", organisation=organisation, form=form)


@bp.post("/<int:organisation_id>/contacts")
def add_contact(organisation_id):
    """Add a contact to an organisation."""
    organisation = _organisation(organisation_id)
    form = ContactForm()
    if form.validate_on_submit():
        contact = run_write(lambda: registry.add_contact(organisation, form.name.data, form.email.data,
                                                         form.language.data))
        flash(_("%(email)s was added.", email=contact.email))
        if is_htmx():
            return _organisation_page(organisation, ContactForm(formdata=None))
        return redirect_to(url_for(".organisation_page", organisation_id=organisation.id))
    return _organisation_page(organisation, form, status=422)


@bp.route("/<int:organisation_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
def edit_contact(organisation_id, contact_id):
    """Change a contact's name, email or language."""
    organisation = _organisation(organisation_id)
    contact = _contact(organisation, contact_id)
    form = ContactForm(obj=contact)
    form.contact_id = contact.id
    if form.validate_on_submit():
        run_write(lambda: registry.update_contact(contact, form.name.data, form.email.data, form.language.data))
        flash(_("%(email)s was saved.", email=contact.email))
        return redirect_to(url_for(".organisation_page", organisation_id=organisation.id))
    return render("partners/contact.html", block="contact_form", organisation=organisation, contact=contact,
                  form=form, status=422 if form.errors else 200, **_vocabulary())


@bp.post("/<int:organisation_id>/contacts/<int:contact_id>/remove")
def remove_contact(organisation_id, contact_id):
    """Remove a contact (kept, inactive, when it has been invited)."""
    organisation = _organisation(organisation_id)
    contact = _contact(organisation, contact_id)
    if EmptyForm().validate_on_submit():
        email = contact.email
        deleted = run_write(lambda: registry.remove_contact(contact))
        flash(_("%(email)s was removed.", email=email) if deleted
              else _("%(email)s was invited before, so it is kept as an inactive contact.", email=email))
    return redirect_to(url_for(".organisation_page", organisation_id=organisation.id))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="partners-import")


@bp.route("/import", methods=["GET", "POST"])
def import_partners():
    """Upload a CSV and see what importing it would do, every bad row listed, before anything changes."""
    form = ImportForm()
    if not form.validate_on_submit():
        return render("partners/import.html", block="import_result", form=form, plan=None,
                      status=422 if form.errors else 200, **_vocabulary())
    upload = form.file.data
    data = upload.read(csv_io.MAX_BYTES + 1)
    return _preview(data, upload.filename or "upload.csv", form)


def _preview(data: bytes, filename: str, form, status: int = 200):
    try:
        plan = csv_io.plan_import(data)
    except csv_io.FileProblem as problem:
        form.file.errors = [str(problem.args[0])]
        return render("partners/import.html", block="import_result", form=form, plan=None, status=422,
                      **_vocabulary())
    confirm = ConfirmImportForm(formdata=None)
    if plan.ok:
        confirm.payload.data = _serializer().dumps(
            {"user": current_user.id, "file": filename, "text": data.decode("utf-8-sig")})
    return render("partners/import.html", block="import_result", form=form, plan=plan, filename=filename,
                  confirm=confirm, status=status if plan.ok else 422, **_vocabulary())


@bp.post("/import/confirm")
def confirm_import():
    """Import the previewed file, checked again against the registry as it is now."""
    form = ConfirmImportForm()
    try:
        if not form.validate_on_submit():
            raise BadSignature("missing")
        content = _serializer().loads(form.payload.data, max_age=IMPORT_MAX_AGE)
        if content.get("user") != current_user.id:
            raise BadSignature("another user's file")
    except BadSignature:
        flash(_("This preview has expired. Please upload the file again."))
        return redirect_to(url_for(".import_partners"))
    data = content["text"].encode("utf-8")
    plan = csv_io.plan_import(data)
    if not plan.ok:
        return _preview(data, content["file"], ImportForm(formdata=None), status=422)
    summary = run_write(lambda: csv_io.apply_plan(plan, content["file"]))
    flash(_("Imported %(file)s: %(orgs_new)s organisations added, %(orgs_updated)s updated; %(contacts_new)s "
            "contacts added, %(contacts_updated)s updated.", file=content["file"],
            orgs_new=summary["organisations_create"], orgs_updated=summary["organisations_update"],
            contacts_new=summary["contacts_create"], contacts_updated=summary["contacts_update"]))
    return redirect_to(url_for(".list_partners", status="all"))
