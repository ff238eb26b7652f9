"""The dashboard's numbers: statuses, breakdowns, filters and submissions per day, checked against the DB rows."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from analysis import monitoring
from analysis.figures import cumulative_line_svg
from engagement.extensions import db
from surveys.models import Invitation, Response
from tests.factories import open_round_for, organisation, survey_from_rows

QUESTIONS = [{"type": "text", "name": "comment", "label": "Comment"}]

PARTNERS = [
    # name, category, region, pathfinder, action groups, contacts
    ("Ministry of Labour of Ghana", "government_pathfinder", "africa", True, "supply_chains", 2),
    ("Ministère du Travail de Madagascar", "government_pathfinder", "africa", True, "migration", 1),
    ("Confederación Sindical de las Américas", "workers", "americas", False, "supply_chains migration", 1),
    ("International Organisation of Employers", "employers", "europe_central_asia", False, "supply_chains", 1),
    ("Survivor Alliance Network", "survivor", "global", False, "", 1),
    ("Anti-Slavery Action Nepal", "civil_society", "asia_pacific", False, "migration rule_of_law", 2),
]


def open_round_with_partners() -> tuple:
    """The six PARTNERS (8 contacts) invited to an open round of a one-question survey: (round, tokens by email)."""
    for name, category, region, pathfinder, groups, contacts in PARTNERS:
        people = [(f"Contact {i} of {name}", f"c{i}.{abs(hash(name))}@example.org", "en") for i in range(contacts)]
        organisation(name=name, category=category, country=None, region=region, pathfinder=pathfinder,
                     action_groups=groups, contacts=people)
    return open_round_for(survey_from_rows(QUESTIONS))


def respond(invitation, status, day: date | None = None):
    """A response as the partner's pages leave it: in progress, or submitted on a given day."""
    response = Response(invitation_id=invitation.id, status=status)
    if status == "submitted":
        response.submitted_at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=14)
    db.session.add(response)


@pytest.fixture
def round_(app):
    """A round with 8 invitations: 3 submitted (two days), 2 started, 1 ineligible, the rest only invited."""
    with app.app_context():
        opened, _tokens = open_round_with_partners()
        opened.opens_on = date(2026, 3, 1)
        invitations = sorted(opened.invitations, key=lambda inv: inv.contact.email)
        by_org = {}
        for inv in invitations:
            by_org.setdefault(inv.contact.organisation.name, []).append(inv)
        ghana = by_org["Ministry of Labour of Ghana"]
        respond(ghana[0], "submitted", date(2026, 3, 2))
        respond(ghana[1], "in_progress")
        respond(by_org["Confederación Sindical de las Américas"][0], "submitted", date(2026, 3, 4))
        respond(by_org["Anti-Slavery Action Nepal"][0], "submitted", date(2026, 3, 4))
        respond(by_org["Anti-Slavery Action Nepal"][1], "in_progress")
        by_org["Survivor Alliance Network"][0].ineligible = "left"
        db.session.commit()
        yield opened.id


def independent_statuses(round_id):
    """Each invitation's export status computed from the ORM rows in Python, with its organisation."""
    rows = []
    for inv in db.session.scalars(db.select(Invitation).filter_by(round_id=round_id)):
        response = inv.response
        status = "invited" if response is None else "submitted" if response.status == "submitted" else "started"
        rows.append((status, inv.ineligible is not None, inv.contact.organisation))
    return rows


def expected_counts(rows) -> dict:
    statuses = Counter(status for status, _ineligible, _org in rows)
    eligible = [row for row in rows if not row[1]]
    submitted_eligible = sum(1 for status, _i, _o in eligible if status == "submitted")
    return {"invited": len(rows), "not_started": statuses["invited"], "started": statuses["started"],
            "submitted": statuses["submitted"], "eligible": len(eligible),
            "completion_rate": submitted_eligible / len(eligible) if eligible else None}


def as_dict(counts: monitoring.Counts) -> dict:
    return {"invited": counts.invited, "not_started": counts.not_started, "started": counts.started,
            "submitted": counts.submitted, "eligible": counts.eligible, "completion_rate": counts.completion_rate}


