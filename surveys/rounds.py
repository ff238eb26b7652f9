"""Rounds: opening a survey version to a set of partners, one invitation per contact."""

import secrets
from datetime import UTC, date, datetime

from engagement.extensions import db
from partners.models import Contact, Organisation

from .invitations import assign_token
from .models import Invitation, Round, SurveyVersion


def audience_query(audience: dict):
    """Active contacts of active organisations matching a round's filter (category, region, pathfinder, group)."""
    query = (db.select(Contact).join(Contact.organisation)
             .where(Organisation.active.is_(True), Contact.active.is_(True)))
    if audience.get("category"):
        query = query.where(Organisation.category == audience["category"])
    if audience.get("region"):
        query = query.where(Organisation.region == audience["region"])
    if audience.get("pathfinder") in ("yes", "no"):
        query = query.where(Organisation.pathfinder.is_(audience["pathfinder"] == "yes"))
    if audience.get("action_group"):
        query = query.where((" " + Organisation.action_groups + " ").contains(f" {audience['action_group']} "))
    return query.order_by(Organisation.name, Contact.id)


def create_round(version: SurveyVersion, name: str, closes_on: date, audience: dict | None = None) -> Round:
    round_ = Round(survey_version=version, name=name, closes_on=closes_on, audience=audience or {}, status="draft")
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
