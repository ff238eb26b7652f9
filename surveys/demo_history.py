"""The demo's history: more partners, last year's round (closed, ~120 responses) and this year's answers so far,
so the dashboard, the report and the comparison between rounds have something to show on first sight.

Answers follow the survey's relevance (the engine in surveys.relevance decides what each partner was shown) and
its choice lists; comments come from surveys.demo_texts in the partner's language. Rows go in with one executemany
per table, so `flask demo` stays quick.
"""

import random
import zlib
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from engagement.extensions import db
from partners.models import Contact, Organisation

from .definition import OTHER, Question, SurveyDefinition
from .demo_texts import comment
from .models import Answer, Invitation, Response, Round, SurveyVersion
from .relevance import hidden_questions, layout, partner_attributes
from .rounds import close_round, create_round, invite_late_partners, open_round

LAST_ROUND = "2025 partner engagement review (demo)"
LAST_ROUND_NAMES = {"fr": "Revue 2025 de l'engagement des partenaires (démo)",
                    "es": "Revisión 2025 de la participación de los socios (demostración)"}
LAST_YEAR = (date(2025, 10, 6), date(2025, 11, 14))  # fieldwork of last year's round
LAST_RESPONSES = 120
THIS_SUBMITTED, THIS_IN_PROGRESS = 0.45, 0.12  # shares of this year's invited partners

# country code, region, language, name of the country as an organisation's name uses it (en, fr, es)
COUNTRIES = [
    ("GH", "africa", "en", "Ghana"), ("NG", "africa", "en", "Nigeria"), ("KE", "africa", "en", "Kenya"),
    ("UG", "africa", "en", "Uganda"), ("SN", "africa", "fr", "Sénégal"), ("CI", "africa", "fr", "Côte d'Ivoire"),
    ("ML", "africa", "fr", "Mali"), ("MA", "africa", "fr", "Maroc"), ("MR", "africa", "fr", "Mauritanie"),
    ("PE", "americas", "es", "Perú"), ("CO", "americas", "es", "Colombia"), ("MX", "americas", "es", "México"),
    ("CL", "americas", "es", "Chile"), ("AR", "americas", "es", "Argentina"), ("US", "americas", "en", "United States"),
    ("CA", "americas", "en", "Canada"), ("JO", "arab_states", "en", "Jordan"), ("LB", "arab_states", "fr", "Liban"),
    ("QA", "arab_states", "en", "Qatar"), ("NP", "asia_pacific", "en", "Nepal"), ("LK", "asia_pacific", "en", "Sri Lanka"),
    ("VN", "asia_pacific", "en", "Viet Nam"), ("AU", "asia_pacific", "en", "Australia"),
    ("FJ", "asia_pacific", "en", "Fiji"), ("BD", "asia_pacific", "en", "Bangladesh"),
    ("FR", "europe_central_asia", "fr", "France"), ("ES", "europe_central_asia", "es", "España"),
    ("GB", "europe_central_asia", "en", "United Kingdom"), ("NL", "europe_central_asia", "en", "Netherlands"),
    ("UZ", "europe_central_asia", "en", "Uzbekistan"), ("BE", "europe_central_asia", "fr", "Belgique"),
]
NAMES = {  # organisation name patterns per category and language
    "government_pathfinder": {"en": "Ministry of Labour of {c}", "fr": "Ministère du Travail – {c}",
                              "es": "Ministerio de Trabajo de {c}"},
    "government": {"en": "Development Cooperation Agency of {c}", "fr": "Agence de coopération – {c}",
                   "es": "Agencia de Cooperación de {c}"},
    "employers": {"en": "Federation of Employers of {c}", "fr": "Conseil national du patronat – {c}",
                  "es": "Confederación de Empleadores de {c}"},
    "workers": {"en": "Trade Union Congress of {c}", "fr": "Confédération syndicale – {c}",
                "es": "Central de Trabajadores de {c}"},
    "civil_society": {"en": "Freedom Network {c}", "fr": "Collectif contre l'esclavage – {c}",
                      "es": "Red contra la Trata – {c}"},
    "survivor": {"en": "Survivor Voices {c}", "fr": "Voix des survivantes – {c}", "es": "Voces Sobrevivientes {c}"},
    "academia": {"en": "Institute for Labour Studies, {c}", "fr": "Laboratoire de recherche sur le travail – {c}",
                 "es": "Instituto de Estudios Laborales de {c}"},
    "business": {"en": "Responsible Business Initiative {c}", "fr": "Initiative entreprises responsables – {c}",
                 "es": "Iniciativa Empresarial Responsable {c}"},
}
GLOBAL = [("UN Women", "un"), ("UNICEF", "un"), ("International Organization for Migration", "un"),
          ("UNHCR", "un"), ("OHCHR", "un"), ("OSCE Office for Democratic Institutions", "igo"),
          ("African Union Commission", "igo"), ("Council of Europe GRETA", "igo"), ("Freedom Fund", "funder"),
          ("Humanity United", "funder"), ("Walk Free", "civil_society"), ("Anti-Slavery International", "civil_society"),
          ("Global Business Coalition Against Trafficking", "business"), ("Fair Labor Association", "other")]
