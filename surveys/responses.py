"""The responses of a round as the Secretariat reads them: who answered how far, filtered, sorted and paged."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_

from engagement.extensions import db
from partners.models import Contact, Organisation
from partners.registry import CATEGORIES, REGIONS, where_partners

from .models import Answer, Invitation, Response, Round
from .relevance import layout
from .versions import definition_for

PAGE_SIZE = 50
MAX_PAGE = 100_000  # a larger page number is no page at all (and would overflow SQL's OFFSET)
STATUSES = ("not_opened", "in_progress", "submitted", "not_eligible")
SORTS = ("organisation", "contact", "language", "status", "activity", "reminders")


@dataclass
class ResponseFilters:
    """What the list is narrowed to and ordered by, as read from the query string (unknown values dropped)."""

    status: str = ""
    category: str = ""
    region: str = ""
    pathfinder: str = ""
    q: str = ""
    sort: str = "organisation"
    descending: bool = False
    page: int = 1

    @classmethod
    def from_args(cls, args) -> "ResponseFilters":
        def known(name, allowed):
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""

        page = args.get("page", 1, type=int) or 1
        return cls(status=known("status", STATUSES), category=known("category", CATEGORIES),
                   region=known("region", REGIONS), pathfinder=known("pathfinder", ("yes", "no")),
                   q=" ".join((args.get("q") or "").split())[:100], sort=known("sort", SORTS) or "organisation",
                   descending=args.get("order") == "desc", page=min(max(page, 1), MAX_PAGE))

    def query_args(self, **changes) -> dict:
        """The query string of this view with some values changed (for sort links and pages), empty ones left out."""
        values = {"status": self.status, "category": self.category, "region": self.region,
                  "pathfinder": self.pathfinder, "q": self.q, "sort": self.sort,
                  "order": "desc" if self.descending else "", "page": self.page}
        values.update(changes)
        return {key: value for key, value in values.items()
                if value not in ("", None) and not (key == "page" and value == 1)
                and not (key == "sort" and value == "organisation")}


def status_of(response_status: str | None, ineligible: str | None) -> str:
    """not_eligible, not_opened (no response yet), in_progress or submitted."""
    if ineligible:
        return "not_eligible"
    if response_status is None:
        return "not_opened"
    return "submitted" if response_status == "submitted" else "in_progress"


_STATUS_ORDER = case((Invitation.ineligible.is_not(None), 3), (Response.id.is_(None), 0),
                     (Response.status == "submitted", 2), else_=1)


def _sort_column(sort: str):
    return {"organisation": func.lower(Organisation.name), "contact": func.lower(Contact.name),
            "language": Contact.language, "status": _STATUS_ORDER, "activity": Response.updated_at,
            "reminders": Invitation.reminder_count}[sort]


def responses_query(round_: Round, filters: ResponseFilters):
    """The round's invitations with contact, organisation and response, narrowed and ordered as asked."""
    query = (db.select(Invitation, Contact, Organisation, Response)
             .join(Contact, Contact.id == Invitation.contact_id)
             .join(Organisation, Organisation.id == Contact.organisation_id)
             .outerjoin(Response, Response.invitation_id == Invitation.id)
             .where(Invitation.round_id == round_.id))
    query = where_partners(query, {"category": filters.category, "region": filters.region,
                                   "pathfinder": filters.pathfinder})
    if filters.status == "not_eligible":
        query = query.where(Invitation.ineligible.is_not(None))
    elif filters.status:
        query = query.where(Invitation.ineligible.is_(None))
        if filters.status == "not_opened":
            query = query.where(Response.id.is_(None))
        elif filters.status == "submitted":
            query = query.where(Response.status == "submitted")
        else:
            query = query.where(Response.id.is_not(None), Response.status != "submitted")
    if filters.q:
        escaped = filters.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(or_(func.lower(Organisation.name).like(pattern, escape="\\"),
                                func.lower(Contact.name).like(pattern, escape="\\"),
                                func.lower(Contact.email).like(pattern, escape="\\")))
    column = _sort_column(filters.sort)
    ordered = column.desc() if filters.descending else column.asc()
    if filters.sort == "activity":  # never-opened invitations last, whichever way
        ordered = ordered.nulls_last()
    return query.order_by(ordered, func.lower(Organisation.name), func.lower(Contact.name), Invitation.id)


@dataclass
class ResponseRow:
    """One line of the list."""

    invitation: Invitation
    contact: Contact
    organisation: Organisation
    response: Response | None
    status: str
    pages_done: int = 0
    last_activity: datetime | None = None


def pages_done(round_: Round, response_ids: list[int]) -> tuple[dict[int, int], int]:
    """How many of the survey's screens hold at least one answer, per response, and how many screens there are."""
    screens = layout(definition_for(round_.survey_version)).screens
    done: dict[int, set] = {}
    if response_ids:
        rows = db.session.execute(db.select(Answer.response_id, Answer.question)
                                  .where(Answer.response_id.in_(response_ids)))
        for response_id, question in rows:
            screen = screens.of_question.get(question)
            if screen is not None:
                done.setdefault(response_id, set()).add(screen.id)
    return {response_id: len(ids) for response_id, ids in done.items()}, len(screens.all)


@dataclass
class ListPage:
    """Where a page of the list sits among the others."""

    number: int
    total: int  # invitations matching the filters

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def list_responses(round_: Round, filters: ResponseFilters) -> tuple[ListPage, list[ResponseRow], int]:
    """One page of the list: where it sits, its rows, and the number of screens in the survey."""
    query = responses_query(round_, filters)
    total = db.session.scalar(db.select(func.count()).select_from(query.order_by(None).subquery()))
    results = db.session.execute(query.limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE)).all()
    done, total_pages = pages_done(round_, [response.id for *_rest, response in results if response is not None])
    rows = []
    for invitation, contact, organisation, response in results:
        rows.append(ResponseRow(
            invitation, contact, organisation, response,
            status_of(response.status if response else None, invitation.ineligible),
            pages_done=done.get(response.id, 0) if response else 0,
            last_activity=(response.submitted_at or response.updated_at) if response else None))
    return ListPage(filters.page, total), rows, total_pages


def invitation_of_round(round_id: int, invitation_id: int) -> Invitation | None:
    """The invitation, if it belongs to this round (a URL mixing rounds opens nothing)."""
    return db.session.scalar(db.select(Invitation).where(Invitation.id == invitation_id,
                                                         Invitation.round_id == round_id))
