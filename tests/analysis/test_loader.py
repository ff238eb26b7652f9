"""Loading a round into tidy frames: content, hidden and unknown answers dropped, a bounded query count."""

from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import event

from analysis.frames import RESPONDENT_COLUMNS
from analysis.loader import iter_responses, load_round
from engagement.extensions import db
from surveys.models import Invitation, Response
from tests.factories import open_round_for, organisation, stored_response, survey_from_rows

EN, FR = "label::English (en)", "label::French (fr)"


def labelled(name: str, english: str, french: str, **columns) -> dict:
    """A survey row or a choice called `name`, labelled in English and French, with its other `columns`."""
    return {**columns, "name": name, EN: english, FR: french}


def every_type_survey():
    """A small survey: one question of each type, two languages, a condition, a name that is also a column."""
    rows = [
        labelled("main", "Main", "Principal", type="begin_group"),
        labelled("intro", "Hello", "Bonjour", type="note"),
        labelled("colour", "Colour", "Couleur", type="select_one colour or_other"),
        labelled("fruits", "Fruits", "Fruits", type="select_multiple fruit or_other"),
        labelled("priorities", "Priorities", "Priorités", type="rank service"),
        labelled("comment", "Comment", "Commentaire", type="text"),
        labelled("staff", "Staff", "Personnel", type="integer"),
        labelled("budget", "Budget", "Budget", type="decimal"),
        labelled("founded", "Founded", "Fondée", type="date"),
        labelled("recommend", "Recommend", "Recommander", parameters="start=0 end=10 step=1", type="range"),
        labelled("category", "Category?", "Catégorie ?", type="select_one yesno"),
        labelled("why_red", "Why red?", "Pourquoi rouge ?", relevant="${colour} = 'red'", type="text"),
        {"type": "end_group", "name": ""},
    ]
    choices = [
        labelled(name, english, french, list_name=list_name) for list_name, name, english, french in (
            ("colour", "red", "Red", "Rouge"), ("colour", "blue", "Blue", "Bleu"),
            ("fruit", "apple", "Apple", "Pomme"), ("fruit", "pear", "Pear", "Poire"),
            ("fruit", "cherry", "Cherry", "Cerise"),
            ("service", "web", "Website", "Site web"), ("service", "news", "Newsletter", "Lettre d'information"),
            ("service", "events", "Events", "Événements"),
            ("yesno", "yes", "Yes", "Oui"), ("yesno", "no", "No", "Non"),
        )
    ]
    settings = {"form_id": "every_type", "form_title": "Every type", "default_language": "English (en)"}
    return survey_from_rows(rows, choices, settings)


def partners(count: int):
    """`count` organisations with one contact each; the first is French-speaking with an accented name."""
    created = []
    for i in range(count):
        name = "Ministère du Travail – Sénégal" if i == 0 else f"Partner {i}"
        created.append(
            organisation(
                name=name,
                category="government" if i % 2 else "civil_society",
                country="SN" if i == 0 else None,
                region="africa" if i == 0 else "global",
                pathfinder=i == 0,
                contacts=[(f"Contact {i}", f"c{i}@example.org", "fr")],
            )
        )
    return created


def answer(
    invitation: Invitation,
    values: dict[str, str],
    status: str = "submitted",
    language: str = "en",
    started: datetime = datetime(2026, 11, 20, 9, 5, 7, tzinfo=UTC),
    submitted: datetime | None = datetime(2026, 11, 25, 13, 40, tzinfo=UTC),
) -> Response:
    """Store a response and its answers directly, as the partner pages would have saved them."""
    return stored_response(invitation, values, status=status, language=language, started_at=started,
                           submitted_at=submitted if status == "submitted" else None)


FULL = {
    "colour": "other",
    "colour_other": "Vert émeraude",
    "fruits": "apple cherry other",
    "fruits_other": "Kiwi",
    "priorities": "news events web",
    "comment": "Très bien, « merci »",
    "staff": "-5",
    "budget": "12.5",
    "founded": "2001-02-03",
    "recommend": "9",
    "category": "yes",
}


def round_with(count: int = 2):
    """A round of the every-type survey with `count` invitations: (round, invitations by contact order)."""
    version = every_type_survey()
    partners(count)
    round_, _tokens = open_round_for(version)
    invitations = db.session.scalars(
        db.select(Invitation).filter_by(round_id=round_.id).order_by(Invitation.contact_id)
    ).all()
    return round_, invitations


