"""The audit log: recording secretariat actions, and saying each one as a sentence in the reader's language.

Actions are stored as codes ("responses.export") with a target ("round 3") and details; ACTIONS words them. To add
an action, record it with a new code and add one line to ACTIONS (its short name for the filter, and its sentence,
where %(target)s, %(round)s and any detail may appear by name); the details the sentence does not use are listed
under it with the labels of DETAILS. An action missing from ACTIONS still reads as a plain sentence.
"""

import re
from dataclasses import dataclass
from datetime import date

from flask import has_request_context
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user

from .dates import long_date
from .extensions import db
from .i18n import LANGUAGE_NAMES
from .models import AuditEntry


def record(action: str, target: str = "", actor: str | None = None, **details) -> AuditEntry:
    """Add an audit entry to the current transaction; the caller commits it with the change it describes.

    The actor is the signed-in user, "cli" for commands, or "" for someone not signed in (a failed sign-in)."""
    user_id = None
    if actor is None:
        if has_request_context() and current_user.is_authenticated:
            actor, user_id = current_user.email, current_user.id
        else:
            actor = "" if has_request_context() else "cli"
    entry = AuditEntry(actor=actor, user_id=user_id, action=action, target=str(target)[:300], details=details)
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class Wording:
    name: str  # a few words, for the list of actions to filter by
    sentence: str  # what happened, with %(name)s placeholders


W = Wording
ACTIONS: dict[str, Wording] = {
    # Staff accounts
    "user.create": W(_l("Account set from the command line"),
                     _l("Created or reset the account of %(target)s as %(role)s, from the command line")),
    "user.sign_in": W(_l("Sign-in"), _l("Signed in")),
    "user.sign_in_failed": W(_l("Failed sign-in"), _l("Failed sign-in with the email %(target)s")),
    "user.sign_in_unknown": W(_l("Failed sign-in, unknown email"),
                              _l("Failed sign-in with an unknown email (what was typed is not kept)")),
    "user.sign_out": W(_l("Sign-out"), _l("Signed out")),
    "user.invite": W(_l("Colleague invited"), _l("Invited %(target)s to join as %(role)s")),
    "user.invite_failed": W(_l("Invitation not sent"), _l("The invitation of %(target)s could not be sent")),
    "user.invitation_cancel": W(_l("Invitation cancelled"), _l("Cancelled the invitation of %(target)s")),
    "user.join": W(_l("Invitation accepted"), _l("Accepted the invitation and joined as %(role)s")),
    "user.role": W(_l("Role changed"), _l("Changed the role of %(target)s from %(previous)s to %(role)s")),
    "user.deactivate": W(_l("Account deactivated"), _l("Deactivated the account of %(target)s")),
    "user.reactivate": W(_l("Account reactivated"), _l("Reactivated the account of %(target)s")),
    "user.password_change": W(_l("Password changed"), _l("Changed their own password")),
    "user.password_reset_request": W(_l("Password reset asked"),
                                     _l("Asked for a password reset link for %(target)s")),
    "user.password_reset": W(_l("Password reset"), _l("Chose a new password with a reset link")),
    # The partner registry
    "partners.import": W(_l("Registry imported"), _l("Imported the partner registry from %(target)s")),
    "partners.export": W(_l("Registry exported"), _l("Exported the partner registry as CSV")),
    "organisation.create": W(_l("Organisation added"), _l("Added the organisation %(target)s")),
    "organisation.update": W(_l("Organisation changed"), _l("Changed the organisation %(target)s")),
    "organisation.deactivate": W(_l("Organisation deactivated"), _l("Deactivated the organisation %(target)s")),
    "organisation.reactivate": W(_l("Organisation reactivated"), _l("Reactivated the organisation %(target)s")),
    "organisation.delete": W(_l("Organisation deleted"), _l("Deleted the organisation %(target)s")),
    "contact.create": W(_l("Contact added"), _l("Added the contact %(target)s to %(organisation)s")),
    "contact.update": W(_l("Contact changed"), _l("Changed the contact %(target)s of %(organisation)s")),
    "contact.deactivate": W(_l("Contact deactivated"),
                            _l("Deactivated the contact %(target)s of %(organisation)s (kept: it was invited)")),
    "contact.delete": W(_l("Contact deleted"), _l("Deleted the contact %(target)s of %(organisation)s")),
    # Surveys, rounds and mail
    "survey.import": W(_l("Survey imported"), _l("Imported the survey %(target)s from %(file)s")),
    "round.create": W(_l("Round created"), _l("Created the round %(round)s")),
    "round.open": W(_l("Round opened"), _l("Opened the round %(round)s")),
    "round.close": W(_l("Round closed"), _l("Closed the round %(round)s")),
    "round.closing_date": W(_l("Closing date moved"),
                            _l("Moved the closing date of %(round)s from %(previous)s to %(closes_on)s")),
    "round.invite_late": W(_l("Late partners invited"), _l("Invited partners added since %(round)s opened")),
    "round.reopen": W(_l("Round reopened"), _l("Reopened the round %(round)s until %(closes_on)s")),
    "response.reopen": W(_l("Answers reopened"),
                         _l("Reopened the submitted answers of %(contact)s (%(organisation)s) in %(round)s")),
    "invitation.resend": W(_l("Link sent again"), _l("Sent the link of %(contact)s (%(organisation)s) again")),
    "invitation.replace_link": W(_l("Link replaced"),
                                 _l("Replaced the link of %(contact)s (%(organisation)s) in %(round)s")),
    "invitation.not_eligible": W(_l("Marked not eligible"),
                                 _l("Marked %(contact)s (%(organisation)s) as not eligible in %(round)s")),
    "invitations.send": W(_l("Invitations sent"), _l("Sent the invitations of %(round)s")),
    "reminders.send": W(_l("Reminders sent"), _l("Sent reminders for %(round)s")),
    "mail_text.save": W(_l("Mail text changed"), _l("Changed the %(kind)s text of %(round)s in %(language)s")),
    "mail_text.reset": W(_l("Mail text restored"),
                         _l("Restored the default %(kind)s text of %(round)s in %(language)s")),
    "round.reminder_dates": W(_l("Reminder dates changed"), _l("Changed the reminder dates of %(round)s")),
    "invitations.export": W(_l("Personal links exported"),
                            _l("Exported the invitations and personal links of %(round)s")),
    # The analysis
    "responses.export": W(_l("Responses exported"), _l("Exported the responses of %(round)s as %(format)s")),
}

