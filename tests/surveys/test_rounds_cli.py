"""`flask rounds ...` and `flask invitations ...`: open, close, list, send, remind, export."""

import csv
from datetime import UTC, datetime, timedelta

from engagement.extensions import db
from engagement.models import AuditEntry
from surveys.invitations import link_for
from surveys.models import Invitation, Response, Round
from surveys.versions import DEFAULT_SURVEY_FILE, import_survey
from tests.factories import organisation

CLOSES = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()


def registry(app):
    with app.app_context():
        version, _definition = import_survey(DEFAULT_SURVEY_FILE.read_bytes(), DEFAULT_SURVEY_FILE.name)
        db.session.commit()
        organisation("Ministry of Labour of Ghana", contacts=[("Ama Mensah", "ama@labour.example.gh", "en")])
        organisation("-Minus Org", category="workers", country="BR", region="americas", pathfinder=False,
                     contacts=[("Lucía Fernández", "lucia@csa.example.org", "es")])
        gone = organisation("Closed Org", contacts=[("Gone", "gone@example.org", "en")])
        gone.active = False
        db.session.commit()
        return version.survey_id


def open_round(runner, survey="alliance87_engagement", name="2026 review", closes=CLOSES):
    return runner.invoke(args=["rounds", "open", survey, "--name", name, "--closes", closes])


def test_rounds_open_by_form_id_or_id_prints_the_id_last(app, runner):
    survey_id = registry(app)
    result = open_round(runner)
    assert result.exit_code == 0, result.output
    round_id = int(result.output.strip().splitlines()[-1])
    assert "2 invitation(s) created" in result.output
    by_id = open_round(runner, survey=str(survey_id), name="Second")
    assert by_id.exit_code == 0, by_id.output
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        assert round_.status == "open" and round_.closes_on.isoformat() == CLOSES
        assert sorted(inv.contact.email for inv in round_.invitations) == ["ama@labour.example.gh",
                                                                           "lucia@csa.example.org"]
        entries = db.session.scalars(db.select(AuditEntry).filter_by(action="round.open")).all()
        assert [(entry.actor, entry.details["invited"]) for entry in entries] == [("cli", 2), ("cli", 2)]


def test_rounds_open_refuses_bad_input_and_stores_nothing(app, runner):
    registry(app)
    cases = [
        ({"survey": "nope"}, "No survey 'nope'"),
        ({"closes": "2020-01-01"}, "is in the past"),
        ({"closes": "31/12/2026"}, "'31/12/2026' does not match the format"),
        ({"name": "  "}, "a round needs a name"),
    ]
    for kwargs, message in cases:
        result = open_round(runner, **kwargs)
        assert result.exit_code != 0 and message in result.output, (kwargs, result.output)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Round.id))) == 0


def test_rounds_close_and_list(app, runner):
    registry(app)
    assert runner.invoke(args=["rounds", "list"]).output.startswith("No rounds yet")
    round_id = open_round(runner).output.strip().splitlines()[-1]
    listing = runner.invoke(args=["rounds", "list"])
    assert f"{round_id}\topen\t2026 review\talliance87_engagement v1\tcloses {CLOSES}\t2 invited, 0 submitted" \
        in listing.output
    closed = runner.invoke(args=["rounds", "close", round_id])
    assert closed.exit_code == 0 and "Closed round" in closed.output
    assert "\tclosed\t" in runner.invoke(args=["rounds", "list"]).output
    again = runner.invoke(args=["rounds", "close", round_id])
    assert again.exit_code == 1 and "only an open round can be closed" in again.output
    missing = runner.invoke(args=["rounds", "close", "999"])
    assert missing.exit_code == 1 and "There is no round 999" in missing.output


def test_rounds_closes_moves_the_closing_date(app, runner):
    registry(app)
    round_id = open_round(runner).output.strip().splitlines()[-1]
    later = (datetime.now(UTC).date() + timedelta(days=60)).isoformat()
    moved = runner.invoke(args=["rounds", "closes", round_id, later])
    assert moved.exit_code == 0 and f"now closes on {later} (was {CLOSES})" in moved.output
    assert f"closes {later}" in runner.invoke(args=["rounds", "list"]).output
    past = runner.invoke(args=["rounds", "closes", round_id, "2020-01-01"])
    assert past.exit_code == 2 and "2020-01-01 is in the past" in past.output
    runner.invoke(args=["rounds", "close", round_id])
    closed = runner.invoke(args=["rounds", "closes", round_id, later])
    assert closed.exit_code == 1 and "a closed round keeps its closing date" in closed.output
    with app.app_context():
        assert db.session.get(Round, int(round_id)).closes_on.isoformat() == later
        actions = [e.action for e in db.session.scalars(db.select(AuditEntry))]
        assert actions.count("round.closing_date") == 1


