"""The registry's vocabulary (categories, regions, Action Groups) and the changes the Secretariat makes to it.

Every change goes through a function here so the pages, the CSV import and the commands record it the same way;
the caller runs it inside a write transaction (engagement.database.run_write) and so commits it with its audit entry.
"""

import math
import re
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, func, literal, or_, select

from engagement.audit import record
from engagement.extensions import db
from engagement.text import strip_bidi_controls

from .countries import GLOBAL, match_key, region_for
from .models import Contact, Organisation

CATEGORIES = {
    "government_pathfinder": _l("Government of a Pathfinder Country"),
    "government": _l("Government, development partner or other"),
    "employers": _l("Employers' organisation"),
    "workers": _l("Workers' organisation"),
    "un": _l("UN entity"),
    "igo": _l("Other intergovernmental or regional organisation"),
    "civil_society": _l("NGO or civil society"),
    "survivor": _l("Survivor-led organisation or network"),
    "academia": _l("Academia or research"),
    "business": _l("Business or industry initiative"),
    "funder": _l("Foundation or funder"),
    "other": _l("Other"),
}
REGIONS = {
    "africa": _l("Africa"),
    "americas": _l("Americas"),
    "arab_states": _l("Arab States"),
    "asia_pacific": _l("Asia and the Pacific"),
    "europe_central_asia": _l("Europe and Central Asia"),
    GLOBAL: _l("Global / multi-regional"),
}
ACTION_GROUPS = {
    "supply_chains": _l("Supply Chains"),
    "migration": _l("Migration"),
    "rule_of_law": _l("Rule of Law and Governance"),
    "conflict_humanitarian": _l("Conflict and Humanitarian Settings"),
}
LANGUAGES = {"en": "English", "fr": "Français", "es": "Español"}
STATUSES = {"active": _l("Active"), "inactive": _l("Inactive"), "all": _l("All")}
PER_PAGE = 50
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def vocabulary_index(vocabulary: dict) -> dict[str, str]:
    """Every way a spreadsheet may name a code -> the code: the code itself ("supply_chains", "supply chains") and
    its label in English, French and Spanish ("Chaînes d'approvisionnement"), compared by match_key."""
    index = {}
    for code, label in vocabulary.items():
        index[match_key(code)] = index[match_key(code.replace("_", " "))] = code
        for language in LANGUAGES:
            with force_locale(language):
                index.setdefault(match_key(str(label)), code)
    return index


def normalise_email(text: str) -> str:
    return strip_bidi_controls(text or "").strip().lower()


def is_email(text: str) -> bool:
    return len(text) <= 254 and bool(EMAIL.match(text))


def clean_name(text: str) -> str:
    """Names compared and stored with their spaces tidied and no direction controls, so ' Ministry  of Labour' is
    one organisation and a name reads as what it is."""
    return " ".join(strip_bidi_controls(text or "").split())


@dataclass
class Filters:
    """What the list is showing: the search text and the filters, as they travel in the URL."""

    q: str = ""
    category: str = ""
    region: str = ""
    pathfinder: str = ""  # "yes", "no" or ""
    action_group: str = ""
    status: str = "active"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> "Filters":
        """Read the query string, dropping values the registry does not know (a stale bookmark still works)."""
        def pick(name, allowed, default=""):
            value = (args.get(name) or "").strip()
            return value if value in allowed else default

        try:
            page = max(1, int(args.get("page", 1)))
        except ValueError:
            page = 1
        return cls(q=(args.get("q") or "").strip()[:200], category=pick("category", CATEGORIES),
                   region=pick("region", REGIONS), pathfinder=pick("pathfinder", ("yes", "no")),
                   action_group=pick("action_group", ACTION_GROUPS), status=pick("status", STATUSES, "active"),
                   page=page)

    def args(self, **changes) -> dict:
        """The query string for this view (or a changed one), without empty values."""
        values = {"q": self.q, "category": self.category, "region": self.region, "pathfinder": self.pathfinder,
                  "action_group": self.action_group, "status": self.status, "page": self.page}
        values.update(changes)
        defaults = {"page": 1, "status": "active"}
        return {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}


