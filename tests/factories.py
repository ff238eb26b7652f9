"""Factories for test data: surveys from YAML text, partners, open rounds with their invitation tokens, the demo round
filled with synthetic responses."""

import csv
import io
import random
from datetime import UTC, datetime, timedelta

import yaml

from engagement.auth import create_user
from engagement.extensions import db
from partners.models import Contact, Organisation
from surveys.demo import load_demo
from surveys.invitations import token_for
from surveys.models import Answer, Response, Round
from surveys.rounds import create_round, open_round
from surveys.versions import definition_for, import_survey
from synthetic.responses import Partner, fill_round, synthetic_answers

# The choice list `yn` that most test forms ask with `select_one yn`.
YES_NO = [{"list_name": "yn", "name": "yes", "label": "Yes"}, {"list_name": "yn", "name": "no", "label": "No"}]


# One page, one text question, in English (the default) and French: for tests of the partner's language.
BILINGUAL = [{"type": "begin_group", "name": "p", "label::English (en)": "Page", "label::French (fr)": "Page"},
             {"type": "text", "name": "q", "label::English (en)": "Question?", "label::French (fr)": "Question ?"},
             {"type": "end_group", "name": "p"}]
BILINGUAL_SETTINGS = {"form_id": "bilingual", "form_title": "Bilingual", "default_language": "English (en)"}


def survey_from_yaml(text: str, name: str = "test.yaml"):
    version, _definition = import_survey(text.encode(), name)
    db.session.commit()
    return version


def survey_from_rows(survey: list[dict], choices: list[dict] | None = None, settings: dict | None = None):
    document = {"settings": settings or {"form_id": "test_form", "form_title": "Test form"},
                "survey": survey, "choices": choices or []}
    return survey_from_yaml(yaml.safe_dump(document, allow_unicode=True))


def organisation(name="Ministry of Labour of Ghana", category="government_pathfinder", country="GH",
                 region="africa", pathfinder=True, action_groups="", gcg_member=False, contacts=None):
    org = Organisation(name=name, category=category, country=country, region=region, pathfinder=pathfinder,
                       action_groups=action_groups, gcg_member=gcg_member)
    for contact_name, email, language in contacts or [("Ama Mensah", f"{abs(hash(name))}@example.org", "en")]:
        org.contacts.append(Contact(name=contact_name, email=email, language=language))
    db.session.add(org)
    db.session.commit()
    return org


def open_round_for(version, name="Test round", days=30) -> tuple:
    """Open a round for every active contact; returns the round and {contact email: token}."""
    round_ = create_round(version, name, (datetime.now(UTC) + timedelta(days=days)).date())
    invitations = open_round(round_)
    db.session.commit()
    return round_, {inv.contact.email: token_for(inv) for inv in invitations}


def invited_partner(version) -> tuple:
    """The default organisation (a Pathfinder government) with one English contact, Ama, invited to an open round of
    `version`: returns the round and Ama's token."""
    organisation(contacts=[("Ama", "ama@example.org", "en")])
    round_, tokens = open_round_for(version)
    return round_, tokens["ama@example.org"]


def partner_token(app, rows: list[dict], choices: list[dict] | None = None) -> str:
    """The token of Ama (invited_partner) for a survey made from `rows`: for tests of the partner's pages."""
    with app.app_context():
        return invited_partner(survey_from_rows(rows, choices))[1]


def started_partner(client, rows: list[dict], choices: list[dict] | None = None) -> tuple[str, int]:
    """Ama invited to an open round of the survey made of `rows`, who opened her link and pressed Start with `client`:
    returns her token and the round's id."""
    with client.application.app_context():
        round_, token = invited_partner(survey_from_rows(rows, choices))
        round_id = round_.id
    client.get(f"/s/{token}")
    client.post(f"/s/{token}/start")
    return token, round_id


def group(name: str, label: str, *rows: dict) -> list[dict]:
    """Survey rows of one page: `rows` inside a group called `name`."""
    return [{"type": "begin_group", "name": name, "label": label}, *rows, {"type": "end_group", "name": name}]


def repeat(name: str, label: str, *rows: dict, **columns: str) -> list[dict]:
    """Survey rows of a repeat: `rows` asked once per entry; `columns` such as repeat_count go on its begin row."""
    return [{"type": "begin repeat", "name": name, "label": label, **columns}, *rows, {"type": "end repeat"}]


def first_exported_row(app) -> dict[str, str]:
    """The responses CSV of the only round, as the Secretariat downloads it: its first row as {column: value}."""
    from analysis.exports import prepare
    from analysis.loader import iter_responses, round_and_definition

    with app.app_context():
        round_, definition = round_and_definition(db.session, db.session.scalar(db.select(Round.id)))
        export = prepare(round_.id, round_.name, definition, "csv")
        text = b"".join(export.chunks(iter_responses(db.session, round_.id, definition))).decode("utf-8-sig")
    return next(csv.DictReader(io.StringIO(text)))


def stored_answers(app) -> dict[str, str]:
    """Every stored answer as {question: value}: the one partner's answers in the tests that have one."""
    with app.app_context():
        return {a.question: a.value for a in db.session.scalars(db.select(Answer))}


def user(email="admin@example.org", role="admin", password="correct horse battery"):
    account = create_user(email, password, role)
    db.session.commit()
    return account


def filled_demo_round(count: int, **options) -> int:
    """The demo round with `count` synthetic responses (fill_round's options: submitted_share, seed, ...); its id."""
    round_, _invitations = load_demo()
    fill_round(round_.id, definition_for(round_.survey_version), count, **options)
    return round_.id


def synthetic_samples(definition, count: int) -> list[dict[str, str]]:
    """`count` synthetic sets of answers to `definition` (seeds 0, 1, ...) from a workers' organisation in Ghana."""
    workers = Partner("workers", "africa", pathfinder=False, action_groups="", country="GH")
    return [synthetic_answers(definition, workers, random.Random(seed)) for seed in range(count)]


def stored_response(invitation, answers: dict[str, str], **fields):
    """A response with its answers, stored directly as the partner's pages would have saved them; committed."""
    response = Response(invitation_id=invitation.id, **fields)
    db.session.add(response)
    db.session.flush()
    db.session.add_all(Answer(response_id=response.id, question=name, value=value) for name, value in answers.items())
    db.session.commit()
    return response