PEOPLE = {"en": ["Sarah Owusu", "John Mwangi", "Priya Shah", "David Chen", "Amina Yusuf", "Tom Baker", "Nadia Karim"],
          "fr": ["Aminata Diallo", "Jean Dupont", "Fatou Ndiaye", "Claire Moreau", "Youssef Benali", "Marie Kaboré"],
          "es": ["Carlos Gómez", "María López", "Ana Quispe", "Diego Ramírez", "Valentina Ríos", "José Herrera"]}
GROUPS = ("supply_chains", "migration", "rule_of_law", "conflict_humanitarian")
EXCLUSIVE = {"none", "not_sure", "not_now", "no_barriers", "dk"}
IMPROVED = ("sat_financing", "sat_matchmaking", "sat_pf_peer")  # what got better since last year
SLIPPED = ("sat_newsletter",)


def range_answer(question: Question, rng: random.Random) -> str:
    """A value of a range question: 0-10 skewed to the top the way recommendation scores are, else uniform."""
    start, end, _step = question.range_bounds
    if (start, end) == (0, 10):
        return str(rng.choices(range(11), weights=[1, 1, 1, 2, 2, 4, 6, 10, 14, 10, 8])[0])
    return str(rng.randint(int(start), int(end)))


def _lean(name: str) -> float:
    """A fixed lean per question (-1..1), so services differ in satisfaction and importance."""
    return (zlib.crc32(name.encode()) % 1000) / 500 - 1


def _scale(question: Question, rng: random.Random, shift: float) -> str:
    """A 1-5 answer (or the scale's "not applicable") leaning per question; `shift` moves it between rounds."""
    other = [c for c in question.choice_names() if not c.isdigit()]
    if other and rng.random() < 0.07:
        return rng.choice(other)
    lean = _lean(question.name) + shift
    weights = [max(0.05, 1 + lean * (s - 3) * 0.5 + (0.7 if s == 4 else 0)) for s in range(1, 6)]
    return str(rng.choices(range(1, 6), weights=weights)[0])


def _value(question: Question, values: dict, organisation: Organisation, language: str, rng: random.Random,
           this_year: bool) -> str | None:
    names = question.choice_names()
    kind = question.type
    if kind == "select_one":
        if question.name == "category":
            return organisation.category
        if question.name == "region":
            return organisation.region
        if sorted(c for c in names if c.isdigit()) == ["1", "2", "3", "4", "5"]:
            shift = (0.9 if question.name in IMPROVED else -0.8 if question.name in SLIPPED else 0) if this_year else 0
            return _scale(question, rng, shift)
        if "not_aware" in names and len(names) == 4:
            lean = _lean(question.name)
            return rng.choices(names, weights=[2 - lean, 3, 3 + lean, 2 + lean])[0]
        return rng.choices(names, weights=[len(names) - i for i in range(len(names))])[0]
    if kind == "select_multiple":
        if question.name == "ag_groups" and organisation.action_groups:
            return organisation.action_groups
        options = list(dict.fromkeys([c for c in names if c not in EXCLUSIVE] + ([OTHER] if question.or_other else [])))
        exclusive = [c for c in names if c in EXCLUSIVE]
        if exclusive and rng.random() < 0.05:
            return rng.choice(exclusive)
        picked = set(rng.sample(options, rng.randint(1, min(3, len(options)))))
        if question.name == "roles" and organisation.action_groups and "action_group_member" in names:
            picked.add("action_group_member")
        return " ".join(c for c in dict.fromkeys(names + [OTHER]) if c in picked)
    if kind == "rank":
        ordered = sorted(names, key=lambda c: _lean(c) + rng.random() * 1.5, reverse=True)
        return " ".join(ordered[:question.rank_positions])
    if kind == "range":
        return range_answer(question, rng)
    if kind == "integer":
        return str(rng.randint(1, 9))
    if kind == "text":
        if rng.random() > 0.55:
            return None
        score = values.get("recommend")
        return comment(question.name, language, rng, int(score) if score and score.isdigit() else None)
    return None


def demo_answers(definition: SurveyDefinition, organisation: Organisation, language: str, rng: random.Random,
                 this_year: bool) -> dict[str, str]:
    """One partner's answers in form order, only to the questions the survey's relevance shows them."""
    plan = layout(definition)
    conditions = {question.name: expressions for question, expressions in plan.conditions}
    context: dict[str, str] = partner_attributes(organisation)
    values: dict[str, str] = {}
    for question in plan.questions:
        if not question.answerable or not all(c.evaluate(context) for c in conditions.get(question.name, ())):
            continue
        value = _value(question, values, organisation, language, rng, this_year)
        if value is None:
            continue
        values[question.name] = context[question.name] = value
        if question.or_other and OTHER in value.split():
            values[question.other_name] = comment(question.other_name, language, rng)
    hidden = set(hidden_questions(definition, {**partner_attributes(organisation), **values}))
    return {name: value for name, value in values.items() if name not in hidden and name.removesuffix("_other")
            not in hidden}


