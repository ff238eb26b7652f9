"""Invitations and reminders through a real SMTP server on localhost (aiosmtpd), and the outbox of development."""

from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from urllib.parse import urlsplit

import pytest

from engagement.extensions import db
from engagement.models import AuditEntry
from surveys.mailing import RoundNotOpen, build_message, send_invitations, send_reminders
from surveys.models import Invitation, Response, Round
from surveys.rounds import close_round, create_round, open_round
from surveys.versions import DEFAULT_SURVEY_FILE, import_survey
from tests.factories import organisation

EVIL_NAME = '<script>alert("x")</script> Workers & Co'


def partners_and_round(closes_in_days=20):
    """Three partners in English, French and Spanish (one with markup in its name) and an open round."""
    version, _definition = import_survey(DEFAULT_SURVEY_FILE.read_bytes(), DEFAULT_SURVEY_FILE.name)
    organisation("Ministry of Labour of Ghana", contacts=[("Ama Mensah", "ama@labour.example.gh", "en")])
    organisation("Ministère du Travail de Madagascar", category="government_pathfinder", country="MG",
                 contacts=[("Hery Rakoto", "hery@travail.example.mg", "fr")])
    organisation(EVIL_NAME, category="workers", country="BR", region="americas", pathfinder=False,
                 contacts=[("Lucía Fernández", "lucia@csa.example.org", "es")])
    round_ = create_round(version, "2026 review", datetime.now(UTC).date() + timedelta(days=closes_in_days))
    open_round(round_)
    db.session.commit()
    return round_


def invited_days_ago(days=4):
    """Move every invitation's mailing back in time, past the reminder gap (3 days by default)."""
    db.session.execute(db.update(Invitation).where(Invitation.invited_at.is_not(None))
                       .values(invited_at=datetime.now(UTC) - timedelta(days=days)))
    db.session.commit()


def parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_invitations_arrive_in_each_language_with_a_working_link(app, client, smtp):
    with app.app_context():
        round_ = partners_and_round()
        closes_on = round_.closes_on
        report = send_invitations(round_)
    assert (report.sent, report.skipped, report.failed, report.error) == (3, 0, 0, None)
    assert len(smtp.messages) == 3

    english, = smtp.to("ama@labour.example.gh")
    french, = smtp.to("hery@travail.example.mg")
    spanish, = smtp.to("lucia@csa.example.org")
    expectations = [
        (english, "en", "Invitation: Alliance 8.7 partner engagement and services survey",
         ["Dear Ama Mensah", "The survey closes on " + closes_on.strftime("%B ") + str(closes_on.day),
          "Answer the survey"]),
        (french, "fr", "Invitation : Enquête sur l'engagement des partenaires",
         ["Bonjour Hery Rakoto", "L'enquête sera close le " + str(closes_on.day), "Répondre à l'enquête"]),
        (spanish, "es", "Invitación: Encuesta sobre la participación de los socios",
         ["Estimado/a Lucía Fernández", "La encuesta se cierra el " + str(closes_on.day) + " de ",
          "Responder a la encuesta"]),
    ]
    for message, language, subject, phrases in expectations:
        assert message.get_content_type() == "multipart/alternative"
        assert message["Content-Language"] == language
        assert message["Subject"].startswith(subject)
        assert message["Reply-To"] == "secretariat@alliance87.example"
        text, html = parts(message)
        for phrase in phrases:
            assert phrase in text, (language, phrase)
        assert "secretariat@alliance87.example" in text and "secretariat@alliance87.example" in html
        assert f'<html lang="{language}">' in html
        for english_only in ("Dear ", "The survey closes", "Questions?") if language != "en" else ():
            assert english_only not in text and english_only not in html
        link = next(line for line in text.splitlines() if line.startswith("http://localhost/s/"))
        assert f'href="{link}"' in html
        welcome = client.get(urlsplit(link).path)
        assert welcome.status_code == 200

    text, html = parts(spanish)
    assert EVIL_NAME in text  # plain text carries the name as it is
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Workers &amp; Co" in html

    with app.app_context():
        invitations = db.session.scalars(db.select(Invitation)).all()
        assert all(invitation.invited_at is not None for invitation in invitations)
        audit = db.session.scalars(db.select(AuditEntry).filter_by(action="invitations.send")).all()
        assert len(audit) == 1 and audit[0].details["sent"] == 3 and audit[0].actor == "cli"


def test_a_second_run_sends_nothing_again(app, smtp):
    with app.app_context():
        round_ = partners_and_round()
        send_invitations(round_)
        again = send_invitations(round_)
    assert (again.sent, again.skipped) == (0, 3)
    assert len(smtp.messages) == 3


