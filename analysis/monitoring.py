"""How far a round has come: invited, started, submitted and completion rates, counted by SQL aggregates.

A status is what the invitations export writes: "submitted" when the response is submitted, "started" when a
response exists but is not submitted, "invited" otherwise. Eligible = invited minus those marked ineligible
(duplicate, left, bounced); the completion rate is eligible submitted / eligible. Every function runs a fixed
number of queries, however many invitations the round has.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, and_, case, cast, func

from engagement.extensions import db
from engagement.timestamps import as_utc
from partners.models import Contact, Organisation
from partners.registry import where_partners
from surveys.models import Invitation, Response, Round, Survey, SurveyVersion

FILTERS = ("category", "region", "pathfinder", "action_group")


@dataclass
class Counts:
    """The numbers of one row of the dashboard."""

    invited: int = 0
    started: int = 0
    submitted: int = 0
    ineligible: int = 0
    submitted_eligible: int = 0

    @property
    def not_started(self) -> int:
        return self.invited - self.started - self.submitted

    @property
    def eligible(self) -> int:
        return self.invited - self.ineligible

    @property
    def completion_rate(self) -> float | None:
        """Eligible submitted / eligible, or None when nobody is eligible (no rate rather than 0 %)."""
        return self.submitted_eligible / self.eligible if self.eligible else None

    def add(self, other: "Counts") -> None:
        self.invited += other.invited
        self.started += other.started
        self.submitted += other.submitted
        self.ineligible += other.ineligible
        self.submitted_eligible += other.submitted_eligible


@dataclass
class NonRespondent:
    invitation_id: int
    organisation: str
    contact_name: str
    contact_email: str
    language: str
    status: str  # invited or started
    last_reminded_at: datetime | None
    reminder_count: int
    invited_at: datetime | None  # None: the invitation mail has not gone out, so there is nothing to remind of


@dataclass
class Monitoring:
    """Everything the dashboard shows for one round under one filter."""

    total: Counts
    by_category: dict[str, Counts]
    by_region: dict[str, Counts]
    by_pathfinder: dict[bool, Counts]
    by_action_group: dict[str, Counts]  # "" holds organisations in no Action Group
    submissions_per_day: list[tuple[date, int, int]]  # day, submitted that day, cumulative
    non_respondents: list[NonRespondent] = field(default_factory=list)


def _is_submitted():
    return Response.status == "submitted"


def _is_started():
    return and_(Response.id.is_not(None), Response.status != "submitted")


def status_expression():
    """The export's status of an invitation, as SQL (the invitation outer-joined to its response)."""
    return case((_is_submitted(), "submitted"), (Response.id.is_not(None), "started"), else_="invited")


