"""The registry as a spreadsheet: read a CSV into a plan (what will be created or updated, and every bad row),
apply a plan, and write the registry back out in the same format. The page and the command share these.

One row is one contact of an organisation; an organisation with several contacts takes several rows. Categories,
regions, Action Groups and countries are read by their code or their name in English, French or Spanish (case and
accents ignored), as a registry kept in Excel writes them; the export writes names in the reader's language, which
import again unchanged.
"""

import csv
import io
from dataclasses import dataclass, field

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engagement.audit import record
from engagement.extensions import db
from engagement.spreadsheets import BOM, neutralise, unneutralise
from engagement.text import strip_bidi_controls

from . import registry
from .countries import GLOBAL, country_code, country_name, match_key, region_for
from .models import Contact, Organisation

COLUMNS = ("organisation", "category", "country", "region", "pathfinder", "action_groups", "gcg_member",
           "contact_name", "contact_email", "language")
REQUIRED_COLUMNS = ("organisation", "category")
# About 7,000 rows; the previewed file travels back in a form field, which Flask caps at 500 kB (compressed).
MAX_BYTES = 1024 * 1024
YES = {"yes", "y", "oui", "o", "si", "sí", "true", "1", "x"}
NO = {"no", "n", "non", "false", "0", ""}


class FileProblem(ValueError):
    """The file as a whole cannot be read (not CSV, not UTF-8, empty, too large, no header)."""


@dataclass
class OrganisationPlan:
    line: int
    name: str
    values: dict
    action: str = "create"  # create, update, unchanged
    changes: dict = field(default_factory=dict)


@dataclass
class ContactPlan:
    line: int
    organisation: str
    name: str
    email: str
    language: str
    action: str = "create"


@dataclass
class ImportPlan:
    """What an import would do, and the rows that stop it (a file with any bad row imports nothing)."""

    organisations: list[OrganisationPlan] = field(default_factory=list)
    contacts: list[ContactPlan] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, kind: str, action: str) -> int:
        return sum(1 for item in getattr(self, kind) if item.action == action)

    def summary(self) -> dict:
        return {f"{kind}_{action}": self.count(kind, action)
                for kind in ("organisations", "contacts") for action in ("create", "update", "unchanged")}


