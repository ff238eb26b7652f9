"""The partner's journey through one invitation: where they are, what they answered, starting and submitting."""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache

from flask import abort, session
from flask_babel import gettext as _
from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError

from engagement.database import request_connection, run_write
from engagement.extensions import db
from engagement.i18n import LANGUAGE_NAMES
from partners.models import Contact, Organisation

from . import answers as answer_store
from .calculations import calculated_changes, default_of
from .definition import Page, SurveyDefinition
from .invitations import form_token, hash_matches, lookup_hash
from .models import Answer, Invitation, Preview, Response, Round
from .relevance import partner_attributes, visible_pages, visible_questions
from .repeat_pages import hidden_entry_answers, repeat_shown
from .versions import definition_for_id


class RoundClosed(Exception):
    """The round no longer takes answers (shown as 410 Gone, in the contact's language)."""

    def __init__(self, language: str = "en"):
        super().__init__(language)
        self.language = language


@dataclass(slots=True)
class VisitInvitation:
    id: int


@dataclass(slots=True)
class VisitRound:
    id: int
    name: str
    status: str
    closes_on: date
    translated_names: dict

    def name_in(self, language: str) -> str:
        return (self.translated_names or {}).get(language) or self.name


@dataclass(slots=True)
class VisitOrganisation:
    """What a partner page shows of the organisation, and what a form's conditions may read (partner_*)."""

    name: str
    category: str | None
    country: str | None
    region: str | None
    pathfinder: bool
    action_groups: str | None
    gcg_member: bool


@dataclass(slots=True)
class VisitResponse:
    id: int
    status: str
    language: str
    current_page: str
    started_at: datetime
    updated_at: datetime
    submitted_at: datetime | None

    @classmethod
    def of(cls, response: Response) -> "VisitResponse":
        return cls(response.id, response.status, response.language, response.current_page, response.started_at,
                   response.updated_at, response.submitted_at)


@dataclass
class Visit:
    """Everything a partner page needs about the invitation behind a link.

    Plain records read from one row, not ORM objects: every partner request (each autosave included) builds one,
    and loading six ORM objects was a fifth of an autosave's time.
    """

    token: str
    invitation: VisitInvitation
    round: VisitRound
    organisation: VisitOrganisation
    definition: SurveyDefinition
    response: VisitResponse | None
    language: str
    partner: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    version: tuple = ()  # the survey version's id and the round's creation time: what identifies the definition
    preview: int | None = None  # a preview's id: answers go to the preview, never to the responses

    @cached_property
    def form_token(self) -> str:
        """The CSRF token of this link's forms (see invitations.form_token)."""
        return form_token(self.token)

    @property
    def submitted(self) -> bool:
        return self.response is not None and self.response.status == "submitted"

    @property
    def open(self) -> bool:
        """Whether the round still takes answers (a partner who submitted may still read the receipt after)."""
        return round_is_open(self.round)

    @property
    def languages(self) -> list[str]:
        """The languages the partner may choose: those of the form that the pages speak too."""
        return survey_languages(self.definition)

    def shown(self) -> set[str]:
        """The questions shown, and the repeats shown (by name: their screens are shown)."""
        shown = visible_questions(self.definition, self.values, self.partner)
        repeats = self.definition.repeats()
        if not repeats:
            return shown
        return shown | {r.name for r in repeats if repeat_shown(r, self.values, self.partner, repeats)}

    def pages(self, shown: set[str] | None = None) -> list[Page]:
        return visible_pages(self.definition, self.shown() if shown is None else shown)


def survey_languages(definition: SurveyDefinition) -> list[str]:
    """The form's languages that the partner pages speak as well (a page never mixes two languages), else the
    form's own language with the pages in English."""
    return [code for code in definition.languages if code in LANGUAGE_NAMES] or [definition.default_language]


def round_is_open(round_, today: date | None = None) -> bool:
    return round_.status == "open" and (today or datetime.now(UTC).date()) <= round_.closes_on


