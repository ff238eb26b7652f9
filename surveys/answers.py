"""A partner's answers: reading them from a form, validating them on the server, saving.

Stored values are text as XLSForm writes them: select_multiple and rank as space-separated codes (rank in order),
numbers as entered (normalised), dates as YYYY-MM-DD, an "other, specify" text under "<question>_other".
Which questions are shown is decided in surveys.relevance.
"""

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time

from flask_babel import gettext as _
from sqlalchemy.engine import Connection
from werkzeug.datastructures import MultiDict

from engagement.database import upsert_statement
from engagement.extensions import db

from .calculations import calculated_changes
from .cascades import depends_on, not_offered, stale_answers
from .definition import OTHER, UPLOAD_TYPES, Question, SurveyDefinition
from .models import Answer
from .relevance import affects_shown, visible_questions

INTEGER = re.compile(r"^[+-]?\d{1,15}$")
DECIMAL = re.compile(r"^[+-]?(\d{1,15}([.,]\d{0,10})?|[.,]\d{1,10})$")
MAX_TEXT = 5000
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# What the positions of a ranking read as when they are not yet a whole order (a partner cannot type these).
RANK_CONFLICT = "\x00conflict"  # a position repeated, or out of range
RANK_PARTIAL = "\x00partial:"  # followed by how many options have a position so far
RANK_MARKER = re.compile(r"\x00(conflict|partial:\d{1,4})")


class NotYetSaved(str):
    """A message for an answer still being given (a ranking with options left to place): not an error, but
    nothing is stored until the answer is whole. Templates show it without the error styling."""

    pending = True


def text(definition: SurveyDefinition, value: dict, language: str) -> str:
    return definition.text(value, language)


def _clean(text: str | None) -> str | None:
    """Drop NUL and other control characters (tab and newlines stay): PostgreSQL refuses NUL in text."""
    if text is None:
        return None
    return CONTROL.sub("", text)


def read_field(question: Question, form: MultiDict) -> tuple[str | None, str | None]:
    """The raw answer and the "other" text of one question from a posted form; None when it was not on the form.

    Every rendered question carries a "<name>__present" marker, so an unticked set of boxes or radios reads as
    an empty answer rather than as "not on this form".
    """
    if question.type in UPLOAD_TYPES:
        return None, None  # set only by an upload (surveys.uploads), never by a posted name
    if question.type == "geopoint":
        return _read_location(question, form)
    raw, other = _read_field(question, form)
    if question.type == "rank" and raw and RANK_MARKER.fullmatch(raw):
        return raw, _clean(other)  # a ranking's marker; any other text loses its NUL in _clean and fails normalise
    return _clean(raw), _clean(other)


def _read_field(question: Question, form: MultiDict) -> tuple[str | None, str | None]:
    other = form.get(question.other_name) if question.or_other else None
    present = f"{question.name}__present" in form
    if question.type == "rank":
        chosen = [form.get(f"{question.name}__rank{n}", "").strip() for n in range(1, question.rank_positions + 1)
                  if f"{question.name}__rank{n}" in form]
        if chosen:  # the page's form: one drop-down per position, each offering every option
            return ("" if not any(chosen) else _rank_from_choices(question, chosen)), other
        positions = {c.name: form.get(f"{question.name}[{c.name}]", "").strip() for c in question.choices
                     if f"{question.name}[{c.name}]" in form}
        if positions:  # one position per option (an older page's form)
            return ("" if not any(positions.values()) else _rank_from_positions(question, positions)), other
    if question.name not in form:
        return ("" if present else None), other
    if question.type == "select_multiple":
        return " ".join(v for v in form.getlist(question.name) if v), other
    return form.get(question.name, ""), other


def _read_location(question: Question, form: MultiDict) -> tuple[str | None, None]:
    """A location's two fields as one "latitude longitude" text ("?" for a field left empty, which normalise
    refuses); None when neither is on the form."""
    fields = [f"{question.name}__{part}" for part in ("latitude", "longitude")]
    if not any(name in form for name in fields):
        return None, None
    latitude, longitude = (_clean(form.get(name, "")).strip().replace(",", ".") for name in fields)
    if not latitude and not longitude:
        return "", None
    return f"{latitude or '?'} {longitude or '?'}", None