def decode(data: bytes) -> str:
    """Bytes -> text, with the reason in the user's words when it is not a UTF-8 CSV."""
    if not data or not data.strip():
        raise FileProblem(_l("The file is empty."))
    if len(data) > MAX_BYTES:
        raise FileProblem(_l("The file is too large (more than %(size)s MB). Split it into smaller files.",
                             size=MAX_BYTES // (1024 * 1024)))
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise FileProblem(_l("This is an Excel workbook, not a CSV file. In Excel choose File > Save As > "
                             "\"CSV UTF-8 (Comma delimited)\" and import that file."))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(_l("The file is in UTF-16. Please save it as CSV UTF-8 (in Excel: File > Save As > "
                             "\"CSV UTF-8 (Comma delimited)\")."))
    if b"\x00" in data:
        raise FileProblem(_l("This is not a CSV file. Please save the spreadsheet as CSV UTF-8 and import that."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FileProblem(_l("The file is not UTF-8 text (line %(line)s). Please save it as CSV UTF-8 (in Excel: "
                             "File > Save As > \"CSV UTF-8 (Comma delimited)\").", line=line)) from error
    return text.lstrip("\ufeff")


def _delimiter(header_line: str) -> str:
    """Excel in French or Spanish locales writes semicolons: whichever of ; and , the header uses more."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def read_rows(data: bytes) -> tuple[list[tuple[int, dict]], list[str]]:
    """The file's rows as (line number, {column: text}) with trimmed, lower-case headers; and ignored columns."""
    text = decode(data)
    header_line = text.splitlines()[0] if text.splitlines() else ""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(header_line))
    try:
        header = [h.strip().lower().replace(" ", "_") for h in next(reader)]
    except (StopIteration, csv.Error) as error:
        raise FileProblem(_l("The file could not be read as CSV.")) from error
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise FileProblem(_l("The first line must name the columns (%(columns)s); missing: %(missing)s.",
                             columns=",".join(COLUMNS), missing=", ".join(missing)))
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        raise FileProblem(_l("The column %(column)s appears twice in the first line.", column=duplicated[0]))
    ignored = [h for h in header if h and h not in COLUMNS]
    rows = []
    line = 2
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                padded = cells + [""] * (len(header) - len(cells))
                rows.append((line, {h: unneutralise(padded[i].strip()) for i, h in enumerate(header)
                                    if h in COLUMNS}))
                if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
                    rows[-1][1]["__extra__"] = "yes"
            line = reader.line_num + 1
    except csv.Error as error:
        raise FileProblem(_l("The file could not be read as CSV near line %(line)s: %(reason)s.",
                             line=reader.line_num, reason=str(error))) from error
    if not rows:
        raise FileProblem(_l("The file has a header but no rows."))
    return rows, ignored


def _flag(value: str) -> bool | None:
    value = value.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    return None


def _vocabularies() -> dict[str, dict[str, str]]:
    """The names each coded column accepts, built once per file."""
    return {"category": registry.vocabulary_index(registry.CATEGORIES),
            "region": registry.vocabulary_index(registry.REGIONS),
            "action_groups": registry.vocabulary_index(registry.ACTION_GROUPS)}


def _allowed(vocabulary: dict) -> str:
    return ", ".join(str(label) for label in vocabulary.values())


def _action_groups(cell: str, index: dict[str, str]) -> tuple[list[str], list[str]]:
    """Codes named in a cell, separated by ; or , (or |), and the names not recognised. A name is tried whole
    before it is split at its commas, in case one of the names ever holds a comma."""
    codes, unknown = [], []
    for piece in cell.replace("|", ";").split(";"):
        names = [piece] if match_key(piece) in index else piece.split(",")
        for name in names:
            if not name.strip():
                continue
            code = index.get(match_key(name))
            if code is None:
                unknown.append(name.strip())
            elif code not in codes:
                codes.append(code)
    return codes, unknown


def _parse_row(row: dict, vocabularies: dict) -> tuple[dict, dict | None, list[str]]:
    """One row -> organisation values, contact (or None), and the reasons it is bad."""
    reasons = []
    name = registry.clean_name(row.get("organisation", ""))
    if not name:
        reasons.append(_("the organisation name is missing"))
    elif len(name) > 200:
        reasons.append(_("the organisation name is longer than 200 characters"))
    category = vocabularies["category"].get(match_key(row.get("category", "")))
    if not row.get("category", "").strip():
        reasons.append(_("the category is missing"))
    elif category is None:
        reasons.append(_("unknown category \"%(value)s\" (use one of: %(codes)s, or their codes)",
                         value=row["category"], codes=_allowed(registry.CATEGORIES)))
    country_known = True
    try:
        country = country_code(row.get("country", ""))
    except KeyError:
        country, country_known = None, False
        reasons.append(_("unknown country \"%(value)s\" (use a country name or its ISO code)", value=row["country"]))
    region_text = row.get("region", "").strip()
    region = vocabularies["region"].get(match_key(region_text))
    if region_text and region is None:
        reasons.append(_("unknown region \"%(value)s\" (use one of: %(codes)s)", value=region_text,
                         codes=_allowed(registry.REGIONS)))
    elif region_text and country_known and region != region_for(country):
        reasons.append(_("the region \"%(value)s\" is not the region of this country, %(region)s (the region "
                         "follows the country; a row without a country is %(everywhere)s)", value=region_text,
                         region=registry.REGIONS[region_for(country)], everywhere=registry.REGIONS[GLOBAL]))
    flags = {}
    for column in ("pathfinder", "gcg_member"):
        flags[column] = _flag(row.get(column, ""))
        if flags[column] is None:
            reasons.append(_("%(column)s must be yes or no, not \"%(value)s\"", column=column, value=row[column]))
    groups, unknown = _action_groups(row.get("action_groups", ""), vocabularies["action_groups"])
    for name in unknown:
        reasons.append(_("unknown action group \"%(value)s\" (use: %(codes)s, separated by ; or by ,)", value=name,
                         codes=_allowed(registry.ACTION_GROUPS)))
    if row.get("__extra__"):
        reasons.append(_("the row has more cells than the header has columns"))
    values = {"name": name, "category": category, "country": country, "region": region_for(country),
              "pathfinder": bool(flags["pathfinder"]), "gcg_member": bool(flags["gcg_member"]),
              "action_groups": " ".join(sorted(groups, key=list(registry.ACTION_GROUPS).index))}
    contact = None
    contact_name = registry.clean_name(row.get("contact_name", ""))
    email = registry.normalise_email(row.get("contact_email", ""))
    language = row.get("language", "").strip().lower() or "en"
    if email or contact_name:
        if not email:
            reasons.append(_("the contact email is missing"))
        elif not registry.is_email(email):
            reasons.append(_("\"%(value)s\" is not an email address", value=row["contact_email"]))
        if not contact_name:
            reasons.append(_("the contact name is missing"))
        if language not in registry.LANGUAGES:
            reasons.append(_("unknown language \"%(value)s\" (use en, fr or es)", value=row["language"]))
        contact = {"name": contact_name[:200], "email": email, "language": language}
    return values, contact, reasons


def _registry_index() -> tuple[dict[str, Organisation], dict[str, Contact]]:
    """The registry in two queries (organisations by lower-case name, contacts by email), not two per row."""
    organisations = db.session.scalars(select(Organisation).options(selectinload(Organisation.contacts))).all()
    by_name = {organisation.name.lower(): organisation for organisation in organisations}
    by_email = {contact.email: contact for organisation in organisations for contact in organisation.contacts}
    return by_name, by_email


def plan_import(data: bytes) -> ImportPlan:
    """Read a CSV and work out what importing it would change; FileProblem if it cannot be read at all."""
    rows, ignored = read_rows(data)
    plan = ImportPlan(rows=len(rows), ignored_columns=ignored)
    organisations: dict[str, OrganisationPlan] = {}
    contacts: dict[str, ContactPlan] = {}
    known_organisations, known_contacts = _registry_index()
    vocabularies = _vocabularies()
    for line, row in rows:
        values, contact, reasons = _parse_row(row, vocabularies)
        key = values["name"].lower()
        if not reasons and key in organisations:
            first = organisations[key]
            differing = [f for f in ("category", "country", "pathfinder", "action_groups", "gcg_member")
                         if first.values[f] != values[f]]
            if differing:
                reasons.append(_("the organisation is on line %(line)s with a different %(field)s",
                                 line=first.line, field=differing[0]))
        if contact and not reasons:
            earlier = contacts.get(contact["email"])
            existing = known_contacts.get(contact["email"])
            if earlier and earlier.organisation.lower() != key:
                reasons.append(_("the email %(email)s is also on line %(line)s, for another organisation (%(other)s)",
                                 email=contact["email"], line=earlier.line, other=earlier.organisation))
            elif earlier and (earlier.name, earlier.language) != (contact["name"], contact["language"]):
                reasons.append(_("the email %(email)s is also on line %(line)s, with a different name or language",
                                 email=contact["email"], line=earlier.line))
            elif existing and existing.organisation.name.lower() != key:
                reasons.append(_("the email %(email)s belongs to a contact of %(other)s in the registry",
                                 email=contact["email"], other=existing.organisation.name))
        if reasons:
            plan.problems.append((line, "; ".join(reasons)))
            continue
        if key not in organisations:
            existing_org = known_organisations.get(key)
            item = OrganisationPlan(line, values["name"], values)
            if existing_org is not None:
                item.name = existing_org.name
                item.changes = {f: [getattr(existing_org, f), v] for f, v in values.items()
                                if f != "name" and getattr(existing_org, f) != v}
                item.action = "update" if item.changes else "unchanged"
            organisations[key] = item
            plan.organisations.append(item)
        if contact and contact["email"] not in contacts:
            existing = known_contacts.get(contact["email"])
            item = ContactPlan(line, organisations[key].name, **contact)
            if existing is not None:
                same = (existing.name, existing.language, existing.active) == (contact["name"], contact["language"],
                                                                                True)
                item.action = "unchanged" if same else "update"
            contacts[contact["email"]] = item
            plan.contacts.append(item)
    return plan


def apply_plan(plan: ImportPlan, source: str = "") -> dict:
    """Create and update what the plan says, in the caller's transaction; refuses a plan with bad rows.

    One audit entry describes the whole import (what was added and updated), not one per row.
    """
    if not plan.ok:
        raise ValueError("a file with bad rows imports nothing")
    by_name: dict[str, Organisation] = {}
    known_organisations, known_contacts = _registry_index()
    with db.session.no_autoflush:
        for item in plan.organisations:
            organisation = known_organisations.get(item.name.lower())
            if organisation is None:
                organisation = registry.create_organisation(item.values, audit=False)
            else:
                values = {k: v for k, v in item.values.items() if k != "name"}
                registry.update_organisation(organisation, values, audit=False)
            by_name[item.name.lower()] = organisation
        for item in plan.contacts:
            organisation = by_name[item.organisation.lower()]
            contact = known_contacts.get(item.email)
            if contact is None:
                registry.add_contact(organisation, item.name, item.email, item.language, audit=False)
            else:
                registry.update_contact(contact, item.name, item.email, item.language, organisation, audit=False)
    summary = plan.summary()
    record("partners.import", source, rows=plan.rows, **summary,
           organisations_added=_names(plan.organisations, "create"),
           organisations_updated=_names(plan.organisations, "update"),
           contacts_added=_names(plan.contacts, "create"), contacts_updated=_names(plan.contacts, "update"))
    return summary


def _names(items, action: str, limit: int = 500) -> list[str]:
    """Who an import touched, for the audit log (the first 500, then how many more)."""
    names = [getattr(item, "email", None) or item.name for item in items if item.action == action]
    return names[:limit] + ([f"... and {len(names) - limit} more"] if len(names) > limit else [])


def export_rows(organisations: list[Organisation]) -> list[list[str]]:
    """One row per active contact (an organisation without contacts still gets one row), with names in the reader's
    language rather than codes."""
    language = str(get_locale() or "en")
    yes, no = _("yes"), _("no")

    def named(vocabulary: dict, code: str) -> str:
        return str(vocabulary.get(code, code))

    rows = []
    for organisation in organisations:
        base = [organisation.name, named(registry.CATEGORIES, organisation.category),
                country_name(organisation.country, language), named(registry.REGIONS, organisation.region),
                yes if organisation.pathfinder else no,
                "; ".join(named(registry.ACTION_GROUPS, code) for code in organisation.action_group_list),
                yes if organisation.gcg_member else no]
        contacts = [c for c in organisation.contacts if c.active]
        for contact in contacts or [None]:
            rows.append(base + ([contact.name, contact.email, contact.language] if contact else ["", "", ""]))
    return rows


def export_csv(organisations: list[Organisation], bom: bool = True) -> str:
    """The registry in the import's format, with a BOM (unless opted out) so Excel opens accents right; formulas
    neutralised."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in export_rows(organisations):
        writer.writerow([neutralise(strip_bidi_controls(cell)) for cell in row])
    return (BOM if bom else "") + out.getvalue()