@lru_cache(maxsize=2)
def _visit_query(dialect: str):
    """Every partner request runs it: the link's row and, as one JSON object, its answers (one statement, one
    snapshot)."""
    invitations, rounds = Invitation.__table__, Round.__table__
    contacts, organisations, responses = Contact.__table__, Organisation.__table__, Response.__table__
    answers = Answer.__table__
    if dialect == "postgresql":
        answers_object = db.cast(db.func.json_object_agg(answers.c.question, answers.c.value), db.Text)
    else:
        answers_object = db.func.json_group_object(answers.c.question, answers.c.value)
    answers_json = db.select(answers_object).where(answers.c.response_id == responses.c.id).scalar_subquery()
    return (
        db.select(
            invitations.c.id, invitations.c.token_hash,
            rounds.c.id, rounds.c.name, rounds.c.status, rounds.c.closes_on, rounds.c.translated_names,
            rounds.c.survey_version_id, rounds.c.created_at, contacts.c.language,
            organisations.c.name, organisations.c.category, organisations.c.country, organisations.c.region,
            organisations.c.pathfinder, organisations.c.action_groups, organisations.c.gcg_member,
            responses.c.id, responses.c.status, responses.c.language, responses.c.current_page,
            responses.c.started_at, responses.c.updated_at, responses.c.submitted_at, answers_json,
        )
        .select_from(invitations)
        .join(rounds, rounds.c.id == invitations.c.round_id)
        .join(contacts, contacts.c.id == invitations.c.contact_id)
        .join(organisations, organisations.c.id == contacts.c.organisation_id)
        .outerjoin(responses, responses.c.invitation_id == invitations.c.id)
        .where(invitations.c.token_hash == bindparam("token_hash"))
    )



def open_visit(token: str) -> Visit:
    """Look up a link: 404 for an unknown or malformed token (revealing nothing) or a round not opened yet. A closed
    round's visit is returned too (`Visit.open` says it): its receipt stays readable."""
    wanted = lookup_hash(token)
    if wanted is None:
        abort(404)
    # One statement, by the token's hash, for everything a partner page needs, answers included (one snapshot); the
    # version's large JSON sheets stay in the database, since the parsed definition is cached per process.
    connection = request_connection()
    row = connection.execute(_visit_query(connection.dialect.name), {"token_hash": wanted}).first()
    if row is None or not hash_matches(row[1], wanted):
        return _preview_visit(token, wanted)
    (invitation_id, _hash, round_id, round_name, round_status, closes_on, round_names, version_id, round_created,
     contact_language, *organisation, response_id, response_status, response_language, current_page,
     started_at, updated_at, submitted_at, answers_json) = row
    values = json.loads(answers_json) if answers_json else {}
    round_ = VisitRound(round_id, round_name, round_status, closes_on, round_names or {})
    response = None if response_id is None else VisitResponse(
        response_id, response_status, response_language, current_page, started_at, updated_at, submitted_at)
    if round_.status == "draft":
        abort(404)
    language = (response.language if response else None) or session.get("languages", {}).get(
        str(invitation_id)) or contact_language or "en"
    definition = definition_for_id(version_id, round_created)
    languages = survey_languages(definition)
    if language not in languages:
        language = definition.default_language if definition.default_language in languages else languages[0]
    organisation = VisitOrganisation(*organisation)
    visit = Visit(token=token, invitation=VisitInvitation(invitation_id), round=round_, organisation=organisation,
                  definition=definition, response=response, language=language,
                  partner=partner_attributes(organisation), version=(version_id, round_created))
    visit.values = values
    return visit


def _preview_visit(token: str, wanted: str) -> Visit:
    """The visit of a preview or test link (see models.Preview), or 404 for a link that opens nothing."""
    preview = db.session.scalar(db.select(Preview).filter_by(token_hash=wanted))
    if preview is None or not hash_matches(preview.token_hash, wanted):
        abort(404)
    version, round_ = preview.survey_version, preview.round
    definition = definition_for_id(version.id, version.created_at)
    created = round_.created_at if round_ is not None else version.created_at
    partner = dict(preview.partner or {})
    organisation = VisitOrganisation(
        name=_("Preview as: %(kind)s", kind=partner.get("partner_category_label") or _("a partner")),
        category=partner.get("partner_category") or None, country=None, region=None,
        pathfinder=partner.get("partner_pathfinder") == "yes", action_groups=partner.get("partner_action_groups"),
        gcg_member=partner.get("partner_gcg_member") == "yes")
    closes_on = round_.closes_on if round_ is not None and round_.status != "closed" else (
        datetime.now(UTC).date() + timedelta(days=30))
    visit_round = VisitRound(round_.id if round_ else 0, round_.name if round_ else _("Preview"), "open",
                             closes_on, (round_.translated_names or {}) if round_ else {})
    response = VisitResponse(preview.id, preview.status, preview.language, preview.current_page,
                             preview.created_at, preview.updated_at, preview.submitted_at)  # started when created
    languages = survey_languages(definition)
    language = preview.language if preview.language in languages else languages[0]
    return Visit(token=token, invitation=VisitInvitation(0), round=visit_round, organisation=organisation,
                 definition=definition, response=response, language=language,
                 partner=partner_attributes(organisation), values=dict(preview.answers or {}),
                 version=(version.id, created), preview=preview.id)


