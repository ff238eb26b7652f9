"""The responses of a round: the list (filters, search, sort, pages), one partner's answers, and the admin actions."""

from datetime import UTC, datetime, timedelta

import pytest

from engagement.extensions import db
from engagement.models import AuditEntry
from surveys.invitations import token_for
from surveys.models import Invitation, Response
from surveys.responses import PAGE_SIZE
from tests import factories

SURVEY = [
    {"type": "begin_group", "name": "first", "label": "First page", "appearance": "field-list"},
    {"type": "text", "name": "why", "label": "Why do you work with the Alliance?"},
    {"type": "end_group", "name": "first"},
    {"type": "begin_group", "name": "second", "label": "Second page", "appearance": "field-list"},
    {"type": "text", "name": "more", "label": "Anything else?"},
    {"type": "end_group", "name": "second"},
]
EVIL = "<script>alert(1)</script> Partners"


def add_response(invitation: Invitation, status: str, answers: dict, hours_ago: int = 1) -> Response:
    moment = datetime.now(UTC) - timedelta(hours=hours_ago)
    return factories.stored_response(invitation, answers, status=status, language="en", updated_at=moment,
                                     submitted_at=moment if status == "submitted" else None)


@pytest.fixture
def round_of_three(app):
    """Ghana (submitted), Madagascar (in progress, one page of two), Brazil's workers (not opened)."""
    with app.app_context():
        version = factories.survey_from_rows(SURVEY)
        factories.organisation("Ministry of Labour of Ghana", contacts=[("Ama Mensah", "ama@example.gh", "en")])
        factories.organisation("Ministère du Travail de Madagascar", country="MG",
                               contacts=[("Hery Rakoto", "hery@example.mg", "fr")])
        factories.organisation(EVIL, category="workers", country="BR", region="americas", pathfinder=False,
                               contacts=[("Lucía Fernández", "lucia@example.org", "es")])
        round_, tokens = factories.open_round_for(version, name="2026 review")
        by_email = {inv.contact.email: inv for inv in round_.invitations}
        add_response(by_email["ama@example.gh"], "submitted", {"why": "Supply chains", "more": "Thanks"}, 3)
        add_response(by_email["hery@example.mg"], "in_progress", {"why": "Migration"}, 1)
        by_email["lucia@example.org"].reminder_count = 2
        db.session.commit()
        return {"round": round_.id, "tokens": tokens,
                "ids": {email: invitation.id for email, invitation in by_email.items()}}


def list_url(data, **query):
    from urllib.parse import urlencode

    return f"/secretariat/rounds/{data['round']}/responses" + (f"?{urlencode(query)}" if query else "")


def detail_url(data, email, action=""):
    return f"/secretariat/rounds/{data['round']}/responses/{data['ids'][email]}" + (f"/{action}" if action else "")


def audit(app, action):
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEntry).filter_by(action=action)))


# --- The list ---------------------------------------------------------------------------------------------------

def test_the_list_shows_every_invitation_with_its_status_and_progress(analyst, round_of_three):
    page = analyst.get(list_url(round_of_three))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and "3 invitations" in html
    assert "Ministry of Labour of Ghana" in html and "Submitted" in html
    assert "In progress" in html and "1 of 2 pages done" in html
    assert "Not opened" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and EVIL not in html
    assert "Ama Mensah" in html and "ama@example.gh" in html and "Français" in html


