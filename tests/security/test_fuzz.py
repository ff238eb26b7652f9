"""Property-based fuzzing of autosave and page submit: never a 5xx, and what is stored stays valid for the survey."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement.extensions import db
from surveys.answers import normalise
from surveys.definition import OTHER
from surveys.models import Answer, Invitation
from surveys.relevance import allowed_names, partner_attributes
from surveys.versions import definition_for
from tests.factories import invited_partner, survey_from_yaml
from tests.security.conftest import started

EVERY_TYPE = (Path(__file__).parents[1] / "surveys" / "every_type.yaml").read_text()
NAMES = ["member", "why_member", "reasons", "reasons_other", "staff", "share", "joined", "category", "sat_web",
         "sat_news", "recommend", "top", "roadmap", "intro", "nope", ""]
PAGES = ["first", "second", "third", "nope", "..", "%2e"]
CODES = ["yes", "no", "evidence", "network", "advocacy", "other", "1", "5", "na", "web", "news", "events", "0", "10"]

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
value = st.one_of(
    text, st.sampled_from(CODES), st.just(""), st.integers().map(str), st.floats().map(str),
    st.builds(lambda n, c: c * n, st.integers(0, 6000), st.sampled_from(["x", "é", "\u202e", "0"])),
    st.lists(st.sampled_from(CODES), max_size=4).map(" ".join),
)
field = st.one_of(
    st.sampled_from(NAMES), st.sampled_from(NAMES).map(lambda n: f"{n}__present"),
    st.sampled_from(NAMES).map(lambda n: f"{n}_other"),
    st.tuples(st.sampled_from(["top", "reasons"]), st.sampled_from(CODES + ["x"])).map(lambda t: f"{t[0]}[{t[1]}]"),
    text,
)
form = st.lists(st.tuples(field, st.one_of(value, st.lists(value, max_size=3))), max_size=8).map(
    lambda pairs: [(k, v) for k, vs in pairs for v in (vs if isinstance(vs, list) else [vs])])
action = st.sampled_from(["save", "next", "back", "review", "lang:fr", "lang:xx", "", "submit", "next\x00"])
request_ = st.one_of(
    st.tuples(st.just("autosave"), st.one_of(st.sampled_from(NAMES), text), form, st.just("")),
    st.tuples(st.just("page"), st.one_of(st.sampled_from(PAGES), text), form, action),
)


def assert_stored_answers_are_valid(app):
    """Every stored value is what normalise() and the constraints accept, for a question of the survey."""
    with app.test_request_context():
        invitation = db.session.scalar(db.select(Invitation))
        definition = definition_for(invitation.round.survey_version)
        allowed = allowed_names(definition)
        rows = db.session.scalars(db.select(Answer)).all()
        values = {a.question: a.value for a in rows}
        context = {**partner_attributes(invitation.contact.organisation), **values}
        for answer in rows:
            assert answer.question in allowed, answer.question
            assert answer.value and answer.value == answer.value.strip(), (answer.question, answer.value)
            question = definition.question(answer.question)
            if question is None:  # an "other, specify" text: its question must have "other" chosen
                base = next(q for q in definition.questions() if q.or_other and q.other_name == answer.question)
                assert OTHER in values.get(base.name, "").split(), answer.question
                assert len(answer.value) <= 5000
                continue
            stored, error = normalise(question, answer.value, definition, "en")
            assert error is None and stored == answer.value, (answer.question, answer.value, error)
            if question.constraint is not None:
                assert question.constraint.evaluate(context, current=answer.value), (answer.question, answer.value)
        db.session.remove()


def test_autosave_and_page_submit_never_fail_and_store_only_valid_answers(app, client):
    with app.app_context():
        _round, token = invited_partner(survey_from_yaml(EVERY_TYPE))
    started(app, client, token)
    seen = set()

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(request_, min_size=1, max_size=4))
    def run(requests):
        for kind, name, data, act in requests:
            if kind == "autosave":
                url = f"/s/{token}/answer/{name}"
                body = data
            else:
                url = f"/s/{token}/page/{name}"
                body = [*data, ("action", act)]
            for htmx in (True, False):
                response = client.post(url, body, htmx=htmx)
                assert response.status_code < 500, (url, body, response.status_code)
                seen.add(response.status_code)
        assert_stored_answers_are_valid(app)

    run()
    assert {200, 404, 422} <= seen  # the fuzzing reached saves, unknown names and refusals