# The labels of details listed under a sentence; a detail not here reads as its name in words.
DETAILS = {
    "role": _l("Role"), "previous": _l("Before"), "reason": _l("Reason"), "error": _l("Error"),
    "file": _l("File"), "rows": _l("Rows"), "format": _l("Format"), "labels": _l("Labels in"),
    "bom": _l("Byte-order mark for Excel"), "without_bom": _l("Without byte-order mark"),
    "anonymised": _l("Anonymised"), "threshold": _l("Smallest group kept"), "sent": _l("Sent"),
    "skipped": _l("Not due"), "failed": _l("Failed"), "remaining": _l("Left for a next run"),
    "invited": _l("Invitations created"), "closes_on": _l("Closes on"), "audience": _l("Partners invited"),
    "organisations": _l("Organisations"), "filters": _l("Filters"), "contact": _l("Contact"),
    "organisation": _l("Organisation"), "changes": _l("Changes"),
    "organisations_create": _l("Organisations added"), "organisations_update": _l("Organisations updated"),
    "organisations_unchanged": _l("Organisations unchanged"), "contacts_create": _l("Contacts added"),
    "contacts_update": _l("Contacts updated"), "contacts_unchanged": _l("Contacts unchanged"),
    "organisations_added": _l("New organisations"), "organisations_updated": _l("Updated organisations"),
    "contacts_added": _l("New contacts"), "contacts_updated": _l("Updated contacts"),
    "category": _l("Category"), "country": _l("Country"), "region": _l("Region"), "pathfinder": _l("Pathfinder"),
    "action_groups": _l("Action Groups"), "action_group": _l("Action Group"), "gcg_member": _l("GCG member"),
    "name": _l("Name"), "email": _l("Email"), "language": _l("Language"), "dates": _l("Dates"),
    "forced": _l("Sent within the reminder gap"),
    "active": lazy_pgettext("a contact or an organisation", "Active"),
}
# Details that only link an entry to a row, or that the target already says.
HIDDEN = {"organisation_id", "contact_id", "survey_version", "name", "invitation"}
# Coded values in words.
VALUES = {
    "role": {"admin": _l("administrator"), "analyst": _l("analyst")},
    "format": {"csv": _l("CSV"), "long": _l("CSV with one row per answer"), "xlsx": _l("an Excel workbook")},
    "reason": {"unknown": _l("no account has this email"), "password": _l("wrong password"),
               "deactivated": _l("the account is deactivated")},
    "labels": LANGUAGE_NAMES, "language": LANGUAGE_NAMES,
    "kind": {"invitation": _l("invitation"), "reminder": _l("reminder")},
}
_TARGET = re.compile(r"^([a-z_]+) (\d+)$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Names of what targets such as "round 3" point at, by kind: a higher layer registers how to find them.
TARGET_NAMES = {}


def name_targets(kind: str, names) -> None:
    """Let entries whose target is "<kind> <id>" name it: names(ids) -> {id: name} (rounds register theirs)."""
    TARGET_NAMES[kind] = names


@dataclass
class Described:
    entry: AuditEntry
    sentence: str
    facts: list[tuple[str, str]]


def action_name(action: str) -> str:
    wording = ACTIONS.get(action)
    return str(wording.name) if wording else action.replace(".", " ").replace("_", " ").capitalize()


def _words(key: str, value) -> str | None:
    """A detail's value as a reader says it; None when there is nothing to say (no, none, empty)."""
    if value is None or value is False or value == "" or value == [] or value == {}:
        return None
    if value is True:
        return str(_l("yes"))
    if isinstance(value, dict):
        parts = [f"{_label(k)}: {_change(v) if key == 'changes' else _words(k, v) or '–'}" for k, v in value.items()]
        return "; ".join(parts)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if key in VALUES and str(value) in VALUES[key]:
        return str(VALUES[key][str(value)])
    if isinstance(value, str) and _ISO_DATE.match(value):
        return long_date(date.fromisoformat(value))
    return str(value)


def _change(value) -> str:
    """A change stored as [before, after], as "before → after"."""
    if isinstance(value, list) and len(value) == 2:
        before, after = (str(_l("yes") if item is True else _l("no") if item is False else item)
                         if item not in (None, "", "None") else "–" for item in value)
        return f"{before} → {after}"
    return str(value)


def _label(key: str) -> str:
    return str(DETAILS.get(key) or key.replace("_", " ").capitalize())


def _target_names(entries) -> dict[str, str]:
    """"round 3" -> the round's name, for every target of these entries a registered kind can name."""
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        match = _TARGET.match(entry.target or "")
        if match and match.group(1) in TARGET_NAMES:
            wanted.setdefault(match.group(1), set()).add(int(match.group(2)))
    names = {}
    for kind, ids in wanted.items():
        names.update({f"{kind} {ident}": name for ident, name in TARGET_NAMES[kind](sorted(ids)).items()})
    return names


class _Placeholders(dict):
    def __missing__(self, key):
        return "–"


def describe(entries) -> list[Described]:
    """Each entry as a sentence in the reader's language, with the details its sentence leaves out."""
    names = _target_names(entries)
    described = []
    for entry in entries:
        details = entry.details or {}
        target = names.get(entry.target) or (details.get("name") if _TARGET.match(entry.target or "") else None) \
            or entry.target
        match = _TARGET.match(entry.target or "")
        values = _Placeholders({key: _words(key, value) or "–" for key, value in details.items()})
        values["target"] = target
        for kind in TARGET_NAMES:  # "%(round)s" of an entry whose target is not a round: its target
            values.setdefault(kind, target)
        if match:
            values[match.group(1)] = target
        wording = ACTIONS.get(entry.action)
        if wording is not None:
            template = str(wording.sentence)
            sentence = template % values
        else:
            template = ""
            sentence = f"{action_name(entry.action)}: {target}" if target else action_name(entry.action)
        facts = [(_label(key), words) for key, value in details.items()
                 if key not in HIDDEN and f"%({key})s" not in template and (words := _words(key, value)) is not None]
        described.append(Described(entry, sentence, facts))
    return described