def test_filters_search_and_the_htmx_fragment(analyst, round_of_three):
    submitted = analyst.get(list_url(round_of_three, status="submitted")).get_data(as_text=True)
    assert "Ghana" in submitted and "Madagascar" not in submitted and "Partners" not in submitted.split("<main")[1]
    workers = analyst.get(list_url(round_of_three, category="workers")).get_data(as_text=True)
    assert "Lucía" in workers and "Ama Mensah" not in workers
    americas = analyst.get(list_url(round_of_three, region="americas", pathfinder="no")).get_data(as_text=True)
    assert "1 invitation" in americas and "Lucía" in americas
    fragment = analyst.get(list_url(round_of_three, q="rakoto"), headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and "<form" not in body
    assert "Hery Rakoto" in body and "Ama Mensah" not in body and "1 invitation" in body
    assert "HX-Request" in fragment.headers["Vary"]
    assert fragment.headers["HX-Push-Url"] == list_url(round_of_three, q="rakoto")
    nobody = analyst.get(list_url(round_of_three, q="100%_")).get_data(as_text=True)
    assert "No invitation matches." in nobody


def test_unknown_filter_values_are_ignored_rather_than_failing(analyst, round_of_three):
    page = analyst.get(list_url(round_of_three, status="lost", category="martians", sort="drop table", page="x"))
    assert page.status_code == 200 and "3 invitations" in page.get_data(as_text=True)


def test_columns_sort_both_ways(analyst, round_of_three):
    def order(**query):
        html = analyst.get(list_url(round_of_three, **query)).get_data(as_text=True)
        names = ["Ghana", "Madagascar", "Partners</a></th>"]
        return sorted(names, key=html.index)

    assert order() == ["Partners</a></th>", "Ghana", "Madagascar"]  # "<script>..." sorts first by name
    assert order(sort="status") == ["Partners</a></th>", "Madagascar", "Ghana"]
    assert order(sort="status", order="desc") == ["Ghana", "Madagascar", "Partners</a></th>"]
    assert order(sort="reminders", order="desc")[0] == "Partners</a></th>"
    assert order(sort="activity", order="desc")[:2] == ["Madagascar", "Ghana"]
    html = analyst.get(list_url(round_of_three, sort="status")).get_data(as_text=True)
    assert 'aria-sort="ascending"' in html and "sort=status&amp;order=desc" in html


def test_pages_without_javascript(app, analyst):
    with app.app_context():
        version = factories.survey_from_rows(SURVEY)
        for number in range(PAGE_SIZE + 3):
            factories.organisation(f"Organisation {number:03d}", contacts=[(f"C{number}", f"c{number}@x.org", "en")])
        round_, _tokens = factories.open_round_for(version)
        round_id = round_.id
    first = analyst.get(f"/secretariat/rounds/{round_id}/responses").get_data(as_text=True)
    assert "Organisation 000" in first and "Organisation 052" not in first and 'rel="next"' in first
    second = analyst.get(f"/secretariat/rounds/{round_id}/responses?page=2").get_data(as_text=True)
    assert "Organisation 052" in second and "Organisation 000" not in second and 'rel="prev"' in second
    assert analyst.get(f"/secretariat/rounds/{round_id}/responses?page=9").status_code == 404
    assert analyst.get("/secretariat/rounds/999/responses").status_code == 404


# --- One partner's answers --------------------------------------------------------------------------------------

def test_the_detail_shows_the_answers_as_the_review_does_and_can_be_printed(analyst, round_of_three):
    page = analyst.get(detail_url(round_of_three, "ama@example.gh"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Why do you work with the Alliance?" in html and "Supply chains" in html and "Thanks" in html
    assert "First page" in html and "Second page" in html
    assert "js/print.js" in html and "data-print" in html and "<script>" not in html.split("</head>")[1]
    assert "edit-link" not in html  # no links to change answers
    assert "Reopen the answers" not in html  # analysts change nothing


def test_the_detail_is_in_the_staff_language(analyst, round_of_three):
    analyst.client.set_cookie("language", "fr")
    page = analyst.get(detail_url(round_of_three, "hery@example.mg"), headers={"Accept-Language": "fr"})
    html = page.get_data(as_text=True)
    assert "Dernière activité" in html and "En cours" in html and "Toutes les réponses du cycle" in html
    assert "Migration" in html


def test_an_invitation_of_another_round_is_not_found(analyst, round_of_three):
    url = f"/secretariat/rounds/{round_of_three['round'] + 1}/responses/{round_of_three['ids']['ama@example.gh']}"
    assert analyst.get(url).status_code == 404


def test_analysts_cannot_act(app, analyst, round_of_three):
    for action in ("reopen", "resend", "replace-link", "not-eligible"):
        url = detail_url(round_of_three, "ama@example.gh", action)
        assert analyst.post(url, {"reason": "asked"}).status_code == 403
        assert analyst.post(url, {"reason": "asked"}, htmx=True).status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(Response.status).where(Response.invitation_id == round_of_three["ids"][
            "ama@example.gh"])) == "submitted"


# --- Actions ----------------------------------------------------------------------------------------------------

def test_reopening_asks_for_a_reason_and_changes_nothing_without_one(app, admin, round_of_three, smtp):
    url = detail_url(round_of_three, "ama@example.gh", "reopen")
    page = admin.post(url, {"reason": "   "})
    assert page.status_code == 422
    assert "Give a reason" in page.get_data(as_text=True) and "<html" in page.get_data(as_text=True)
    fragment = admin.post(url, {"reason": ""}, htmx=True)
    assert fragment.status_code == 422 and "<html" not in fragment.get_data(as_text=True)
    assert "Give a reason" in fragment.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(Response.status).where(
            Response.invitation_id == round_of_three["ids"]["ama@example.gh"])) == "submitted"
    assert audit(app, "response.reopen") == [] and smtp.messages == []


def test_reopening_lets_the_partner_change_and_submit_again_and_tells_them(app, admin, client, round_of_three,
                                                                            smtp):
    url = detail_url(round_of_three, "ama@example.gh", "reopen")
    done = admin.post(url, {"reason": "Pressed submit too early"})
    assert done.status_code == 303 and done.headers["Location"].endswith(detail_url(round_of_three, "ama@example.gh"))
    assert "Answers reopened" in admin.get(done.headers["Location"]).get_data(as_text=True)
    entry, = audit(app, "response.reopen")
    assert entry.details["reason"] == "Pressed submit too early" and entry.details["contact"] == "Ama Mensah"
    message, = smtp.to("ama@example.gh")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    token = round_of_three["tokens"]["ama@example.gh"]
    assert f"/s/{token}" in text and f"/s/{token}" in html and "Ministry of Labour of Ghana" in text
    # The partner can change an answer and submit again.
    review = client.get(f"/s/{token}/review")
    assert review.status_code == 200 and "Supply chains" in review.get_data(as_text=True)
    assert client.post(f"/s/{token}/submit").status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Response.status).where(
            Response.invitation_id == round_of_three["ids"]["ama@example.gh"])) == "submitted"