def _preview_write(visit: Visit, change) -> bool:
    """Change a preview's row under the write lock; False when it was submitted meanwhile."""

    def work():
        preview = db.session.get(Preview, visit.preview)
        if preview.status == "submitted":
            return False
        change(preview)
        preview.updated_at = datetime.now(UTC)
        return True

    return run_write(work)


def default_values(definition: SurveyDefinition, partner: dict, language: str) -> dict[str, str]:
    """Prefilled answers: a question's `default`, which may name what the registry knows (${partner_category})."""
    defaults = {}
    for question in definition.questions():
        if not question.answerable or not (question.default or question.default_expression):
            continue
        raw = (question.default or default_of(question, definition, partner)).strip()
        if raw.startswith("${") and raw.endswith("}"):
            raw = partner.get(raw[2:-1], "")
        if not raw:
            continue
        value, error = answer_store.normalise(question, raw, definition, language)
        if error is None:
            defaults[question.name] = value
    defaults.update({k: v for k, v in calculated_changes(definition, defaults, partner).items() if v})
    return defaults


def start(visit: Visit) -> VisitResponse:
    """Create the response on the first "Start" (idempotent: a second start returns the same response)."""
    if visit.response is not None:
        return visit.response
    defaults = default_values(visit.definition, visit.partner, visit.language)
    invitation_id = visit.invitation.id
    language = visit.language

    def work():
        response = db.session.scalar(db.select(Response).filter_by(invitation_id=invitation_id))
        if response is None:
            response = Response(invitation_id=invitation_id, language=language)
            db.session.add(response)
            db.session.flush()
            answer_store.store(response.id, defaults)
        return response

    try:
        response = run_write(work)
    except IntegrityError:
        # Another tab started at the same moment (PostgreSQL lets both look before either inserts): use theirs.
        response = db.session.scalar(db.select(Response).filter_by(invitation_id=invitation_id))
    visit.response = VisitResponse.of(response)
    visit.values = answer_store.load_values(visit.response.id)
    return visit.response


def set_language(visit: Visit, language: str) -> None:
    if language not in visit.languages:
        return
    visit.language = language
    if visit.preview is not None:
        _preview_write(visit, lambda preview: setattr(preview, "language", language))
        return
    if visit.response is None:
        languages = dict(session.get("languages", {}))
        languages[str(visit.invitation.id)] = language
        session["languages"] = languages
        return
    response_id = visit.response.id

    def work():
        db.session.execute(db.update(Response).where(Response.id == response_id).values(language=language))

    run_write(work)
    visit.response.language = language


def save_page(visit: Visit, changes: dict, current_page: str | None, clean_hidden: bool) -> bool:
    """Store a page's changes, where the partner is now, and (when leaving a page) drop answers now hidden.

    False when the response was submitted meanwhile (another tab): nothing is stored, and the caller must not say
    "saved".
    """
    response_id = visit.response.id
    values = _merged(visit.values, changes)
    _calculate(visit, changes, values)
    if clean_hidden:
        for name in _hidden_answers(visit.definition, values, visit.partner):
            changes[name] = None
            values.pop(name, None)
    if visit.preview is not None:
        def keep(preview):
            preview.answers = values
            if current_page is not None:
                preview.current_page = current_page

        saved = _preview_write(visit, keep)
        if saved:
            visit.values = values
        return saved
    with_page = current_page is not None
    now = datetime.now(UTC)
    parameters = {"response_id": response_id, "now": now, "page": current_page, "seen": visit.response.updated_at}
    stored = changes

    def work(connection):
        nonlocal stored, values
        # Check and touch the response in one statement: on PostgreSQL it also locks the row, so a submit from
        # another tab cannot commit between this check and the answers below.
        if connection.execute(_touch_statement(with_page, True), parameters).rowcount != 1:
            # Submitted, or another save (a second tab, an autosave in flight) came since this request read the
            # answers: the calculations are worked out again from the answers stored now, under the write lock.
            if connection.execute(_touch_statement(with_page, False), parameters).rowcount != 1:
                return False
            if visit.definition.calculated_questions():
                values = _merged(answer_store.load_values(response_id, connection), changes)
                stored = dict(changes)
                _calculate(visit, stored, values)
        answer_store.store(response_id, stored, connection)
        return True

    saved = run_write(work, core=True)
    if saved:
        visit.values = values
        visit.response.updated_at = now
        if with_page:
            visit.response.current_page = current_page
    return saved