def test_totals_match_statuses_computed_from_the_rows(app, round_):
    with app.app_context():
        rows = independent_statuses(round_)
        totals = monitoring.round_counts(round_)
        assert as_dict(totals) == expected_counts(rows)
        assert (totals.invited, totals.started, totals.submitted, totals.ineligible) == (8, 2, 3, 1)
        assert totals.completion_rate == pytest.approx(3 / 7)


@pytest.mark.parametrize("dimension, key", [
    ("category", lambda org: [org.category]),
    ("region", lambda org: [org.region]),
    ("pathfinder", lambda org: [org.pathfinder]),
    ("action_group", lambda org: org.action_group_list or [""]),
])
def test_breakdowns_match_the_rows(app, round_, dimension, key):
    with app.app_context():
        rows = independent_statuses(round_)
        groups = {}
        for row in rows:
            for value in key(row[2]):
                groups.setdefault(value, []).append(row)
        computed = monitoring.counts_by(round_, dimension)
        assert {k: as_dict(v) for k, v in computed.items()} == {k: expected_counts(v) for k, v in groups.items()}


def test_an_organisation_in_several_action_groups_counts_in_each(app, round_):
    with app.app_context():
        groups = monitoring.counts_by(round_, "action_group")
        # Ghana (2 contacts) + the Confederación (in supply chains and migration) + the employers.
        assert groups["supply_chains"].invited == 4
        assert groups["migration"].invited == 4  # Madagascar, the Confederación, Nepal's two contacts
        assert groups["rule_of_law"].invited == 2
        assert groups[""].invited == 1
        assert sum(c.invited for c in groups.values()) > monitoring.round_counts(round_).invited


@pytest.mark.parametrize("filters, predicate", [
    ({"category": "government_pathfinder"}, lambda org: org.category == "government_pathfinder"),
    ({"region": "africa"}, lambda org: org.region == "africa"),
    ({"pathfinder": "no"}, lambda org: not org.pathfinder),
    ({"action_group": "migration"}, lambda org: "migration" in org.action_group_list),
    ({"action_group": "supply_chains", "pathfinder": "no"},
     lambda org: "supply_chains" in org.action_group_list and not org.pathfinder),
    ({"region": "arab_states"}, lambda org: False),
])
def test_filters_narrow_every_number(app, round_, filters, predicate):
    with app.app_context():
        rows = [row for row in independent_statuses(round_) if predicate(row[2])]
        round_obj = db.session.get(monitoring.Round, round_)
        data = monitoring.monitoring(round_obj, filters, today=date(2026, 3, 5))
        assert as_dict(data.total) == expected_counts(rows)
        for breakdown in (data.by_category, data.by_region, data.by_pathfinder):
            assert sum(c.invited for c in breakdown.values()) == len(rows)
        assert data.submissions_per_day[-1][2] == expected_counts(rows)["submitted"]
        not_submitted = [row for row in rows if row[0] != "submitted" and not row[1]]
        assert len(data.non_respondents) == len(not_submitted)
        if "action_group" in filters:
            assert set(data.by_action_group) <= {filters["action_group"]}


def test_submissions_per_day_are_cumulative_from_the_opening(app, round_):
    with app.app_context():
        round_obj = db.session.get(monitoring.Round, round_)
        series = monitoring.submissions_per_day(round_obj, today=date(2026, 3, 5))
        assert series == [
            (date(2026, 3, 1), 0, 0), (date(2026, 3, 2), 1, 1), (date(2026, 3, 3), 0, 1),
            (date(2026, 3, 4), 2, 3), (date(2026, 3, 5), 0, 3),
        ]


def test_non_respondents_list_started_and_invited_but_not_ineligible(app, round_):
    with app.app_context():
        people = monitoring.non_respondents(round_)
        assert Counter(p.status for p in people) == {"invited": 2, "started": 2}
        assert "Survivor Alliance Network" not in {p.organisation for p in people}
        assert [p.organisation for p in people] == sorted(p.organisation for p in people)
        assert all(p.reminder_count == 0 and p.last_reminded_at is None for p in people)


