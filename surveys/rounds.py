"""Rounds: opening a survey version to a set of partners, one invitation per contact."""

import csv
import secrets
from datetime import UTC, date, datetime
from typing import TextIO

from sqlalchemy.orm import selectinload

from engagement.extensions import db
from engagement.text import strip_bidi_controls
from partners.models import Contact, Organisation
from partners.registry import where_partners

from .invitations import assign_token, link_for
from .models import Invitation, Round, Survey, SurveyVersion


def audience_query(audience: dict):
    """Active contacts of active organisations matching a round's filter (category, region, pathfinder, group)."""
    query = (db.select(Contact).join(Contact.organisation)
             .where(Organisation.active.is_(True), Contact.active.is_(True)))
    return where_partners(query, audience).order_by(Organisation.name, Contact.id)


def round_name(text: str | None) -> str:
    """A round's name as stored: no direction controls, no surrounding spaces."""
    return strip_bidi_controls(text or "").strip()


def create_round(version: SurveyVersion, name: str, closes_on: date, audience: dict | None = None) -> Round:
    """Add a draft round (the caller checks it with check_round and commits)."""
    round_ = Round(survey_version=version, name=round_name(name), closes_on=closes_on, audience=audience or {}, status="draft")
    db.session.add(round_)
    db.session.flush()
    return round_


def invite_audience(round_: Round) -> list[Invitation]:
    """Invite every matching contact not invited yet (partners added while the round is open included)."""
    invited = set(db.session.scalars(db.select(Invitation.contact_id).filter_by(round_id=round_.id)))
    created = []
    for contact in db.session.scalars(audience_query(round_.audience or {})):
        if contact.id in invited:
            continue
        # A random placeholder keeps token_hash unique until the id the real token needs is known.
        invitation = Invitation(round_id=round_.id, contact_id=contact.id, salt="", token_hash=secrets.token_hex(32))
        db.session.add(invitation)
        created.append(invitation)
    db.session.flush()
    for invitation in created:
        assign_token(invitation)
    db.session.flush()
    return created


def open_round(round_: Round) -> list[Invitation]:
    """Open a draft round and invite its audience; the caller commits."""
    round_.status = "open"
    round_.opened_at = datetime.now(UTC)
    round_.opens_on = round_.opens_on or datetime.now(UTC).date()
    return invite_audience(round_)


def close_round(round_: Round) -> None:
    """Stop new answers; partial responses stay for the analysis."""
    round_.status = "closed"
    round_.closed_at = datetime.now(UTC)


def change_closing_date(round_: Round, closes_on: date, today: date | None = None) -> str | None:
    """Move the closing date of a draft or open round (a deadline extended, or brought forward); partners' links
    follow at once, and later mails give the new date. Returns the problem ("closed", "past") or None."""
    if round_.status not in ("draft", "open"):
        return "closed"
    if closes_on < (today or datetime.now(UTC).date()):
        return "past"
    round_.closes_on = closes_on
    return None


class RoundError(ValueError):
    """A round cannot be created or changed this way; the message says why, in the Secretariat's words."""


def check_round(name: str, closes_on: date | None, today: date | None = None) -> dict[str, str]:
    """Problems with a new round's name and closing date, as {field: code} (empty when it can be created)."""
    problems = {}
    if not round_name(name):
        problems["name"] = "missing"
    elif len(round_name(name)) > 200:
        problems["name"] = "too_long"
    if closes_on is None:
        problems["closes_on"] = "missing"
    elif closes_on < (today or datetime.now(UTC).date()):
        problems["closes_on"] = "past"
    return problems


def latest_version(survey_ref: str) -> SurveyVersion | None:
    """The newest version of a survey named by its form_id or its id."""
    survey = db.session.scalar(db.select(Survey).filter_by(form_id=survey_ref))
    if survey is None and survey_ref.isdigit():
        survey = db.session.get(Survey, int(survey_ref))
    return survey.versions[-1] if survey is not None and survey.versions else None


def clean_audience(audience: dict | None) -> dict:
    """Keep only the filters audience_query understands, without empty ones."""
    audience = audience or {}
    return {key: str(audience[key]) for key in AUDIENCE_FILTERS if audience.get(key) not in (None, "")}


AUDIENCE_FILTERS = ("category", "region", "pathfinder", "action_group")


def count_audience(audience: dict) -> int:
    """How many contacts a round with this filter would invite."""
    return db.session.scalar(db.select(db.func.count()).select_from(audience_query(audience).order_by(None)
                                                                     .subquery()))


def late_contacts(round_: Round) -> int:
    """Contacts who match the round's filter but have no invitation yet (added since it opened)."""
    invited = db.select(Invitation.contact_id).where(Invitation.round_id == round_.id)
    query = audience_query(round_.audience or {}).where(Contact.id.not_in(invited)).order_by(None)
    return db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))


def invitation_status(invitation: Invitation) -> str:
    """invited, started (a response exists, not submitted) or submitted."""
    if invitation.response is None:
        return "invited"
    return "submitted" if invitation.response.status == "submitted" else "started"


def round_invitations(round_: Round) -> list[Invitation]:
    """A round's invitations with their contact, organisation and response, ordered by organisation."""
    query = (db.select(Invitation).join(Invitation.contact).join(Contact.organisation)
             .where(Invitation.round_id == round_.id)
             .options(selectinload(Invitation.contact).selectinload(Contact.organisation),
                      selectinload(Invitation.response))
             .order_by(Organisation.name, Contact.name, Invitation.id))
    return list(db.session.scalars(query))


EXPORT_COLUMNS = ("organisation", "contact_name", "contact_email", "language", "status", "link", "invited_at",
                  "last_reminded_at", "reminders")


def spreadsheet_safe(value) -> str:
    """Neutralise a cell a spreadsheet would run as a formula (= + - @ tab CR) with a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _timestamp(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:  # SQLite gives back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def export_rows(round_: Round) -> list[dict]:
    """One row per invitation, as the export and the round page show it."""
    rows = []
    for invitation in round_invitations(round_):
        contact = invitation.contact
        rows.append({
            "organisation": contact.organisation.name, "contact_name": contact.name,
            "contact_email": contact.email, "language": contact.language, "status": invitation_status(invitation),
            "link": link_for(invitation), "invited_at": _timestamp(invitation.invited_at),
            "last_reminded_at": _timestamp(invitation.last_reminded_at), "reminders": invitation.reminder_count or 0,
        })
    return rows


def write_invitations_csv(round_: Round, stream: TextIO) -> int:
    """Write the round's invitations as CSV (formula-safe); returns the number of rows."""
    writer = csv.DictWriter(stream, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    rows = export_rows(round_)
    for row in rows:
        writer.writerow({key: spreadsheet_safe(strip_bidi_controls(value)) for key, value in row.items()})
    return len(rows)
