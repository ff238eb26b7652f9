"""`flask demo` shows everything: last year's closed round with ~120 responses, this year's open one about 45 %
submitted, answers that follow the survey's relevance and valid for its questions, comments in three languages."""

import random
import time
from collections import Counter

from analysis.models import CommentCode, CommentReview
from engagement.extensions import db
from surveys.answers import normalise
from surveys.definition import OTHER
from surveys.demo import load_demo, load_demo_history
from surveys.demo_history import LAST_ROUND
from surveys.demo_texts import THEMES, comment
from surveys.models import Answer, Invitation, Response, Round
from surveys.relevance import partner_attributes, visible_questions
from surveys.versions import definition_for


def _rounds(app):
    with app.app_context():
        round_, _invitations = load_demo()
        started = time.perf_counter()
        last = load_demo_history(round_)
        elapsed = time.perf_counter() - started
        return round_.id, last.id, elapsed


def _statuses(round_id):
    rows = db.session.execute(db.select(Response.status).join(Invitation).filter(Invitation.round_id == round_id))
    return Counter(status for (status,) in rows)


def test_demo_seeds_last_year_closed_and_this_year_in_progress(app):
    this_id, last_id, elapsed = _rounds(app)
    assert elapsed < 10
    with app.app_context():
        last, this = db.session.get(Round, last_id), db.session.get(Round, this_id)
        assert last.status == "closed" and last.name == LAST_ROUND and last.closed_at.year == 2025
        assert this.status == "open"
        assert sum(_statuses(last_id).values()) == 120
        invited = db.session.scalar(db.select(db.func.count()).select_from(Invitation).filter_by(round_id=this_id))
        counts = _statuses(this_id)
        assert 0.40 <= counts["submitted"] / invited <= 0.50
        assert counts["in_progress"] >= 5


def test_demo_answers_follow_relevance_and_are_valid(app):
    this_id, last_id, _elapsed = _rounds(app)
    with app.app_context():
        round_ = db.session.get(Round, this_id)
        definition = definition_for(round_.survey_version)
        responses = db.session.scalars(db.select(Response).join(Invitation)
                                       .filter(Invitation.round_id.in_([this_id, last_id]))).all()
        checked = 0
        for response in responses:
            values = {a.question: a.value for a in db.session.scalars(db.select(Answer).filter_by(
                response_id=response.id))}
            partner = partner_attributes(response.invitation.contact.organisation)
            shown = visible_questions(definition, values, partner)
            for name, value in values.items():
                base = name.removesuffix("_other") if name.endswith("_other") else name
                assert base in shown, (name, response.id)
                if name == base:
                    _stored, error = normalise(definition.question(name), value, definition, "en")
                    assert error is None, (name, value, error)
                else:
                    assert OTHER in values[base].split()
                checked += 1
        assert checked > 5000


def test_demo_comments_are_varied_and_in_three_languages(app):
    this_id, last_id, _elapsed = _rounds(app)
    with app.app_context():
        rows = db.session.execute(
            db.select(Answer.value, Response.language).join(Response).join(Invitation)
            .filter(Invitation.round_id.in_([this_id, last_id]),
                    Answer.question.in_(["services_missing", "one_change", "recommend_why"]))).all()
    languages = Counter(language for _value, language in rows)
    assert set(languages) == {"en", "fr", "es"} and min(languages.values()) >= 10
    texts = [value for value, _language in rows]
    assert len(set(texts)) / len(texts) > 0.6
    assert any("é" in t for t, lang in rows if lang == "fr") and any("ó" in t for t, lang in rows if lang == "es")


def test_comments_use_french_typography_and_every_theme():
    rng = random.Random(1)
    texts = [comment("one_change", "fr", rng) for _ in range(400)]
    assert not any(" :" in t or " ;" in t for t in texts)
    for theme, by_language in THEMES.items():
        assert set(by_language) == {"en", "fr", "es"}, theme
    assert comment("recommend_why", "es", rng, score=10) != comment("recommend_why", "es", rng, score=2)


def test_demo_history_is_added_once(app):
    with app.app_context():
        round_, _invitations = load_demo()
        assert load_demo_history(round_) is not None
        assert load_demo_history(round_) is None
        assert db.session.scalar(db.select(db.func.count()).select_from(Round)) == 2


def test_demo_command_prints_unanswered_links_and_last_year(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Last year's round" in result.output
    assert result.output.count("/s/") == 8
    with empty_app.app_context():  # the coding workspace and the report's themes have something to show
        rounds = db.session.scalars(db.select(Round).order_by(Round.id)).all()
        coded = {r.id: db.session.scalar(db.select(db.func.count(CommentReview.id)).join(Response, Response.id ==
                 CommentReview.response_id).join(Invitation).filter(Invitation.round_id == r.id)) for r in rounds}
        assert all(n > 10 for n in coded.values()), coded
        assert db.session.scalar(db.select(db.func.count(CommentCode.id))) > sum(coded.values()) / 2
    again = empty_app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    with empty_app.app_context():
        assert db.session.scalar(db.select(db.func.count(CommentReview.id))) == sum(coded.values())
