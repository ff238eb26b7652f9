"""Random valid answers exported to CSV (wide and long) and read back with pandas give the same answers."""

import io

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement.extensions import db
from engagement.spreadsheets import unneutralise
from surveys.models import Answer, Invitation, Response, Round
from tests.analysis.test_exports import export_bytes
from tests.analysis.test_loader import answer, round_with

COLOURS = ["red", "blue", "other"]
FRUITS = ["apple", "pear", "cherry", "other"]
SERVICES = ["web", "news", "events"]

# Anything a partner can type but NUL (PostgreSQL refuses it in text) and lone surrogates (not UTF-8), often
# starting like a formula, or with quotes before one, and with CSV's own separators and quotes inside.
typed = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
tricky = st.text(st.sampled_from(list("=+-@\t\r\n'\",; aé€")), max_size=8)
starts = st.sampled_from(["", "=", "+", "-", "@", "\t", "\r", "'", "'=", "''-", "=HYPERLINK(", "-5"])
free_text = st.tuples(starts, st.one_of(typed, tricky)).map("".join).filter(bool)


@st.composite
def answers(draw) -> dict[str, str]:
    """One response's stored answers: answered or not, each value as the partner pages store it."""
    values = {}
    if draw(st.booleans()):
        values["colour"] = draw(st.sampled_from(COLOURS))
        if values["colour"] == "other" and draw(st.booleans()):
            values["colour_other"] = draw(free_text)
        if values["colour"] == "red" and draw(st.booleans()):
            values["why_red"] = draw(free_text)
    ticked = draw(st.lists(st.sampled_from(FRUITS), unique=True))
    if ticked:
        values["fruits"] = " ".join(code for code in FRUITS if code in ticked)
        if "other" in ticked and draw(st.booleans()):
            values["fruits_other"] = draw(free_text)
    if draw(st.booleans()):
        values["priorities"] = " ".join(draw(st.permutations(SERVICES)))
    optional = {
        "comment": free_text,
        "staff": st.integers(-(10**15) + 1, 10**15 - 1).map(str),
        "budget": st.floats(-1e9, 1e9, allow_nan=False).map(
            lambda x: str(int(x)) if x.is_integer() else repr(x)
        ),
        "founded": st.dates().map(lambda d: d.isoformat()),
        "recommend": st.integers(0, 10).map(str),
        "category": st.sampled_from(["yes", "no"]),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            values[name] = draw(strategy)
    return values


def from_wide(row: dict[str, str]) -> dict[str, str]:
    """The answers of one row of the responses CSV, as they were stored."""
    values = {}
    for name in ("colour", "fruits", "staff", "budget", "founded", "recommend", "category"):
        if row[name]:
            values[name] = row[name]
    for name in ("colour_other", "fruits_other", "why_red", "comment"):
        if row[name]:
            values[name] = unneutralise(row[name])
    ranks = {code: row[f"priorities/{code}"] for code in SERVICES if row[f"priorities/{code}"]}
    if ranks:
        values["priorities"] = " ".join(sorted(ranks, key=lambda code: int(ranks[code])))
    ticks = [row[f"fruits/{code}"] for code in FRUITS]
    if row["fruits"]:
        assert " ".join(code for code, tick in zip(FRUITS, ticks) if tick == "1") == row["fruits"]
        assert set(ticks) <= {"0", "1"}
    else:
        assert ticks == [""] * len(FRUITS)
    return values


def from_long(rows: pd.DataFrame) -> dict[str, str]:
    """The answers of one response from its rows of the long CSV."""
    values: dict[str, list[str]] = {}
    for question, option, value in rows[["question", "option", "value"]].itertuples(index=False):
        if question in ("fruits", "priorities"):
            values.setdefault(question, []).append(option)
        else:
            values[question] = [unneutralise(value)]
    return {name: " ".join(parts) for name, parts in values.items()}


def read(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(answers(), min_size=1, max_size=4), st.booleans())
def test_answers_survive_export_and_read_back(app, responses, bom):
    with app.app_context():
        round_, invitations = _round(app)
        db.session.execute(db.delete(Answer))
        db.session.execute(db.delete(Response))
        db.session.commit()
        ids = [answer(invitation, values).id for invitation, values in zip(invitations, responses)]
        wide = read(export_bytes(round_.id, bom=bom))
        long = read(export_bytes(round_.id, "long", bom=bom))
        db.session.remove()

    assert list(wide["response_id"]) == [str(i) for i in ids]
    for (_index, row), expected in zip(wide.iterrows(), responses):
        assert from_wide(row.to_dict()) == expected
    for response_id, expected in zip(ids, responses):
        assert from_long(long[long["response_id"] == str(response_id)]) == expected


def _round(app):
    """The round shared by every example of one test run (the database is fresh per test, not per example)."""
    cached = app.extensions.setdefault("export_property_round", {})
    if not cached:
        round_, invitations = round_with(4)
        cached["ids"] = (round_.id, [invitation.id for invitation in invitations])
    round_id, invitation_ids = cached["ids"]
    return db.session.get(Round, round_id), [db.session.get(Invitation, i) for i in invitation_ids]