@dataclass
class Page:
    organisations: list[Organisation]
    total: int
    page: int
    pages: int


def where_partners(query, filters: dict):
    """Narrow a query that involves Organisation to the partner groups the Secretariat filters by.

    filters may hold category, region, pathfinder ("yes"/"no") and action_group; other keys are ignored. Used by
    the registry, the rounds' audiences and the dashboard, so a filter means the same everywhere.
    """
    category, region = filters.get("category"), filters.get("region")
    pathfinder, action_group = filters.get("pathfinder"), filters.get("action_group")
    if category:
        query = query.where(Organisation.category == category)
    if region:
        query = query.where(Organisation.region == region)
    if pathfinder in ("yes", "no"):
        query = query.where(Organisation.pathfinder.is_(pathfinder == "yes"))
    if action_group:
        # Codes are stored space-separated; pad both sides so 'migration' never matches a longer code.
        padded = literal(" ", String) + func.coalesce(Organisation.action_groups, "") + literal(" ", String)
        query = query.where(padded.like(f"% {action_group} %"))
    return query


def _filtered(filters: Filters):
    query = select(Organisation)
    if filters.q:
        escaped = filters.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        contact_match = select(Contact.id).where(
            Contact.organisation_id == Organisation.id,
            or_(func.lower(Contact.name).like(pattern, escape="\\"), func.lower(Contact.email).like(pattern, escape="\\")),
        ).exists()
        query = query.where(or_(func.lower(Organisation.name).like(pattern, escape="\\"),
                                func.lower(func.coalesce(Organisation.country, "")) == filters.q.lower(),
                                contact_match))
    query = where_partners(query, {"category": filters.category, "region": filters.region,
                                   "pathfinder": filters.pathfinder, "action_group": filters.action_group})
    if filters.status != "all":
        query = query.where(Organisation.active.is_(filters.status == "active"))
    return query


