"""Reopening a closed round with a new closing date: admins only, with a reason; links work again, receipts stay."""

from datetime import UTC, date, datetime, timedelta

import pytest

from engagement.extensions import db
from engagement.models import AuditEntry
from surveys.models import Response, Round
from surveys.rounds import RoundError, close_round, reopen_round
from tests import factories

SURVEY = [{"type": "text", "name": "why", "label": "Why?"}]


@pytest.fixture
def closed_round(app):
    """A closed round of two partners: Ama submitted, Kofi never answered."""
    with app.app_context():
        version = factories.survey_from_rows(SURVEY)
        factories.organisation(contacts=[("Ama", "ama@example.org", "en")])
        factories.organisation("Workers Union", category="workers", contacts=[("Kofi", "kofi@example.org", "en")])
        round_, tokens = factories.open_round_for(version)
        ama = next(inv for inv in round_.invitations if inv.contact.email == "ama@example.org")
        now = datetime.now(UTC)
        db.session.add(Response(invitation_id=ama.id, status="submitted", submitted_at=now, updated_at=now))
        db.session.commit()
        close_round(round_)
        db.session.commit()
        return {"round": round_.id, "ama": tokens["ama@example.org"], "kofi": tokens["kofi@example.org"]}


def later(days=14) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def test_reopening_brings_links_back_and_keeps_receipts(app, admin, client, closed_round):
    assert client.get(f"/s/{closed_round['kofi']}").status_code == 410
    url = f"/secretariat/rounds/{closed_round['round']}/reopen"
    done = admin.post(url, {"closes_on": later(), "reason": "Partners asked for another week"})
    assert done.status_code == 303
    assert "Round reopened until" in admin.get(done.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        round_ = db.session.get(Round, closed_round["round"])
        assert round_.status == "open" and round_.closes_on.isoformat() == later() and round_.closed_at is None
        entry, = db.session.scalars(db.select(AuditEntry).filter_by(action="round.reopen"))
        assert entry.details["reason"] == "Partners asked for another week"
        assert db.session.scalar(db.select(Response.status)) == "submitted"
    assert client.get(f"/s/{closed_round['kofi']}").status_code == 200
    receipt = client.get(f"/s/{closed_round['ama']}")
    assert receipt.status_code == 303 and receipt.headers["Location"].endswith("/receipt")


@pytest.mark.parametrize("form, message", [
    ({"closes_on": "", "reason": "x"}, "as a date"),
    ({"closes_on": "2020-01-01", "reason": "x"}, "in the past"),
    ({"closes_on": "LATER", "reason": "   "}, "Give a reason"),
])
def test_bad_input_is_refused_and_changes_nothing(app, admin, closed_round, form, message):
    form = {key: later() if value == "LATER" else value for key, value in form.items()}
    done = admin.post(f"/secretariat/rounds/{closed_round['round']}/reopen", form, htmx=True)
    assert done.status_code == 204 and done.headers["HX-Redirect"].endswith(f"/rounds/{closed_round['round']}")
    assert message in admin.get(done.headers["HX-Redirect"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Round, closed_round["round"]).status == "closed"
        assert db.session.scalars(db.select(AuditEntry).filter_by(action="round.reopen")).all() == []


def test_only_a_closed_round_is_reopened(app, closed_round):
    with app.app_context():
        round_ = db.session.get(Round, closed_round["round"])
        reopen_round(round_, date.today() + timedelta(days=3), "again")
        with pytest.raises(RoundError, match="not_closed"):
            reopen_round(round_, date.today() + timedelta(days=3), "again")
        db.session.rollback()


def test_an_analyst_cannot_reopen(app, analyst, closed_round):
    assert analyst.post(f"/secretariat/rounds/{closed_round['round']}/reopen",
                        {"closes_on": later(), "reason": "x"}).status_code == 403
    with app.app_context():
        assert db.session.get(Round, closed_round["round"]).status == "closed"


def test_the_closed_round_page_offers_reopening_to_admins_only(admin, analyst, closed_round):
    url = f"/secretariat/rounds/{closed_round['round']}"
    assert "Reopen the round" in admin.get(url).get_data(as_text=True)
    assert "Reopen the round" not in analyst.get(url).get_data(as_text=True)
