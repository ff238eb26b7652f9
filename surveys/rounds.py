"""Rounds: opening a survey version to a set of partners, one invitation per contact."""

import csv
import secrets
from datetime import UTC, date, datetime
from typing import TextIO

from sqlalchemy.orm import selectinload

from engagement.audit import record
from engagement.extensions import db
from engagement.spreadsheets import BOM, neutralise
from engagement.text import strip_bidi_controls
from engagement.timestamps import as_utc
from partners.models import Contact, Organisation
from partners.registry import where_partners

from .invitations import assign_token, link_for
from .models import Invitation, Round, SurveyVersion
from .reminders import schedule_default_reminders


def audience_query(audience: dict):
    """Active contacts of active organisations matching a round's filter (category, region, pathfinder, group)."""
    query = (db.select(Contact).join(Contact.organisation)
             .where(Organisation.active.is_(True), Contact.active.is_(True)))
    return where_partners(query, audience).order_by(Organisation.name, Contact.id)


def round_names(ids: list[int]) -> dict[int, str]:
    """Rounds' names by id, so the audit log says "2026 partner review" rather than "round 3"."""
    return dict(db.session.execute(db.select(Round.id, Round.name).where(Round.id.in_(ids))).all())


def round_name(text: str | None) -> str:
    """A round's name as stored: no direction controls, no surrounding spaces."""
    return strip_bidi_controls(text or "").strip()


def create_round(version: SurveyVersion, name: str, closes_on: date, audience: dict | None = None,
                 translated_names: dict | None = None) -> Round:
    """Add a draft round (the caller checks it with check_round), in the caller's write transaction;
    `translated_names` are its name in other languages, as partners read it ({"fr": ...})."""
    names = {code: round_name(text) for code, text in (translated_names or {}).items() if text and text.strip()}
    round_ = Round(survey_version=version, name=round_name(name), closes_on=closes_on, audience=audience or {},
                   status="draft", translated_names=names)
    db.session.add(round_)
    db.session.flush()
    schedule_default_reminders(round_)
    record("round.create", f"round {round_.id}", name=round_.name, survey_version=version.id,
           closes_on=round_.closes_on.isoformat(), audience=round_.audience)
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


class RoundError(ValueError):
    """A round cannot change this way in its state; `problem` says why (the pages and commands word it)."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


def open_round(round_: Round, today: date | None = None) -> list[Invitation]:
    """Open a draft round and invite its audience (mails are sent separately)."""
    if round_.status != "draft":
        raise RoundError("not_draft")
    if round_.closes_on < _today(today):
        raise RoundError("closes_in_past")
    round_.status = "open"
    round_.opened_at = datetime.now(UTC)
    round_.opens_on = round_.opens_on or _today(today)
    invitations = invite_audience(round_)
    record("round.open", f"round {round_.id}", name=round_.name, invited=len(invitations))
    return invitations


def close_round(round_: Round) -> None:
    """Stop new answers; partial responses stay for the analysis."""
    if round_.status != "open":
        raise RoundError("not_open")
    round_.status = "closed"
    round_.closed_at = datetime.now(UTC)
    record("round.close", f"round {round_.id}", name=round_.name)


def change_closing_date(round_: Round, closes_on: date, today: date | None = None) -> None:
    """Move the closing date of a draft or open round (a deadline extended, or brought forward); partners' links
    follow at once, and later mails give the new date."""
    if round_.status not in ("draft", "open"):
        raise RoundError("closed")
    if closes_on < _today(today):
        raise RoundError("past")
    record("round.closing_date", f"round {round_.id}", name=round_.name, previous=round_.closes_on.isoformat(),
           closes_on=closes_on.isoformat())
    round_.closes_on = closes_on


def reopen_round(round_: Round, closes_on: date, reason: str, today: date | None = None) -> None:
    """Open a closed round again until a new date: partners' links work again, and those who had submitted keep
    their receipt (their responses are not touched)."""
    if round_.status != "closed":
        raise RoundError("not_closed")
    reason = " ".join((reason or "").split())
    if not reason:
        raise RoundError("no_reason")
    if len(reason) > 500:
        raise RoundError("reason_too_long")
    if closes_on < _today(today):
        raise RoundError("past")
    record("round.reopen", f"round {round_.id}", name=round_.name, previous=round_.closes_on.isoformat(),
           closes_on=closes_on.isoformat(), reason=reason)
    round_.status, round_.closes_on, round_.closed_at = "open", closes_on, None


def invite_late_partners(round_: Round) -> list[Invitation]:
    """Invite partners added to the registry since the round opened (those matching its filter)."""
    if round_.status != "open":
        raise RoundError("not_open")
    invitations = invite_audience(round_)
    record("round.invite_late", f"round {round_.id}", invited=len(invitations))
    return invitations


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


def _timestamp(moment: datetime | None) -> str:
    return "" if moment is None else as_utc(moment).isoformat(timespec="seconds")


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


def write_invitations_csv(round_: Round, stream: TextIO, bom: bool = True) -> int:
    """Write the round's invitations as CSV (formula-safe; a BOM first unless opted out); returns the number of rows."""
    if bom:
        stream.write(BOM)
    writer = csv.DictWriter(stream, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    rows = export_rows(round_)
    for row in rows:
        writer.writerow({key: neutralise(strip_bidi_controls(value)) for key, value in row.items()})
    return len(rows)