def test_invitations_send_and_remind_in_outbox_mode(app, runner, tmp_path):
    registry(app)
    round_id = open_round(runner).output.strip().splitlines()[-1]
    sent = runner.invoke(args=["invitations", "send", round_id])
    assert sent.exit_code == 0 and "2 invitation(s) sent, 0 skipped, 0 failed." in sent.output
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
    again = runner.invoke(args=["invitations", "send", round_id])
    assert "0 invitation(s) sent, 2 skipped" in again.output
    held_back = runner.invoke(args=["invitations", "remind", round_id])
    assert held_back.exit_code == 0 and "0 reminder(s) sent, 2 skipped" in held_back.output  # just invited
    reminded = runner.invoke(args=["invitations", "remind", round_id, "--force"])
    assert reminded.exit_code == 0 and "2 reminder(s) sent" in reminded.output
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 4
    with app.app_context():
        assert [entry.details.get("forced") for entry in db.session.scalars(
            db.select(AuditEntry).filter_by(action="reminders.send").order_by(AuditEntry.id))] == [None, True]
    runner.invoke(args=["rounds", "close", round_id])
    refused = runner.invoke(args=["invitations", "remind", round_id])
    assert refused.exit_code == 1 and "mails are sent only while a round is open" in refused.output


def test_invitations_send_reports_an_smtp_failure_and_exits_1(app, runner):
    registry(app)
    round_id = open_round(runner).output.strip().splitlines()[-1]
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1, SMTP_TIMEOUT=2)  # nothing listens on port 1
    result = runner.invoke(args=["invitations", "send", round_id])
    assert result.exit_code == 1
    assert "0 invitation(s) sent" in result.output and "Sending stopped" in result.output
    assert "2 not sent yet; run the command again" in result.output


def test_invitations_export_writes_status_and_links(app, runner, tmp_path):
    registry(app)
    round_id = open_round(runner).output.strip().splitlines()[-1]
    runner.invoke(args=["invitations", "send", round_id])
    with app.app_context():
        invitations = {inv.contact.email: inv for inv in
                       db.session.scalars(db.select(Invitation).where(Invitation.round_id == int(round_id)))}
        db.session.add(Response(invitation=invitations["ama@labour.example.gh"], status="submitted",
                                submitted_at=datetime.now(UTC)))
        db.session.commit()
        links = {email: link_for(inv) for email, inv in invitations.items()}
    out = tmp_path / "invitations.csv"
    result = runner.invoke(args=["invitations", "export", round_id, "--out", str(out)])
    assert result.exit_code == 0 and "Wrote 2 invitation(s)" in result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the accents right
    with out.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    plain = out.with_name("plain.csv")
    assert runner.invoke(args=["invitations", "export", round_id, "--out", str(plain), "--no-bom"]).exit_code == 0
    assert plain.read_bytes() == out.read_bytes()[3:]
    assert list(rows[0].keys()) == ["organisation", "contact_name", "contact_email", "language", "status", "link",
                                    "invited_at", "last_reminded_at", "reminders"]
    by_email = {row["contact_email"]: row for row in rows}
    assert by_email["ama@labour.example.gh"]["status"] == "submitted"
    assert by_email["lucia@csa.example.org"]["status"] == "invited"
    assert by_email["lucia@csa.example.org"]["organisation"] == "'-Minus Org"
    assert by_email["lucia@csa.example.org"]["language"] == "es"
    assert {email: row["link"] for email, row in by_email.items()} == links
    assert all(row["invited_at"].endswith("+00:00") and row["last_reminded_at"] == "" and row["reminders"] == "0"
               for row in rows)
    with app.app_context():
        assert db.session.scalar(db.select(AuditEntry).filter_by(action="invitations.export")).details["rows"] == 2
    missing = runner.invoke(args=["invitations", "export", "999", "--out", str(out)])
    assert missing.exit_code == 1 and "There is no round 999" in missing.output
