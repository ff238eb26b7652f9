"""`flask demo`: a database with the default survey, sample partners, an open round and a demo admin."""

from datetime import UTC, datetime, timedelta

from engagement.auth import create_user
from engagement.database import write_transaction
from engagement.extensions import db
from engagement.models import User
from partners.models import Contact, Organisation

from .demo_history import seed_history
from .models import Round, Survey
from .rounds import create_round, open_round
from .versions import DEFAULT_SURVEY_FILE, definition_for, import_survey

DEMO_ADMIN = ("admin@alliance87.example", "demo-admin-2026")
DEMO_ANALYST = ("analyst@alliance87.example", "demo-analyst-2026")
DEMO_ROUND = "2026 partner engagement review (demo)"
DEMO_ROUND_NAMES = {"fr": "Revue 2026 de l'engagement des partenaires (démo)",
                    "es": "Revisión 2026 de la participación de los socios (demostración)"}

SAMPLE_PARTNERS = [
    # organisation, category, country, region, pathfinder, action groups, gcg, contact, email, language
    ("Ministry of Labour of Ghana", "government_pathfinder", "GH", "africa", True, "supply_chains", True,
     "Ama Mensah", "ama.mensah@labour.example.gh", "en"),
    ("Ministère du Travail de Madagascar", "government_pathfinder", "MG", "africa", True, "migration", False,
     "Hery Rakoto", "hery.rakoto@travail.example.mg", "fr"),
    ("Confederación Sindical de las Américas", "workers", "BR", "americas", False, "supply_chains migration", True,
     "Lucía Fernández", "lucia.fernandez@csa.example.org", "es"),
    ("International Organisation of Employers", "employers", "CH", "europe_central_asia", False,
     "supply_chains", True, "Peter Keller", "p.keller@ioe.example.org", "en"),
    ("Survivor Alliance Network", "survivor", None, "global", False, "rule_of_law", False,
     "Grace Okafor", "grace@survivors.example.org", "en"),
    ("Université de Genève – Centre for Forced Labour Research", "academia", "CH", "europe_central_asia", False,
     "", False, "Élodie Martin", "elodie.martin@unige.example.ch", "fr"),
    ("Anti-Slavery Action Nepal", "civil_society", "NP", "asia_pacific", False, "migration conflict_humanitarian",
     False, "Sita Gurung", "sita@asan.example.np", "en"),
    ("UN Office on Drugs and Crime", "un", "AT", "europe_central_asia", False, "rule_of_law", True,
     "Marco Rossi", "marco.rossi@unodc.example.org", "en"),
]


def load_demo() -> tuple[Round, list]:
    """Create (once) everything the demo needs and return the open round and its invitations."""
    with write_transaction():
        return _create_demo()


def load_demo_history(round_: Round) -> Round | None:
    """Add last year's round and this year's answers so far to the demo (once); returns last year's round."""
    with write_transaction():
        round_ = db.session.get(Round, round_.id)
        return seed_history(round_.survey_version, round_, definition_for(round_.survey_version))


def _create_demo() -> tuple[Round, list]:
    survey = db.session.scalar(db.select(Survey).filter_by(form_id="alliance87_engagement"))
    if survey is None:
        version, _definition = import_survey(DEFAULT_SURVEY_FILE.read_bytes(), DEFAULT_SURVEY_FILE.name)
    else:
        version = survey.versions[-1]
    for name, category, country, region, pathfinder, groups, gcg, contact, email, language in SAMPLE_PARTNERS:
        organisation = db.session.scalar(db.select(Organisation).filter_by(name=name))
        if organisation is None:
            organisation = Organisation(name=name, category=category, country=country, region=region,
                                        pathfinder=pathfinder, action_groups=groups, gcg_member=gcg)
            db.session.add(organisation)
        if db.session.scalar(db.select(Contact).filter_by(email=email)) is None:
            organisation.contacts.append(Contact(name=contact, email=email, language=language))
    for email, password, role in ((*DEMO_ADMIN, "admin"), (*DEMO_ANALYST, "analyst")):
        if db.session.scalar(db.select(User).filter_by(email=email)) is None:
            create_user(email, password, role)
    db.session.flush()
    round_ = db.session.scalar(db.select(Round).filter_by(name=DEMO_ROUND))
    if round_ is None:
        closes = (datetime.now(UTC) + timedelta(days=30)).date()
        round_ = create_round(version, DEMO_ROUND, closes, translated_names=DEMO_ROUND_NAMES)
        open_round(round_)
    return round_, list(round_.invitations)