def test_smtp_failing_half_way_then_the_second_run_sends_only_the_rest(app, smtp):
    smtp.fail_after = 1
    with app.app_context():
        round_ = partners_and_round()
        first = send_invitations(round_)
        assert (first.sent, first.failed, first.remaining, first.interrupted) == (1, 1, 1, True)
        assert "451" in first.error and first.unsent == 2
        sent_first = {rcpts[0] for rcpts, _message in smtp.messages}
        assert db.session.scalar(db.select(db.func.count(Invitation.id))
                                 .where(Invitation.invited_at.is_not(None))) == 1

        smtp.fail_after = None
        second = send_invitations(round_)
        assert (second.sent, second.skipped, second.failed, second.error) == (2, 1, 0, None)
        audit = db.session.scalars(db.select(AuditEntry).filter_by(action="invitations.send")
                                   .order_by(AuditEntry.id)).all()
        assert [entry.details["sent"] for entry in audit] == [1, 2]
        assert audit[0].details["error"].startswith("SMTP 451")
    recipients = [rcpts[0] for rcpts, _message in smtp.messages]
    assert len(recipients) == 3 and len(set(recipients)) == 3  # nobody mailed twice
    assert recipients[0] in sent_first


def test_smtp_server_down_sends_nothing_and_records_nothing(app, smtp):
    smtp.controller.stop()
    with app.app_context():
        round_ = partners_and_round()
        report = send_invitations(round_)
        assert (report.sent, report.interrupted, report.unsent) == (0, True, 3)
        assert "ConnectionRefused" in report.error
        assert db.session.scalar(db.select(db.func.count(Invitation.id))
                                 .where(Invitation.invited_at.is_not(None))) == 0


def test_a_refused_address_does_not_stop_the_others(app, smtp):
    smtp.refuse = {"hery@travail.example.mg"}
    with app.app_context():
        round_ = partners_and_round()
        report = send_invitations(round_)
        assert (report.sent, report.failed, report.refused, report.interrupted) == (
            2, 1, ["hery@travail.example.mg"], False)
        refused = db.session.scalar(db.select(Invitation).join(Invitation.contact)
                                    .where(Invitation.contact.has(email="hery@travail.example.mg")))
        assert refused.invited_at is None  # the next run tries it again


def test_reminders_skip_submitted_and_recently_reminded_and_record_the_time(app, smtp):
    with app.app_context():
        round_ = partners_and_round()
        send_invitations(round_)
        invited_days_ago()
        invitations = {inv.contact.email: inv for inv in round_.invitations}
        now = datetime.now(UTC)
        db.session.add(Response(invitation=invitations["ama@labour.example.gh"], status="submitted",
                                submitted_at=now))
        db.session.add(Response(invitation=invitations["hery@travail.example.mg"], status="in_progress",
                                language="fr"))
        db.session.commit()
        smtp.messages.clear()

        before = datetime.now(UTC)
        report = send_reminders(round_)
        assert (report.sent, report.skipped) == (2, 1)
        assert {rcpts[0] for rcpts, _message in smtp.messages} == {"hery@travail.example.mg",
                                                                    "lucia@csa.example.org"}
        french, = smtp.to("hery@travail.example.mg")
        assert french["Subject"].startswith("Rappel : ")
        assert "Reprendre l'enquête" in parts(french)[0]  # started: invited to continue
        spanish, = smtp.to("lucia@csa.example.org")
        assert "Todavía no hemos recibido" in parts(spanish)[0]
        db.session.expire_all()
        for email in ("hery@travail.example.mg", "lucia@csa.example.org"):
            invitation = db.session.get(Invitation, invitations[email].id)
            reminded = invitation.last_reminded_at
            reminded = reminded if reminded.tzinfo else reminded.replace(tzinfo=UTC)
            assert before <= reminded <= datetime.now(UTC) and invitation.reminder_count == 1
        assert db.session.get(Invitation, invitations["ama@labour.example.gh"].id).reminder_count == 0

        double_click = send_reminders(round_)
        assert (double_click.sent, double_click.skipped) == (0, 3)
        assert len(smtp.messages) == 2

        # Past the gap the same contacts are due again; the count goes up.
        db.session.execute(db.update(Invitation).values(last_reminded_at=now - timedelta(days=3, minutes=1)))
        db.session.commit()
        later = send_reminders(round_, invitation_ids=[invitations["lucia@csa.example.org"].id])
        assert (later.sent, later.skipped) == (1, 0)
        assert db.session.get(Invitation, invitations["lucia@csa.example.org"].id).reminder_count == 2
        assert len(db.session.scalars(db.select(AuditEntry).filter_by(action="reminders.send")).all()) == 3