def test_load_round_gives_tidy_frames(app):
    with app.app_context():
        round_, invitations = round_with(3)
        first = answer(invitations[0], FULL, language="fr")
        second = answer(
            invitations[1], {"colour": "red", "why_red": "Passion", "fruits": "pear"}, status="in_progress"
        )
        data = load_round(db.session, round_.id)

    assert data.round_name == "Test round"
    assert data.definition.form_id == "every_type"
    assert list(data.answers.columns) == ["response_id", "question", "value"]
    assert isinstance(data.answers["question"].dtype, pd.CategoricalDtype)
    mine = data.answers[data.answers["response_id"] == first.id]
    assert dict(zip(mine["question"].astype(str), mine["value"])) == FULL
    theirs = data.answers[data.answers["response_id"] == second.id]
    assert dict(zip(theirs["question"].astype(str), theirs["value"])) == {
        "colour": "red",
        "why_red": "Passion",
        "fruits": "pear",
    }

    assert list(data.respondents.columns) == RESPONDENT_COLUMNS
    respondents = data.respondents.set_index("response_id")
    assert respondents.loc[first.id, "organisation"] == "Ministère du Travail – Sénégal"
    assert respondents.loc[first.id, "status"] == "submitted"
    assert respondents.loc[first.id, "language"] == "fr"
    assert respondents.loc[first.id, "pathfinder"]
    assert respondents.loc[first.id, "submitted_at"] == pd.Timestamp("2026-11-25T13:40:00Z")
    assert respondents.loc[second.id, "status"] == "in_progress"
    assert pd.isna(respondents.loc[second.id, "submitted_at"])
    assert isinstance(data.respondents["category"].dtype, pd.CategoricalDtype)

    invitations_frame = data.invitations.set_index("invitation_id")
    assert len(invitations_frame) == 3
    assert invitations_frame.loc[invitations[0].id, "response_status"] == "submitted"
    assert invitations_frame.loc[invitations[0].id, "response_id"] == first.id
    assert invitations_frame.loc[invitations[2].id, "response_status"] is None
    assert pd.isna(invitations_frame.loc[invitations[2].id, "response_id"])
    assert set(invitations_frame["region"].astype(str)) == {"africa", "global"}


def test_unknown_and_hidden_answers_are_left_out(app):
    """An answer to a question not in the survey is dropped; so is a stale hidden one of a draft."""
    with app.app_context():
        round_, invitations = round_with(3)
        submitted = answer(invitations[0], {"colour": "blue", "renamed_question": "x", "staff": "3"})
        in_progress = answer(
            invitations[1], {"colour": "blue", "why_red": "left over", "comment": "ok"}, status="in_progress"
        )
        data = load_round(db.session, round_.id)
    by_response = {
        rid: dict(zip(group["question"].astype(str), group["value"]))
        for rid, group in data.answers.groupby("response_id")
    }
    assert by_response[submitted.id] == {"colour": "blue", "staff": "3"}
    assert by_response[in_progress.id] == {"colour": "blue", "comment": "ok"}


def test_empty_round_loads_empty_frames(app):
    with app.app_context():
        round_, _invitations = round_with(2)
        data = load_round(db.session, round_.id)
    assert data.answers.empty and data.respondents.empty
    assert list(data.answers.columns) == ["response_id", "question", "value"]
    assert len(data.invitations) == 2
    assert set(data.invitations["response_status"]) == {None}


def test_unknown_round_is_a_lookup_error(app):
    with app.app_context(), pytest.raises(LookupError):
        load_round(db.session, 999)


def _statements(app, work) -> int:
    count = 0

    def counter(*args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def test_queries_do_not_grow_with_responses(app):
    with app.app_context():
        round_, invitations = round_with(8)
        answer(invitations[0], FULL)
        load_round(db.session, round_.id)  # parses and caches the definition
        db.session.remove()
        few = _statements(app, lambda: load_round(db.session, round_.id))
        for invitation in invitations[1:]:
            answer(invitation, FULL)
        db.session.remove()
        many = _statements(app, lambda: load_round(db.session, round_.id))
        db.session.remove()
        streamed = _statements(
            app,
            lambda: list(iter_responses(db.session, round_.id, load_round(db.session, round_.id).definition)),
        )
    assert few == many
    assert many <= 6
    assert streamed <= many + 3