def test_reopening_in_french_mails_in_french_and_escapes_names(app, admin, round_of_three, smtp):
    with app.app_context():
        invitation = db.session.get(Invitation, round_of_three["ids"]["lucia@example.org"])
        invitation.contact.language = "fr"
        add_response(invitation, "submitted", {"why": "x"})
    fragment = admin.post(detail_url(round_of_three, "lucia@example.org", "reopen"), {"reason": "Demande"},
                          htmx=True)
    assert fragment.status_code == 200 and "Answers reopened" in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True) and fragment.headers["HX-Trigger"] == "response-changed"
    message, = smtp.to("lucia@example.org")
    assert message["Subject"].startswith("Vous pouvez à nouveau modifier vos réponses")
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_only_submitted_answers_of_an_open_round_are_reopened(app, admin, round_of_three, smtp):
    page = admin.post(detail_url(round_of_three, "hery@example.mg", "reopen"), {"reason": "why not"})
    assert page.status_code == 422 and "Only submitted answers" in page.get_data(as_text=True)
    assert audit(app, "response.reopen") == []


def test_resending_the_link_mails_the_same_link(app, admin, round_of_three, smtp):
    response = admin.post(detail_url(round_of_three, "hery@example.mg", "resend"), {"reason": "Lost the mail"},
                          htmx=True)
    assert response.status_code == 200 and "sent again" in response.get_data(as_text=True)
    message, = smtp.to("hery@example.mg")
    assert round_of_three["tokens"]["hery@example.mg"] in message.get_body(preferencelist=("plain",)).get_content()
    assert audit(app, "invitation.resend")[0].details["reason"] == "Lost the mail"