def test_reminder_gap_follows_configuration(app, smtp):
    app.config["REMINDER_GAP_DAYS"] = 0
    with app.app_context():
        round_ = partners_and_round()
        send_invitations(round_)
        assert send_reminders(round_).sent == 3
        assert send_reminders(round_).sent == 3


def test_reminders_wait_for_the_invitation_and_skip_ineligible(app, smtp):
    with app.app_context():
        round_ = partners_and_round()
        assert send_reminders(round_).sent == 0  # nobody invited yet
        invitation = round_.invitations[0]
        invitation.ineligible = "left"
        db.session.commit()
        assert send_invitations(round_).sent == 2
        assert send_reminders(round_).sent == 0  # just invited: the gap holds reminders back
        invited_days_ago()
        assert send_reminders(round_).sent == 2


def test_reminder_failing_half_way_keeps_the_count_right(app, smtp):
    with app.app_context():
        round_ = partners_and_round()
        send_invitations(round_)
        invited_days_ago()
        smtp.fail_after = 4  # three invitations, then one reminder, then refusals
        first = send_reminders(round_)
        assert (first.sent, first.failed, first.interrupted) == (1, 1, True)
        db.session.expire_all()
        counts = sorted(invitation.reminder_count for invitation in round_.invitations)
        assert counts == [0, 0, 1]
        assert sum(invitation.last_reminded_at is not None for invitation in round_.invitations) == 1
        smtp.fail_after = None
        assert send_reminders(round_).sent == 2
        db.session.expire_all()
        assert sorted(invitation.reminder_count for invitation in round_.invitations) == [1, 1, 1]


def test_outbox_mode_writes_eml_files(app, tmp_path):
    app.config["SMTP_HOST"] = ""
    with app.app_context():
        round_ = partners_and_round()
        report = send_invitations(round_)
    assert report.sent == 3
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 3
    messages = [BytesParser(policy=policy.default).parsebytes(path.read_bytes()) for path in files]
    assert {message["To"].addresses[0].addr_spec for message in messages} == {
        "ama@labour.example.gh", "hery@travail.example.mg", "lucia@csa.example.org"}
    assert all(message.get_content_type() == "multipart/alternative" for message in messages)


def test_no_mail_for_a_draft_or_closed_round(app, tmp_path):
    app.config["SMTP_HOST"] = ""
    with app.app_context():
        version, _definition = import_survey(DEFAULT_SURVEY_FILE.read_bytes(), DEFAULT_SURVEY_FILE.name)
        organisation()
        draft = create_round(version, "Draft", datetime.now(UTC).date() + timedelta(days=5))
        db.session.commit()
        with pytest.raises(RoundNotOpen):
            send_invitations(draft)
        open_round(draft)
        close_round(draft)
        db.session.commit()
        with pytest.raises(RoundNotOpen):
            send_reminders(db.session.get(Round, draft.id))
    assert not (tmp_path / "outbox").exists()


def test_header_injection_in_a_contact_name_is_flattened(app):
    with app.app_context():
        version, _definition = import_survey(DEFAULT_SURVEY_FILE.read_bytes(), DEFAULT_SURVEY_FILE.name)
        organisation("Org", contacts=[("Eve\r\nBcc: victim@example.org", "eve@example.org", "en")])
        round_ = create_round(version, "R", datetime.now(UTC).date() + timedelta(days=5))
        invitation, = open_round(round_)
        db.session.commit()
        message = build_message(invitation, "invitation")
    assert message["Bcc"] is None
    assert message["To"].addresses[0].addr_spec == "eve@example.org"
    assert "\n" not in str(message["To"])


def test_two_runs_at_once_mail_each_contact_once(app, smtp):
    """A double click: two reminder runs in parallel share the work instead of mailing everyone twice."""
    import asyncio
    import threading

    original = smtp.handle_DATA

    async def slow_data(server, session, envelope):
        await asyncio.sleep(0.15)
        return await original(server, session, envelope)

    smtp.handle_DATA = slow_data
    with app.app_context():
        round_id = partners_and_round().id
        send_invitations(db.session.get(Round, round_id))
        invited_days_ago()
    smtp.messages.clear()
    reports = []

    def run():
        with app.app_context():
            reports.append(send_reminders(db.session.get(Round, round_id)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    recipients = sorted(rcpts[0] for rcpts, _message in smtp.messages)
    assert recipients == ["ama@labour.example.gh", "hery@travail.example.mg", "lucia@csa.example.org"]
    assert sum(report.sent for report in reports) == 3 and all(report.error is None for report in reports)
    with app.app_context():
        assert [inv.reminder_count for inv in db.session.scalars(db.select(Invitation))] == [1, 1, 1]