def _merged(stored: dict, changes: dict) -> dict:
    """The answers once `changes` are made to `stored` (None removes one)."""
    values = {**stored, **{k: v for k, v in changes.items() if v is not None}}
    for name, value in changes.items():
        if value is None:
            values.pop(name, None)
    return values


def _calculate(visit: Visit, changes: dict, values: dict) -> None:
    """Work out again the calculations the changed answers feed, adding them to the changes to store."""
    for name, value in calculated_changes(visit.definition, values, visit.partner).items():
        changes[name] = value
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value


@lru_cache(maxsize=4)
def _touch_statement(with_page: bool, if_unchanged: bool):
    """Mark the response as changed now (and where the partner is), unless it was submitted (or, if_unchanged,
    changed since this request read it)."""
    responses = Response.__table__
    values = {"updated_at": bindparam("now")}
    if with_page:
        values["current_page"] = bindparam("page")
    conditions = [responses.c.id == bindparam("response_id"), responses.c.status != "submitted"]
    if if_unchanged:
        conditions.append(responses.c.updated_at == bindparam("seen"))
    return db.update(responses).where(*conditions).values(values)



def _hidden_answers(definition: SurveyDefinition, values, partner) -> list[str]:
    """The stored answers that leave when a page is left or the response submitted: hidden questions' and entries'."""
    return answer_store.hidden_answers(definition, values, partner) + hidden_entry_answers(definition, values, partner)


def submit(visit: Visit) -> bool:
    """Submit once: True when this call submitted, False when it was already submitted (a no-op).

    Every write of answers also sets the response's `updated_at`, so when it still holds the value this request
    read, the answers are the ones in `visit.values` and the hidden ones can be worked out before taking the write
    lock: the write is then one UPDATE (and a DELETE when answers are now hidden). When another tab saved
    meanwhile, the answers are read again inside the transaction.
    """
    response = visit.response
    response_id = response.id
    definition, partner = visit.definition, visit.partner
    now = datetime.now(UTC)
    hidden_now = _hidden_answers(definition, visit.values, partner)
    if visit.preview is not None:
        kept = {k: v for k, v in visit.values.items() if k not in hidden_now}

        def finish(preview):
            preview.answers, preview.status, preview.submitted_at = kept, "submitted", now

        if not _preview_write(visit, finish):
            return False
        response.status, response.submitted_at, visit.values = "submitted", now, kept
        return True
    unchanged = _submit_statement(True)
    parameters = {"response_id": response_id, "now": now, "seen": response.updated_at}

    def work():
        if db.session.execute(unchanged, parameters).rowcount == 1:
            answer_store.store(response_id, {name: None for name in hidden_now})
            return {k: v for k, v in visit.values.items() if k not in hidden_now}
        if db.session.execute(_submit_statement(False), parameters).rowcount != 1:
            return None  # submitted already (a double click, another tab)
        # Another tab saved since this request read the answers: read them again, after the row lock on PostgreSQL.
        values = answer_store.load_values(response_id)
        hidden = _hidden_answers(definition, values, partner)
        answer_store.store(response_id, {name: None for name in hidden})
        return {k: v for k, v in values.items() if k not in hidden}

    submitted_values = run_write(work)
    if submitted_values is None:
        visit.response = VisitResponse.of(db.session.get(Response, response_id, populate_existing=True))
        visit.values = answer_store.load_values(response_id)
        return False
    response.status, response.submitted_at, response.updated_at = "submitted", now, now
    visit.values = submitted_values
    return True


@lru_cache(maxsize=2)
def _submit_statement(if_unchanged: bool):
    """Built once per shape, on the table: mark the response submitted unless it is already."""
    responses = Response.__table__
    conditions = [responses.c.id == bindparam("response_id"), responses.c.status != "submitted"]
    if if_unchanged:
        conditions.append(responses.c.updated_at == bindparam("seen"))
    return (db.update(responses).where(*conditions)
            .values(status="submitted", submitted_at=bindparam("now"), updated_at=bindparam("now")))