def _normalise_location(raw: str) -> tuple[str, str | None]:
    parts = raw.split()
    if len(parts) != 2 or "?" in parts:
        return raw, _("Give both the latitude and the longitude, or neither.")
    latitude, longitude = parts
    if not DECIMAL.match(latitude) or not -90 <= float(latitude.replace(",", ".")) <= 90:
        return raw, _("The latitude must be a number between -90 and 90 (for example 5.6037).")
    if not DECIMAL.match(longitude) or not -180 <= float(longitude.replace(",", ".")) <= 180:
        return raw, _("The longitude must be a number between -180 and 180 (for example -0.1870).")
    return f"{_coordinate(latitude)} {_coordinate(longitude)}", None


def _coordinate(text: str) -> str:
    """A coordinate to six decimals (about 10 cm), without trailing zeros."""
    return f"{float(text):.6f}".rstrip("0").rstrip(".")


def _rank_from_choices(question: Question, chosen: list[str]) -> str:
    """Codes in the order of the positions they were chosen for; marked for validation while positions are left
    to fill, or when an option is chosen twice."""
    codes = [code for code in chosen if code]
    if len(set(codes)) != len(codes):
        return RANK_CONFLICT
    if len(codes) < question.rank_positions:
        return f"{RANK_PARTIAL}{len(codes)}"
    return " ".join(codes)


def _rank_from_positions(question: Question, positions: dict[str, str]) -> str:
    """Codes ordered by the positions given; a ranking with options left to place, or with a position repeated or
    out of range, is returned marked for validation."""
    total = question.rank_positions
    numbers = {}
    for name, position in positions.items():
        if not position:
            continue
        if not position.isdigit() or not 1 <= int(position) <= total:
            return RANK_CONFLICT
        numbers[name] = int(position)
    if len(set(numbers.values())) != len(numbers):
        return RANK_CONFLICT
    if len(numbers) < total:
        return f"{RANK_PARTIAL}{len(numbers)}"
    return " ".join(sorted(numbers, key=numbers.get))


def normalise(question: Question, raw: str, definition: SurveyDefinition, language: str) -> tuple[str, str | None]:
    """Check one non-empty answer's form (type, choices, range, permutation): the stored value, or an error."""
    raw = raw.strip()
    kind = question.type
    if kind == "geopoint":
        return _normalise_location(raw)
    if kind in ("text", "calculate"):
        if len(raw) > MAX_TEXT:
            return raw, _("Please keep this answer under %(n)d characters.", n=MAX_TEXT)
        return raw, None
    if kind == "integer":
        if not INTEGER.match(raw):
            return raw, _("Please enter a whole number.")
        return str(int(raw)), None
    if kind == "decimal":
        if not DECIMAL.match(raw):
            return raw, _("Please enter a number.")
        number = float(raw.replace(",", "."))
        return (str(int(number)) if number.is_integer() else repr(number)), None
    if kind == "date":
        try:
            return date.fromisoformat(raw).isoformat(), None
        except ValueError:
            return raw, _("Please enter a date as YYYY-MM-DD.")
    if kind == "time":
        try:
            return time.fromisoformat(raw).isoformat(timespec="minutes"), None
        except ValueError:
            return raw, _("Please enter a time as HH:MM.")
    if kind == "datetime":
        try:
            return datetime.fromisoformat(raw).replace(tzinfo=None).isoformat(timespec="minutes"), None
        except ValueError:
            return raw, _("Please enter a date and time as YYYY-MM-DD HH:MM.")
    if kind == "acknowledge":
        if raw != "OK":
            return raw, _("Please tick the box to acknowledge.")
        return raw, None
    if kind == "range":
        start, end, step = question.range_bounds
        try:
            number = float(raw)
        except ValueError:
            return raw, _("Please choose a value between %(start)s and %(end)s.", start=_n(start), end=_n(end))
        low, high = min(start, end), max(start, end)
        on_step = step == 0 or math.isclose(((number - start) / step) % 1, 0, abs_tol=1e-9) or math.isclose(
            ((number - start) / step) % 1, 1, abs_tol=1e-9)
        if not (low <= number <= high) or not on_step or math.isnan(number):
            return raw, _("Please choose a value between %(start)s and %(end)s.", start=_n(start), end=_n(end))
        return _n(number), None
    names = question.choice_names()
    if question.or_other and OTHER not in names:
        names = [*names, OTHER]
    if kind == "select_one":
        if raw not in names:
            return raw, _("Please choose one of the options shown.")
        return raw, None
    if kind == "select_multiple":
        codes = raw.split()
        if len(set(codes)) != len(codes) or any(code not in names for code in codes):
            return raw, _("Please choose among the options shown.")
        return " ".join(sorted(codes, key=names.index)), None
    if kind == "rank":
        codes = raw.split()
        known = question.choice_names()
        if raw.startswith("\x00") or len(codes) != question.rank_positions or len(set(codes)) != len(codes) or any(
                code not in known for code in codes):
            return raw, _("Please give each option a different position, from 1 to %(n)d.",
                          n=question.rank_positions)
        return " ".join(codes), None
    return raw, _("This question cannot be answered.")