def _how_many(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _count_columns():
    one = _how_many
    return (
        func.count(Invitation.id),
        one(_is_started()),
        one(_is_submitted()),
        one(Invitation.ineligible.is_not(None)),
        one(and_(_is_submitted(), Invitation.ineligible.is_(None))),
    )


def _joined(query):
    return (query.select_from(Invitation)
            .join(Contact, Contact.id == Invitation.contact_id)
            .join(Organisation, Organisation.id == Contact.organisation_id)
            .outerjoin(Response, Response.invitation_id == Invitation.id))


def _filtered(query, round_id: int, filters: dict):
    """Restrict to one round and the organisations the filter (category, region, pathfinder, group) selects."""
    return where_partners(query.where(Invitation.round_id == round_id), filters)


def _grouped(round_id: int, filters: dict, key) -> list[tuple]:
    query = _joined(db.select(key, *_count_columns())).group_by(key)
    return db.session.execute(_filtered(query, round_id, filters)).all()


def _counts(row) -> Counts:
    return Counts(*(int(value or 0) for value in row))


def round_counts(round_id: int, filters: dict | None = None) -> Counts:
    """Invited, started, submitted and ineligible for a round, under an optional filter (one query)."""
    query = _filtered(_joined(db.select(*_count_columns())), round_id, filters or {})
    return _counts(db.session.execute(query).one())


def counts_by(round_id: int, dimension: str, filters: dict | None = None) -> dict:
    """The counts by category, region, pathfinder or action_group (one query each).

    An organisation in several Action Groups counts in each; "" collects those in none.
    """
    filters = filters or {}
    if dimension == "action_group":
        result: dict[str, Counts] = defaultdict(Counts)
        for groups, *numbers in _grouped(round_id, filters, Organisation.action_groups):
            for group in (groups or "").split() or [""]:
                if filters.get("action_group") and group != filters["action_group"]:
                    continue
                result[group].add(_counts(numbers))
        return dict(sorted(result.items(), key=lambda item: (item[0] == "", item[0])))
    column = {"category": Organisation.category, "region": Organisation.region,
              "pathfinder": Organisation.pathfinder}[dimension]
    rows = _grouped(round_id, filters, column)
    if dimension == "pathfinder":
        return {bool(key): _counts(numbers) for key, *numbers in sorted(rows, key=lambda row: not row[0])}
    return {key: _counts(numbers) for key, *numbers in sorted(rows, key=lambda row: row[0] or "")}


def _submission_day():
    """The UTC calendar day of a submission, on SQLite and on PostgreSQL (whatever the session time zone)."""
    if db.engine.dialect.name == "postgresql":
        return cast(func.timezone("UTC", Response.submitted_at), Date)
    return func.date(Response.submitted_at)


def submissions_per_day(round_: Round, filters: dict | None = None, today: date | None = None) -> list[tuple]:
    """(day, submitted that day, cumulative) for every day from the round's opening to today or its close."""
    day = _submission_day()
    query = _joined(db.select(day, func.count(Response.id))).where(_is_submitted()).group_by(day).order_by(day)
    per_day = {}
    for key, count in db.session.execute(_filtered(query, round_.id, filters or {})):
        per_day[key if isinstance(key, date) else date.fromisoformat(str(key)[:10])] = int(count)
    today = today or datetime.now(UTC).date()
    first = min([round_.opens_on or (round_.opened_at or round_.created_at).date(), *per_day])
    last = max([min(today, round_.closes_on), *per_day])
    series, total, current = [], 0, first
    while current <= last:
        total += per_day.get(current, 0)
        series.append((current, per_day.get(current, 0), total))
        current += timedelta(days=1)
    return series


def non_respondents(round_id: int, filters: dict | None = None) -> list[NonRespondent]:
    """Eligible invitations not submitted, by organisation, with when they were last reminded (one query)."""
    status = status_expression()
    query = _joined(db.select(
        Invitation.id, Organisation.name, Contact.name, Contact.email, Contact.language, status,
        Invitation.last_reminded_at, Invitation.reminder_count, Invitation.invited_at,
    )).where(Invitation.ineligible.is_(None), func.coalesce(Response.status, "") != "submitted")
    query = _filtered(query, round_id, filters or {}).order_by(Organisation.name, Contact.name, Invitation.id)
    return [NonRespondent(*row[:7], int(row[7] or 0), row[8]) for row in db.session.execute(query)]


def due_for_reminder(people: list[NonRespondent], now: datetime, gap_days: float) -> set[int]:
    """Invitations a reminder may go to now: mailed, and not mailed in the last `gap_days` (as the mailer rules)."""
    cutoff = now - timedelta(days=gap_days)
    return {person.invitation_id for person in people if person.invited_at is not None
            and as_utc(person.invited_at) <= cutoff
            and (person.last_reminded_at is None or as_utc(person.last_reminded_at) <= cutoff)}


def monitoring(round_: Round, filters: dict | None = None, today: date | None = None) -> Monitoring:
    """All the dashboard's numbers and lists for one round under one filter, in eight queries."""
    filters = filters or {}
    return Monitoring(
        total=round_counts(round_.id, filters),
        by_category=counts_by(round_.id, "category", filters),
        by_region=counts_by(round_.id, "region", filters),
        by_pathfinder=counts_by(round_.id, "pathfinder", filters),
        by_action_group=counts_by(round_.id, "action_group", filters),
        submissions_per_day=submissions_per_day(round_, filters, today),
        non_respondents=non_respondents(round_.id, filters),
    )


@dataclass
class RoundSummary:
    round: Round
    survey_title: str
    counts: Counts


def rounds_overview() -> list[RoundSummary]:
    """Every round, newest first, with its survey and counts (two queries in all)."""
    rounds = db.session.execute(
        db.select(Round, Survey.title)
        .join(SurveyVersion, SurveyVersion.id == Round.survey_version_id)
        .join(Survey, Survey.id == SurveyVersion.survey_id)
        .order_by(Round.created_at.desc(), Round.id.desc())
    ).all()
    query = (db.select(Invitation.round_id, *_count_columns()).select_from(Invitation)
             .outerjoin(Response, Response.invitation_id == Invitation.id).group_by(Invitation.round_id))
    counts = {round_id: _counts(numbers) for round_id, *numbers in db.session.execute(query)}
    return [RoundSummary(round_, title, counts.get(round_.id, Counts())) for round_, title in rounds]


def action_groups_in_round(round_id: int) -> list[str]:
    """The Action Groups of the organisations invited to a round, for the filter's choices (one query)."""
    query = _joined(db.select(Organisation.action_groups).distinct()).where(Invitation.round_id == round_id)
    return sorted({group for (groups,) in db.session.execute(query) for group in (groups or "").split()})
