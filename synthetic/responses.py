"""Random valid responses to any survey (the default one above all), bulk-inserted, for report tests and benchmarks.

Answers respect the survey's relevance (a satisfaction row only for a service used, the Action Group page only for
members, ...), its choice lists, its "choose up to 3" and exclusive options, and full permutations for rank
questions; values are skewed per question so that the analysis has something to find. Rows go in with one
executemany per table and batch, never an ORM object per row.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

from engagement.extensions import db
from partners.models import Contact, Organisation
from surveys.calculations import calculated_changes
from surveys.cascades import within_filter
from surveys.definition import OTHER, Question, SurveyDefinition
from surveys.demo_history import range_answer
from surveys.models import Answer, Invitation, Response
from surveys.relevance import partner_attributes

CATEGORIES = {
    "government_pathfinder": 14, "government": 12, "employers": 6, "workers": 7, "un": 10, "igo": 5,
    "civil_society": 24, "survivor": 3, "academia": 8, "business": 5, "funder": 3, "other": 3,
}  # fmt: skip
REGIONS = {"africa": 22, "americas": 16, "arab_states": 6, "asia_pacific": 20, "europe_central_asia": 20,
           "global": 16}  # fmt: skip
ACTION_GROUPS = ("supply_chains", "migration", "rule_of_law", "conflict_humanitarian")
EXCLUSIVE = {"none", "not_sure", "not_now", "no_barriers", "dk"}
TEXTS = (
    "More regional meetings, please.",
    "Plus de réunions régionales, s'il vous plaît.",
    "Más información sobre financiación.",
    "Shorter briefings before GCG meetings.",
    "A directory of partners by country would help.",
    "=1+1 should stay text",
    "Translate the newsletter into French and Spanish.",
)
BATCH = 1000  # responses per executemany batch


@dataclass
class Partner:
    """What the registry holds about one synthetic organisation."""

    category: str
    region: str
    pathfinder: bool
    action_groups: str
    country: str | None = None
    gcg_member: bool = False


def random_partner(rng: random.Random) -> Partner:
    category = rng.choices(list(CATEGORIES), weights=list(CATEGORIES.values()))[0]
    region = rng.choices(list(REGIONS), weights=list(REGIONS.values()))[0]
    groups = " ".join(g for g in ACTION_GROUPS if rng.random() < 0.25)
    return Partner(category, region, category == "government_pathfinder", groups, gcg_member=rng.random() < 0.1)


def _bias(name: str) -> float:
    """A fixed lean per question (-1..1) so that services differ in satisfaction and importance."""
    return (zlib.crc32(name.encode()) % 1000) / 500 - 1


def likert_value(question: Question, rng: random.Random, na_share: float = 0.08) -> str:
    na = [c for c in question.choice_names() if not c.isdigit()]
    if na and rng.random() < na_share:
        return rng.choice(na)
    lean = _bias(question.name)
    weights = [max(0.05, 1 + lean * (s - 3) * 0.45 + (0.6 if s == 4 else 0)) for s in range(1, 6)]
    return str(rng.choices(range(1, 6), weights=weights)[0])


def random_value(question: Question, values: dict[str, str], rng: random.Random) -> str | None:
    """A valid stored value for one shown question, or None (left unanswered)."""
    names = question.choice_names()
    if not question.required and rng.random() < 0.04:
        return None
    kind = question.type
    if kind == "select_one":
        if sorted(c for c in names if c.isdigit()) == ["1", "2", "3", "4", "5"]:
            return likert_value(question, rng)
        if "not_aware" in names:
            lean = _bias(question.name)
            return rng.choices(names, weights=[2 - lean, 3, 3 + lean, 2 + lean])[0] if len(names) == 4 else (
                rng.choice(names))
        if question.name in ("category", "region") and f"_{question.name}" in values:
            return values[f"_{question.name}"]  # the registry's answer, as the prefilled form gives it
        options = names + ([OTHER] if question.or_other else [])
        return rng.choices(options, weights=[len(options) - i for i in range(len(options))])[0]
    if kind == "select_multiple":
        options = [c for c in names if c not in EXCLUSIVE] + ([OTHER] if question.or_other else [])
        exclusive = [c for c in names if c in EXCLUSIVE]
        if exclusive and rng.random() < 0.06:
            return rng.choice(exclusive)
        limit = 3 if question.constraint_source and "<= 3" in question.constraint_source else len(options)
        picked = rng.sample(options, rng.randint(1, min(3, limit, len(options))))
        return " ".join(c for c in names + [OTHER] if c in picked)
    if kind == "rank":
        ordered = sorted(names, key=lambda c: _bias(c) + rng.random() * 1.5, reverse=True)
        return " ".join(ordered)
    if kind == "range":
        return range_answer(question, rng)
    if kind == "integer":
        return str(rng.randint(0, 500))
    if kind == "decimal":
        return repr(round(rng.uniform(0, 1000), 2))
    if kind == "text":
        return rng.choice(TEXTS) if rng.random() < 0.35 else None
    return None


def synthetic_answers(definition: SurveyDefinition, partner: Partner, rng: random.Random) -> dict[str, str]:
    """A complete, valid set of answers: each question in form order, answered only when its conditions show it."""
    attributes = partner_attributes(partner)
    context: dict[str, str] = dict(attributes)
    values: dict[str, str] = {}
    hints = {"_category": partner.category, "_region": partner.region}
    for question in definition.questions():
        if not question.editable:
            continue
        conditions = [*question.conditions, *([question.relevant] if question.relevant else [])]
        if not all(condition.evaluate(context) for condition in conditions):
            continue
        value = within_filter(question, random_value(question, {**values, **hints}, rng), values, rng)
        if value is None:
            continue
        values[question.name] = context[question.name] = value
        if question.or_other and OTHER in value.split():
            values[question.other_name] = context[question.other_name] = rng.choice(TEXTS)
    values.update({name: value for name, value in calculated_changes(definition, values, attributes).items() if value})
    return values


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def fill_round(
    round_id: int,
    definition: SurveyDefinition,
    count: int,
    *,
    seed: int = 87,
    submitted_share: float = 0.9,
    invited_extra: float = 0.15,
    partners: list[Partner] | None = None,
    started: datetime | None = None,
) -> int:
    """Add ``count`` responding organisations (plus ~15 % invited who never answer) to a round; returns answers written.

    Each organisation has one contact and one invitation; ``submitted_share`` of the responses are submitted, the
    others in progress. ``partners`` fixes the registry attributes (cycled) instead of drawing them at random.
    """
    rng = random.Random(seed)
    started = started or datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    invited = count + int(count * invited_extra)
    org_id, contact_id, invitation_id, response_id = (_next_id(m) for m in (Organisation, Contact, Invitation,
                                                                               Response))
    tag = f"{round_id}-{seed}-{org_id}"
    written = 0
    for first in range(0, invited, BATCH):
        numbers = range(first, min(first + BATCH, invited))
        organisations, contacts, invitations, responses, answers = [], [], [], [], []
        for i in numbers:
            partner = partners[i % len(partners)] if partners else random_partner(rng)
            organisations.append({
                "id": org_id + i, "name": f"Synthetic partner {tag}-{i}", "category": partner.category,
                "region": partner.region, "country": partner.country, "pathfinder": partner.pathfinder,
                "action_groups": partner.action_groups, "gcg_member": partner.gcg_member, "active": True,
                "created_at": started, "updated_at": started})
            contacts.append({"id": contact_id + i, "organisation_id": org_id + i, "name": f"Contact {i}",
                             "email": f"synthetic-{tag}-{i}@example.org", "language": "en", "active": True,
                             "created_at": started})
            invitations.append({"id": invitation_id + i, "round_id": round_id, "contact_id": contact_id + i,
                                "salt": "", "token_hash": f"synthetic-{tag}-{i}", "created_at": started,
                                "invited_at": started, "reminder_count": 0})
            if i >= count:
                continue
            submitted = rng.random() < submitted_share
            moment = started + timedelta(minutes=rng.randint(0, 60 * 24 * 20))
            responses.append({"id": response_id + i, "invitation_id": invitation_id + i,
                              "status": "submitted" if submitted else "in_progress", "language": "en",
                              "current_page": "", "started_at": moment, "updated_at": moment,
                              "submitted_at": moment + timedelta(minutes=15) if submitted else None})
            values = synthetic_answers(definition, partner, rng)
            if not submitted:
                keep = rng.randint(1, max(1, len(values)))
                values = dict(list(values.items())[:keep])
            answers += [{"response_id": response_id + i, "question": name, "value": value, "updated_at": moment}
                        for name, value in values.items()]
        for model, rows in ((Organisation, organisations), (Contact, contacts), (Invitation, invitations),
                            (Response, responses), (Answer, answers)):
            if rows:
                db.session.execute(insert(model), rows)
        written += len(answers)
    if db.engine.dialect.name == "postgresql":
        for table in ("organisations", "contacts", "invitations", "responses", "answers"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
    db.session.commit()
    return written