def _n(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def validate(question: Question, raw: str | None, other: str | None, context: Mapping[str, str],
             definition: SurveyDefinition, language: str, require: bool) -> tuple[dict[str, str | None], str | None]:
    """Validate one shown question's posted answer: the values to store (None = clear) and an error, if any."""
    raw = (raw or "").strip()
    changes: dict[str, str | None] = {}
    if not raw:
        changes[question.name] = None
        if question.or_other:
            changes[question.other_name] = None
        if require and question.is_required(context):
            message = text(definition, question.required_message, language) or _("Please answer this question.")
            return changes, message
        return changes, None
    if question.type == "rank" and raw.startswith(RANK_PARTIAL):
        total = question.rank_positions
        placed = int(raw.removeprefix(RANK_PARTIAL))
        if total == len(question.choices):
            if require:
                return {}, _("Please give every option a position, from 1 to %(n)d.", n=total)
            return {}, NotYetSaved(_("Not saved yet: give every option a position (%(placed)d of %(total)d "
                                     "placed).", placed=placed, total=total))
        if require:
            return {}, _("Please choose an option for each position, from 1 to %(n)d.", n=total)
        return {}, NotYetSaved(_("Not saved yet: choose an option for each position (%(placed)d of %(total)d).",
                                 placed=placed, total=total))
    value, error = normalise(question, raw, definition, language)
    if error:
        return {}, error
    if not_offered(question, value, context):
        return {}, _("This option is not offered for your other answers. Please choose one of the options shown.")
    if question.constraint is not None:
        ctx = dict(context)
        ctx[question.name] = value
        if not question.constraint.evaluate(ctx, current=value):
            message = text(definition, question.constraint_message, language) or _(
                "This answer is not accepted. Please check it.")
            return {}, message
    changes[question.name] = value
    if question.or_other:
        chose_other = OTHER in value.split()
        other = (other or "").strip()
        if chose_other and not other and require:
            return {}, _("Please say what \"other\" is.")
        if len(other) > MAX_TEXT:
            return {}, _("Please keep this answer under %(n)d characters.", n=MAX_TEXT)
        changes[question.other_name] = other if chose_other and other else None
    return changes, None


def validate_questions(definition: SurveyDefinition, questions: list[Question], form: MultiDict,
                       stored: Mapping[str, str], partner: Mapping[str, str], language: str,
                       require: bool, shown_before: frozenset[str] | None = None,
                       ) -> tuple[dict[str, str | None], dict[str, str], frozenset[str]]:
    """Validate the posted answers to some questions against everything else the partner answered.

    Returns the changes to store (None clears an answer), the errors by question, and the shown questions
    after the changes. Questions absent from the form keep their stored answer. `shown_before` (the shown
    questions for `stored`) is reused when no condition reads any of the posted answers.
    """
    values = dict(stored)
    posted = {}
    for question in questions:
        if not question.editable:
            continue
        raw, other = read_field(question, form)
        if raw is None and other is None:
            continue
        posted[question.name] = (raw, other)
        if raw is not None:
            values[question.name] = raw.strip()
        if other is not None:
            values[question.other_name] = other.strip()
    for name, value in calculated_changes(definition, values, partner).items():  # conditions may read them
        values[name] = value or ""
    posted_names = [n for q in questions if q.name in posted for n in (q.name, q.other_name)]
    if shown_before is not None and not affects_shown(definition, posted_names):
        shown = shown_before
    else:
        shown = visible_questions(definition, {k: v for k, v in values.items() if v}, partner)
    context = {**partner, **{k: v for k, v in values.items() if v}}
    changes: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    changed_now = {name for name, (raw, _other) in posted.items() if (raw or "").strip() != (stored.get(name) or "")}
    for question in questions:
        if not question.editable or question.name not in shown:
            continue
        if question.name in posted and depends_on(question, changed_now) and not_offered(
                question, (posted[question.name][0] or "").strip(), context):
            changes[question.name] = None  # its options changed with this answer: cleared, the page shows the new
            continue
        if question.name not in posted:
            if require and not stored.get(question.name) and question.is_required(context):
                errors[question.name] = text(definition, question.required_message, language) or _(
                    "Please answer this question.")
            continue
        raw, other = posted[question.name]
        if raw is None:
            raw = stored.get(question.name)
        change, error = validate(question, raw, other, context, definition, language, require)
        if error:
            errors[question.name] = error
        else:
            changes.update(change)
    changes.update(stale_answers(definition, stored, changes))
    return changes, errors, shown


def hidden_answers(definition: SurveyDefinition, values: Mapping[str, str], partner: Mapping[str, str]) -> list[str]:
    """Stored answers whose question is now hidden: removed when the partner leaves a page or submits."""
    shown = visible_questions(definition, values, partner)
    hidden = []
    for question in definition.questions():
        if question.name not in shown:
            hidden += [n for n in (question.name, question.other_name) if n in values]
    return hidden


def missing_required(definition: SurveyDefinition, values: Mapping[str, str], partner: Mapping[str, str]) -> list[Question]:
    """Shown required questions still unanswered, in form order (blocks submission)."""
    shown = visible_questions(definition, values, partner)
    context = {**partner, **{name: value for name, value in values.items() if value}}
    return [q for q in definition.questions() if q.name in shown and q.editable and not values.get(q.name)
            and q.is_required(context)]


def load_values(response_id: int, connection: Connection | None = None) -> dict[str, str]:
    """A response's stored answers (on the caller's write connection when given: what is stored under its lock)."""
    statement = db.select(Answer.question, Answer.value).where(Answer.response_id == response_id)
    return dict((connection if connection is not None else db.session).execute(statement).all())


def store(response_id: int, changes: Mapping[str, str | None], connection: Connection | None = None) -> None:
    """Write answers inside the caller's write transaction: one upsert per answer, a delete per cleared one (Core
    statements on the transaction's connection: every autosave runs them).

    Replaying the same save writes the same value again (harmless); of two saves, the one the server
    acknowledges last wins.
    """
    connection = connection if connection is not None else db.session.connection()
    now = datetime.now(UTC)
    saved = [{"response_id": response_id, "question": name, "value": value, "updated_at": now}
             for name, value in changes.items() if value is not None]
    cleared = [name for name, value in changes.items() if value is None]
    if saved:
        connection.execute(upsert_statement(Answer.__table__, connection.dialect.name,
                                            ("response_id", "question", "value", "updated_at"),
                                            ("response_id", "question"), ("value", "updated_at")), saved)
    if cleared:
        connection.execute(db.delete(Answer.__table__).where(Answer.__table__.c.response_id == response_id,
                                                             Answer.__table__.c.question.in_(cleared)))