def add_partners(rng: random.Random) -> None:
    """About 140 more organisations, one contact each, across categories, regions and languages."""
    seen = set(db.session.scalars(db.select(Organisation.name)))
    people = 0
    entries = [(pattern, category, country) for category, patterns in NAMES.items()
               for country in COUNTRIES for pattern in [patterns[country[2]]]]
    rng.shuffle(entries)
    chosen = entries[:128] + [(name, category, None) for name, category in GLOBAL]
    for pattern, category, country in chosen:
        code, region, language, label = country or (None, "global", "en", "")
        name = pattern.format(c=label) if country else pattern
        if name in seen:
            continue
        seen.add(name)
        pathfinder = category == "government_pathfinder"
        groups = " ".join(g for g in GROUPS if rng.random() < 0.22)
        organisation = Organisation(name=name, category=category, country=code, region=region, pathfinder=pathfinder,
                                    action_groups=groups, gcg_member=rng.random() < 0.1)
        person = rng.choice(PEOPLE[language])
        people += 1
        organisation.contacts.append(Contact(name=person, language=language,
                                             email=f"focal.point{people}@partner{people}.example.org"))
        db.session.add(organisation)
    db.session.flush()


def _fill(round_: Round, definition: SurveyDefinition, invitations: list[Invitation], rng: random.Random,
          submitted: int, in_progress: int, start: datetime, this_year: bool) -> None:
    """Responses for the first invitations: `submitted` of them sent, then `in_progress` partly answered."""
    next_id = (db.session.scalar(db.select(db.func.max(Response.id))) or 0) + 1
    responses, answers = [], []
    for number, invitation in enumerate(invitations[:submitted + in_progress]):
        contact = invitation.contact
        values = demo_answers(definition, contact.organisation, contact.language, rng, this_year)
        sent = number < submitted
        if not sent:
            values = dict(list(values.items())[:rng.randint(3, max(4, len(values) // 2))])
        moment = start + timedelta(minutes=rng.randint(0, 60 * 24 * 18))
        responses.append({"id": next_id + number, "invitation_id": invitation.id, "language": contact.language,
                          "status": "submitted" if sent else "in_progress", "current_page": "",
                          "started_at": moment, "updated_at": moment + timedelta(minutes=14),
                          "submitted_at": moment + timedelta(minutes=14) if sent else None})
        answers += [{"response_id": next_id + number, "question": name, "value": value,
                     "updated_at": moment + timedelta(minutes=14)} for name, value in values.items()]
    db.session.execute(insert(Response), responses)
    db.session.execute(insert(Answer), answers)


def seed_history(version: SurveyVersion, this_round: Round, definition: SurveyDefinition) -> Round | None:
    """Add partners, last year's closed round and this year's answers so far, once; returns last year's round."""
    if db.session.scalar(db.select(Round).filter_by(name=LAST_ROUND)) is not None:
        return None
    rng = random.Random(2026)
    add_partners(rng)
    last = create_round(version, LAST_ROUND, LAST_YEAR[1], translated_names=LAST_ROUND_NAMES)
    open_round(last, today=LAST_YEAR[0])
    invitations = sorted(db.session.scalars(db.select(Invitation).filter_by(round_id=last.id)),
                         key=lambda i: rng.random())
    start = datetime.combine(LAST_YEAR[0], datetime.min.time(), UTC)
    for invitation in invitations:
        invitation.invited_at = start
    _fill(last, definition, invitations, rng, LAST_RESPONSES - 12, 12, start, this_year=False)
    close_round(last)
    last.opened_at, last.closed_at = start, datetime.combine(LAST_YEAR[1], datetime.min.time(), UTC)
    opened = datetime.now(UTC) - timedelta(days=19)
    this_round.opened_at, this_round.opens_on = opened, opened.date()
    invite_late_partners(this_round)
    invited = list(db.session.scalars(db.select(Invitation).filter_by(round_id=this_round.id)))
    for invitation in invited:
        invitation.invited_at = opened
    sample = {c.id for c in db.session.scalars(db.select(Contact).where(Contact.email.like("%.example.%"))
                                               .where(~Contact.email.like("focal.point%")))}
    others = sorted((i for i in invited if i.contact_id not in sample and i.response is None),
                    key=lambda i: rng.random())
    total = len(invited)
    _fill(this_round, definition, others, rng, round(total * THIS_SUBMITTED), round(total * THIS_IN_PROGRESS),
          opened, this_year=True)
    return last