def find_organisations(filters: Filters, per_page: int = PER_PAGE) -> Page:
    """One page of the registry, in name order."""
    query = _filtered(filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, math.ceil(total / per_page))
    page = min(filters.page, pages)
    rows = db.session.scalars(
        query.order_by(func.lower(Organisation.name), Organisation.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(list(rows), total, page, pages)


def all_organisations(filters: Filters | None = None) -> list[Organisation]:
    """Every organisation the filters select (all pages), for exports."""
    query = _filtered(filters or Filters(status="all"))
    return list(db.session.scalars(query.order_by(func.lower(Organisation.name), Organisation.id)))


def organisation_named(name: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == clean_name(name).lower()))


def contact_with_email(email: str) -> Contact | None:
    return db.session.scalar(select(Contact).where(Contact.email == normalise_email(email)))


def _apply(organisation: Organisation, values: dict) -> dict:
    """Set an organisation's attributes, deriving its region; returns what changed as {field: [old, new]}."""
    changes = {}
    values = dict(values)
    if "country" in values:
        values["region"] = region_for(values["country"])
    for field in ("name", "category", "country", "region", "pathfinder", "action_groups", "gcg_member"):
        if field in values and getattr(organisation, field) != values[field]:
            changes[field] = [getattr(organisation, field), values[field]]
            setattr(organisation, field, values[field])
    return changes


def create_organisation(values: dict, contact: dict | None = None, audit: bool = True) -> Organisation:
    """Add an organisation (and its first contact); an import passes audit=False and records one summary."""
    organisation = Organisation(action_groups="", pathfinder=False, gcg_member=False, active=True)
    _apply(organisation, values)
    db.session.add(organisation)
    if contact:
        organisation.contacts.append(Contact(name=contact["name"], email=normalise_email(contact["email"]),
                                             language=contact.get("language") or "en", active=True))
    if audit:
        db.session.flush()
        record("organisation.create", organisation.name, organisation_id=organisation.id,
               contact=normalise_email(contact["email"]) if contact else None)
    return organisation


def update_organisation(organisation: Organisation, values: dict, audit: bool = True) -> dict:
    """Change an organisation's attributes; the audit entry lists what changed (nothing recorded if nothing did)."""
    changes = _apply(organisation, values)
    if changes and audit:
        record("organisation.update", organisation.name, organisation_id=organisation.id,
               changes={k: [str(a), str(b)] for k, (a, b) in changes.items()})
    return changes


def set_active(organisation: Organisation, active: bool) -> None:
    """Deactivate (kept with its history, left out of new rounds) or reactivate an organisation."""
    if organisation.active != active:
        organisation.active = active
        record("organisation.reactivate" if active else "organisation.deactivate", organisation.name,
               organisation_id=organisation.id)


def _referenced(table_name: str, ids: list[int], skip: tuple[str, ...] = ()) -> bool:
    """Whether any other table points at these rows (invitations, responses...), without the registry
    importing the packages that own those tables."""
    if not ids:
        return False
    for table in db.metadata.tables.values():
        if table.name in skip:
            continue
        for key in table.foreign_keys:
            if key.column.table.name == table_name and db.session.scalar(
                    select(func.count()).select_from(table).where(key.parent.in_(ids))):
                return True
    return False


def is_deletable(organisation: Organisation) -> bool:
    """Only an organisation nobody has invited or heard from may be deleted; the others are deactivated."""
    contact_ids = [c.id for c in organisation.contacts]
    return not (_referenced("organisations", [organisation.id], skip=("contacts",))
                or _referenced("contacts", contact_ids))


def delete_organisation(organisation: Organisation) -> None:
    if not is_deletable(organisation):
        raise ValueError("this organisation has been invited or has answered; deactivate it instead")
    record("organisation.delete", organisation.name, organisation_id=organisation.id,
           contacts=[c.email for c in organisation.contacts])
    db.session.delete(organisation)


def add_contact(organisation: Organisation, name: str, email: str, language: str = "en",
                audit: bool = True) -> Contact:
    contact = Contact(name=clean_name(name), email=normalise_email(email), language=language or "en", active=True)
    organisation.contacts.append(contact)
    if audit:
        db.session.flush()
        record("contact.create", contact.email, organisation=organisation.name, contact_id=contact.id)
    return contact


def update_contact(contact: Contact, name: str, email: str, language: str,
                   organisation: Organisation | None = None, audit: bool = True) -> dict:
    """Change a contact (or move it to another organisation, as a re-import may)."""
    changes = {}
    values = {"name": clean_name(name), "email": normalise_email(email), "language": language or "en",
              "active": True}
    if organisation is not None and contact.organisation_id != organisation.id:
        changes["organisation"] = [contact.organisation.name, organisation.name]
        contact.organisation = organisation
    for field, value in values.items():
        if getattr(contact, field) != value:
            changes[field] = [str(getattr(contact, field)), str(value)]
            setattr(contact, field, value)
    if changes and audit:
        record("contact.update", contact.email, organisation=contact.organisation.name, contact_id=contact.id,
               changes=changes)
    return changes


def remove_contact(contact: Contact) -> bool:
    """Delete a contact, or only deactivate it when it has been invited (its answers stay attributable).
    Returns True when it was deleted."""
    organisation = contact.organisation
    if _referenced("contacts", [contact.id]):
        contact.active = False
        record("contact.deactivate", contact.email, organisation=organisation.name, contact_id=contact.id)
        return False
    record("contact.delete", contact.email, organisation=organisation.name, contact_id=contact.id)
    organisation.contacts.remove(contact)
    db.session.delete(contact)
    return True