def test_last_reminder_is_listed(app, round_):
    with app.app_context():
        invitation = db.session.get(Invitation, monitoring.non_respondents(round_)[0].invitation_id)
        invitation.last_reminded_at = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
        invitation.reminder_count = 2
        db.session.commit()
        first = monitoring.non_respondents(round_)[0]
        assert (first.reminder_count, first.last_reminded_at.replace(tzinfo=None)) == (2, datetime(2026, 3, 3, 9, 30))


def count_queries(app, work) -> int:
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    return len(statements)


def test_the_number_of_queries_does_not_grow_with_the_invitations(app, round_):
    with app.app_context():
        round_obj = db.session.get(monitoring.Round, round_)
        small = count_queries(app, lambda: monitoring.monitoring(round_obj, today=date(2026, 3, 5)))
        for i in range(30):
            organisation(name=f"Extra partner {i}", category="academia", country=None, region="global",
                         pathfinder=False, action_groups="migration",
                         contacts=[(f"Person {i}", f"extra{i}@example.org", "fr")])
        from surveys.rounds import invite_audience

        for invitation in invite_audience(round_obj)[:10]:
            respond(invitation, "in_progress")
        db.session.commit()
        db.session.expire_all()
        round_obj = db.session.get(monitoring.Round, round_)
        large = count_queries(app, lambda: monitoring.monitoring(round_obj, today=date(2026, 3, 5)))
        assert large == small <= 8
        assert monitoring.round_counts(round_).invited == 38


def test_rounds_overview_counts_every_round(app, round_):
    with app.app_context():
        version = db.session.get(monitoring.Round, round_).survey_version
        from surveys.rounds import create_round

        create_round(version, "Draft round", date(2026, 12, 31))
        db.session.commit()
        summaries = {s.round.name: s for s in monitoring.rounds_overview()}
        assert as_dict(summaries["Test round"].counts) == expected_counts(independent_statuses(round_))
        assert summaries["Draft round"].counts.invited == 0
        assert summaries["Draft round"].counts.completion_rate is None
        assert summaries["Test round"].survey_title == "Test form"


def test_action_groups_in_round_are_the_filter_choices(app, round_):
    with app.app_context():
        assert monitoring.action_groups_in_round(round_) == ["migration", "rule_of_law", "supply_chains"]


def test_chart_is_accessible_svg_with_one_marker_per_day():
    svg = cumulative_line_svg([("1 Mar", 0), ("2 Mar", 1), ("3 Mar", 3)], title="Submitted <cumulative>",
                              description="3 by 3 Mar", y_label="Submitted", chart_id="c")
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-labelledby="c-title c-desc"' in svg
    assert "<title id=\"c-title\">Submitted &lt;cumulative&gt;</title>" in svg
    assert svg.count("<circle") == 3
    assert "3 Mar" in svg
    empty = cumulative_line_svg([], title="t", description="d", y_label="y")
    assert "<path" not in empty and empty.endswith("</svg>")


def test_due_for_reminder_follows_the_mailers_rule():
    now = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)

    def person(invitation_id, invited_at, last):
        return monitoring.NonRespondent(invitation_id, "Org", "Name", "a@example.org", "en", "invited", last,
                                        1 if last else 0, invited_at)

    mailed = datetime(2026, 2, 20, tzinfo=UTC)
    people = [
        person(1, None, None),                                  # never mailed: the invitation goes first
        person(2, mailed, None),                                # mailed 13 days ago, never reminded
        person(3, mailed, datetime(2026, 3, 5, 2, 0)),          # reminded 10 hours ago (naive, as SQLite gives)
        person(4, mailed, datetime(2026, 3, 1, 10, 0, tzinfo=UTC)),  # reminded 4 days ago
        person(5, datetime(2026, 3, 4, tzinfo=UTC), None),      # invited yesterday: the gap counts from it too
    ]
    assert monitoring.due_for_reminder(people, now, 3) == {2, 4}
    assert monitoring.due_for_reminder(people, now, 0.25) == {2, 3, 4, 5}