def test_replacing_a_lost_link_stops_the_old_one_at_once(app, admin, client, round_of_three, smtp):
    old = round_of_three["tokens"]["hery@example.mg"]
    assert client.get(f"/s/{old}").status_code == 200
    assert admin.post(detail_url(round_of_three, "hery@example.mg", "replace-link"), {"reason": ""}).status_code == 422
    assert client.get(f"/s/{old}").status_code == 200
    done = admin.post(detail_url(round_of_three, "hery@example.mg", "replace-link"), {"reason": "Forwarded"})
    assert done.status_code == 303
    assert client.get(f"/s/{old}").status_code == 404
    with app.app_context():
        new = token_for(db.session.get(Invitation, round_of_three["ids"]["hery@example.mg"]))
    assert new != old and client.get(f"/s/{new}").status_code in (200, 303)
    message, = smtp.to("hery@example.mg")
    assert new in message.get_body(preferencelist=("plain",)).get_content()
    assert audit(app, "invitation.replace_link")[0].details["reason"] == "Forwarded"


def test_marking_not_eligible_leaves_the_invitation_out(app, admin, round_of_three):
    url = detail_url(round_of_three, "lucia@example.org", "not-eligible")
    assert admin.post(url, {"reason": ""}, htmx=True).status_code == 422
    with app.app_context():
        assert db.session.get(Invitation, round_of_three["ids"]["lucia@example.org"]).ineligible is None
    assert admin.post(url, {"reason": "Left the organisation"}).status_code == 303
    with app.app_context():
        assert db.session.get(Invitation, round_of_three["ids"]["lucia@example.org"]).ineligible
    listed = admin.get(list_url(round_of_three, status="not_eligible")).get_data(as_text=True)
    assert "Lucía" in listed and "1 invitation" in listed
    again = admin.post(url, {"reason": "again"})
    assert again.status_code == 422 and "already marked" in again.get_data(as_text=True)
    assert len(audit(app, "invitation.not_eligible")) == 1


def test_a_mail_server_down_keeps_the_change_and_says_the_mail_did_not_go(app, admin, round_of_three, smtp):
    smtp.controller.stop()
    response = admin.post(detail_url(round_of_three, "ama@example.gh", "reopen"), {"reason": "Asked"}, htmx=True)
    assert response.status_code == 200 and "could not be sent" in response.get_data(as_text=True)
    assert len(audit(app, "response.reopen")) == 1


def test_a_closed_round_reopens_no_answers_and_mails_no_link(app, admin, round_of_three, smtp):
    from surveys.models import Round
    from surveys.rounds import close_round

    with app.app_context():
        close_round(db.session.get(Round, round_of_three["round"]))
        db.session.commit()
    page = admin.get(detail_url(round_of_three, "ama@example.gh")).get_data(as_text=True)
    assert "Reopen the answers" not in page and "Resend the link" not in page and "Replace a lost link" in page
    for action in ("reopen", "resend"):
        refused = admin.post(detail_url(round_of_three, "ama@example.gh", action), {"reason": "asked"})
        assert refused.status_code == 422 and "only while the round is open" in refused.get_data(as_text=True)
    assert smtp.messages == [] and audit(app, "response.reopen") == [] and audit(app, "invitation.resend") == []


def test_the_audit_log_says_who_did_what_to_whom(app, admin, round_of_three, smtp):
    admin.post(detail_url(round_of_three, "ama@example.gh", "reopen"), {"reason": "Pressed submit too early"})
    log = admin.get("/secretariat/audit").get_data(as_text=True)
    assert "Reopened the submitted answers of Ama Mensah (Ministry of Labour of Ghana) in 2026 review" in log
    assert "Pressed submit too early" in log


def test_the_facts_follow_an_action_made_with_htmx(admin, round_of_three, smtp):
    fragment = admin.post(detail_url(round_of_three, "ama@example.gh", "reopen"), {"reason": "asked"}, htmx=True)
    body = fragment.get_data(as_text=True)
    assert "In progress" in body and "Submitted</dt>" not in body and "Reopen the answers" not in body
