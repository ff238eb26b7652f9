"""The responses of a round in a real browser: axe on the list and the detail (desktop and phone), active search
and an action with htmx, the same action without JavaScript, and the Print button under the page's CSP."""

import re

import pytest
from playwright.sync_api import expect

from engagement.extensions import db
from partners.models import Contact, Organisation
from surveys.models import Invitation, Response, Round
from surveys.rounds import close_round
from surveys.versions import definition_for
from synthetic.responses import fill_round
from tests.browser.test_accessibility import WIDTHS, assert_none, check, context_at  # noqa: F401
from tests.browser_support import sign_in

pytestmark = pytest.mark.browser
GHANA = "Ministry of Labour of Ghana"


def submitted_ghana(app) -> tuple[int, int]:
    """The demo round with answers, Ghana's submitted: (round id, Ghana's invitation id)."""
    with app.app_context():
        round_ = db.session.scalar(db.select(Round))
        fill_round(round_.id, definition_for(round_.survey_version), 20)
        invitation = db.session.scalar(db.select(Invitation).join(Contact).join(Organisation)
                                       .where(Organisation.name == GHANA))
        if invitation.response is None:
            db.session.add(Response(invitation_id=invitation.id, status="submitted"))
        else:
            invitation.response.status = "submitted"
            invitation.response.submitted_at = invitation.response.updated_at
        db.session.commit()
        return round_.id, invitation.id


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_nothing_on_the_list_and_the_detail(app, live_server, demo_links, context_at, width):  # noqa: F811
    round_id, invitation_id = submitted_ghana(app)
    page = context_at(width)
    sign_in(page, live_server, "admin")
    problems = {}
    base = f"{live_server}/secretariat/rounds/{round_id}/responses"
    for url in (base, f"{base}?status=submitted&sort=status&order=desc", f"{base}/{invitation_id}"):
        check(page, url, problems, 200)

    def empty_reason(page):
        """an action sent without a reason"""
        page.get_by_text("Reopen the answers", exact=True).first.click()
        page.locator("#reason-reopen").evaluate("element => element.removeAttribute('required')")
        page.get_by_role("button", name="Reopen the answers").click()
        page.get_by_text("Give a reason").wait_for()

    check(page, f"{base}/{invitation_id}", problems, 200, then=empty_reason)
    with app.app_context():
        close_round(db.session.get(Round, round_id))
        db.session.commit()
    check(page, f"{live_server}/secretariat/rounds/{round_id}", problems, 200)  # the form that reopens it
    assert_none(problems, width)


def test_search_and_reopen_with_htmx_and_print_button(app, js_page, live_server, demo_links):
    round_id, _invitation_id = submitted_ghana(app)
    sign_in(js_page, live_server, "admin")
    js_page.goto(f"{live_server}/secretariat/rounds/{round_id}/responses")
    js_page.get_by_label("Search").fill("ghana")
    expect(js_page.locator(".result-count")).to_have_text("1 invitation")
    expect(js_page).to_have_url(re.compile(r"q=ghana"))
    js_page.get_by_role("link", name=GHANA).click()
    expect(js_page.get_by_role("button", name="Print")).to_be_visible()
    js_page.get_by_text("Reopen the answers", exact=True).first.click()
    js_page.locator("#reason-reopen").fill("Pressed submit too early")
    js_page.get_by_role("button", name="Reopen the answers").click()
    expect(js_page.locator("#response-actions")).to_contain_text("Answers reopened")
    expect(js_page.locator("#response-actions")).to_contain_text("In progress")
    assert js_page.csp.violations == []


def test_without_javascript_the_action_posts_and_redirects(app, nojs_page, live_server, demo_links):
    round_id, invitation_id = submitted_ghana(app)
    sign_in(nojs_page, live_server, "admin")
    detail = f"{live_server}/secretariat/rounds/{round_id}/responses/{invitation_id}"
    nojs_page.goto(detail)
    expect(nojs_page.get_by_role("button", name="Print")).to_be_hidden()
    nojs_page.get_by_text("Mark as not eligible", exact=True).first.click()
    nojs_page.locator("#reason-not_eligible").fill("Duplicate of another contact")
    nojs_page.get_by_role("button", name="Mark as not eligible").click()
    expect(nojs_page).to_have_url(detail)
    expect(nojs_page.locator(".flash")).to_contain_text("Marked as not eligible")
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).ineligible


def test_reopening_a_closed_round_from_its_page(app, nojs_page, live_server, demo_links):
    with app.app_context():
        round_ = db.session.scalar(db.select(Round))
        close_round(round_)
        db.session.commit()
        round_id = round_.id
    sign_in(nojs_page, live_server, "admin")
    nojs_page.goto(f"{live_server}/secretariat/rounds/{round_id}")
    nojs_page.get_by_label("New closing date").fill("2099-12-31")
    nojs_page.get_by_label("Reason").fill("Partners asked for another week")
    nojs_page.get_by_role("button", name="Reopen the round").click()
    expect(nojs_page.locator(".flash")).to_contain_text("Round reopened until 2099-12-31")
    page = nojs_page.context.new_page()
    page.goto(demo_links[GHANA])
    expect(page.get_by_role("button", name=re.compile("survey"))).to_be_visible()
