"""The rounds overview and a round's dashboard: full pages, the polled fragment, filters, roles and remind buttons."""

import csv
import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from engagement.extensions import db
from engagement.models import User
from partners.models import Organisation
from surveys.models import Invitation, Response, Round
from surveys.rounds import close_round
from tests.analysis.test_monitoring import open_round_with_partners, respond
from tests.conftest import ADMIN, HtmxClient
from tests.sending import confirm_and_send


@pytest.fixture
def setup(app):
    """Six partners (8 contacts), an open round whose invitations were mailed 4 days ago; tokens by email."""
    with app.app_context():
        round_, tokens = open_round_with_partners()
        for invitation in round_.invitations:
            invitation.invited_at = datetime.now(UTC) - timedelta(days=4)
        db.session.commit()
        return {"round_id": round_.id, "tokens": tokens}


def dashboard_url(setup, **query):
    text = "&".join(f"{key}={value}" for key, value in query.items())
    return f"/secretariat/rounds/{setup['round_id']}/dashboard" + (f"?{text}" if text else "")


def figures(html: str) -> dict:
    """The headline numbers as the page shows them."""
    found = dict(re.findall(r'<dd id="figure-([a-z-]+)">([^<]*)</dd>', html))
    return {key: (value if key == "rate" else int(value)) for key, value in found.items()}


def answer_through_partner_pages(app, token: str, submit: bool):
    """What a partner does: open the link, start, and (optionally) submit from the review page."""
    partner = HtmxClient(app.test_client())
    partner.get(f"/s/{token}")
    assert partner.post(f"/s/{token}/start").status_code == 303
    if submit:
        partner.get(f"/s/{token}/review")
        assert partner.post(f"/s/{token}/submit").headers["Location"].endswith("/receipt")


def test_full_page_shows_numbers_filters_chart_and_non_respondents(app, setup, admin):
    tokens = sorted(setup["tokens"].values())
    answer_through_partner_pages(app, tokens[0], submit=True)
    answer_through_partner_pages(app, tokens[1], submit=False)
    page = admin.get(dashboard_url(setup))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "HX-Request" in page.headers["Vary"]
    assert html.startswith("<!doctype html>")
    assert figures(html) == {"invited": 8, "not-started": 6, "started": 1, "submitted": 1, "eligible": 8,
                             "rate": "12%"}
    assert '<form method="get"' in html and 'name="category"' in html
    assert "By partner category" in html and "Government of a Pathfinder Country" in html
    assert "By Action Group" in html and "Rule of Law and Governance" in html and "No Action Group" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and "Submitted responses by day" in html
    assert "Not yet submitted (7)" in html
    # The polled block points at the same URL and lives after (outside) the filter form.
    assert f'hx-get="{dashboard_url(setup)}"' in html and 'hx-trigger="every 15s"' in html
    assert html.index("</form>") < html.index('id="monitor"')


def test_numbers_move_after_partners_answer(app, setup, admin):
    before = figures(admin.get(dashboard_url(setup)).get_data(as_text=True))
    token = sorted(setup["tokens"].values())[2]
    answer_through_partner_pages(app, token, submit=False)
    middle = figures(admin.get(dashboard_url(setup), headers={"HX-Request": "true"}).get_data(as_text=True))
    answer_through_partner_pages(app, token, submit=True)
    after = figures(admin.get(dashboard_url(setup), headers={"HX-Request": "true"}).get_data(as_text=True))
    assert (before["started"], before["submitted"]) == (0, 0)
    assert (middle["started"], middle["submitted"]) == (1, 0)
    assert (after["started"], after["submitted"], after["not-started"]) == (0, 1, 7)


def test_htmx_poll_returns_only_the_block_and_keeps_the_filters(app, setup, admin):
    url = dashboard_url(setup, region="africa", pathfinder="yes")
    fragment = admin.get(url, headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "HX-Request" in fragment.headers["Vary"]
    assert html.lstrip().startswith('<div id="monitor"')
    assert "<html" not in html and 'name="category"' not in html and "<nav" not in html
    assert 'hx-get="/secretariat/rounds/{}/dashboard?region=africa&amp;pathfinder=yes"'.format(setup["round_id"]) in html
    assert figures(html)["invited"] == 3  # Ghana's two contacts and Madagascar's one
    # A history restore wants the whole page, not the block.
    restore = admin.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert restore.get_data(as_text=True).startswith("<!doctype html>")


def test_filters_are_kept_in_the_form(app, setup, admin):
    html = admin.get(dashboard_url(setup, category="workers", action_group="migration")).get_data(as_text=True)
    assert re.search(r'<option selected value="workers">|<option value="workers" selected>', html)
    assert re.search(r'<option selected value="migration">|<option value="migration" selected>', html)
    assert figures(html)["invited"] == 1
    assert "Clear filters" in html


def test_an_unknown_filter_value_is_refused_clearly_and_not_applied(app, setup, admin):
    page = admin.get(dashboard_url(setup, category="spaceships", region="africa"))
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "Some filters were not applied" in html and "Partner category" in html
    assert figures(html)["invited"] == 3  # the region still narrows; the unknown category does not
    assert "spaceships" not in html.split('id="monitor"')[1]


def test_dashboard_counts_equal_the_invitations_export(app, setup, admin):
    tokens = sorted(setup["tokens"].values())
    for token in tokens[:3]:
        answer_through_partner_pages(app, token, submit=True)
    for token in tokens[3:5]:
        answer_through_partner_pages(app, token, submit=False)
    with app.app_context():
        last = db.session.scalars(db.select(Invitation).order_by(Invitation.id.desc())).first()
        if last.response is None:
            respond(last, "submitted", datetime.now(UTC).date())  # written straight to the database
        db.session.commit()
        categories = dict(db.session.execute(db.select(Organisation.name, Organisation.category)).all())
    export = admin.get(f"/secretariat/rounds/{setup['round_id']}/invitations.csv")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.get_data().decode("utf-8-sig"))))
    exported = Counter(row["status"] for row in rows)
    shown = figures(admin.get(dashboard_url(setup)).get_data(as_text=True))
    assert shown["invited"] == len(rows)
    assert (shown["not-started"], shown["started"], shown["submitted"]) == (
        exported["invited"], exported["started"], exported["submitted"])
    assert exported["submitted"] >= 3 and exported["started"] >= 1
    # And for one category, through the filter.
    governments = [row for row in rows if categories[row["organisation"]] == "government_pathfinder"]
    filtered = figures(admin.get(dashboard_url(setup, category="government_pathfinder")).get_data(as_text=True))
    assert filtered["invited"] == len(governments) == 3
    assert filtered["submitted"] == sum(1 for row in governments if row["status"] == "submitted")
    assert filtered["started"] == sum(1 for row in governments if row["status"] == "started")


def test_ineligible_invitations_leave_the_base_of_the_rate(app, setup, admin):
    with app.app_context():
        invitation = db.session.scalars(db.select(Invitation).order_by(Invitation.id)).first()
        invitation.ineligible = "bounced"
        db.session.commit()
    html = admin.get(dashboard_url(setup)).get_data(as_text=True)
    assert figures(html)["eligible"] == 7
    assert "less 1 marked ineligible" in html
    assert "Not yet submitted (7)" in html


def test_rounds_overview_lists_rounds_with_links_to_dashboards(app, setup, admin):
    answer_through_partner_pages(app, min(setup["tokens"].values()), submit=True)
    page = admin.get("/secretariat/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    assert f'href="{dashboard_url(setup)}"' in html
    assert "Test round" in html and "Test form" in html and "Open" in html
    row = html.split("Test round", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["8", "0", "1", "12%"]


def test_rounds_overview_without_rounds(admin):
    assert "No rounds yet." in admin.get("/secretariat/").get_data(as_text=True)


def test_unknown_round_is_404(app, setup, admin):
    assert admin.get("/secretariat/rounds/999/dashboard").status_code == 404


def test_closed_round_does_not_poll_and_offers_no_reminders(app, setup, admin):
    with app.app_context():
        close_round(db.session.get(Round, setup["round_id"]))
        db.session.commit()
    html = admin.get(dashboard_url(setup)).get_data(as_text=True)
    assert "hx-trigger" not in html.split('id="monitor"')[1].split(">")[0]
    assert "/remind" not in html
    assert "Not yet submitted (8)" in html


def test_analyst_reads_the_dashboard_without_buttons_and_cannot_post(app, setup, analyst):
    page = analyst.get(dashboard_url(setup))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert figures(html)["invited"] == 8 and "/remind" not in html
    refused = analyst.post(f"/secretariat/rounds/{setup['round_id']}/remind")
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.sum(Invitation.reminder_count))) == 0


@pytest.mark.parametrize("path", ["/secretariat/", "/secretariat/rounds/1/dashboard?region=africa"])
def test_anonymous_is_sent_to_sign_in(app, setup, client, path):
    page = client.get(path)
    assert page.status_code in (302, 303) and "/sign-in" in page.headers["Location"]
    fragment = client.get(path, headers={"HX-Request": "true"})
    assert "/sign-in" in fragment.headers["HX-Redirect"]
    assert fragment.get_data(as_text=True) == ""


def test_poll_from_an_expired_session_redirects_the_whole_page(app, setup, admin):
    assert admin.get(dashboard_url(setup), headers={"HX-Request": "true"}).status_code == 200
    with app.app_context():
        account = db.session.scalar(db.select(User).filter_by(email=ADMIN[0]))
        account.session_nonce = "signed-out-elsewhere"  # what a sign-out in another tab does to this session
        db.session.commit()
    poll = admin.get(dashboard_url(setup, region="africa"), headers={"HX-Request": "true"})
    assert poll.status_code == 204
    assert poll.headers["HX-Redirect"].startswith("/sign-in")
    assert 'id="monitor"' not in poll.get_data(as_text=True)


def remind_forms(html: str) -> list[tuple[str, list[str], str]]:
    """(action, invitation ids, button id) of every form posting to the remind route."""
    forms = []
    for match in re.finditer(r'<form method="post" action="([^"]+/remind)"[^>]*>(.*?)</form>', html, re.DOTALL):
        ids = re.findall(r'name="invitation_id" value="(\d+)"', match.group(2))
        button = re.search(r'<button[^>]*id="([^"]+)"', match.group(2)).group(1)
        forms.append((match.group(1), ids, button))
    return forms


def test_remind_buttons_post_the_listed_invitations(app, setup, admin):
    answer_through_partner_pages(app, min(setup["tokens"].values()), submit=True)
    with app.app_context():
        # the last invitation that has not submitted (the submitted one is any of them: tokens are random)
        never_mailed = db.session.scalars(
            db.select(Invitation).outerjoin(Response).where(Response.id.is_(None)).order_by(Invitation.id.desc())
        ).first()
        never_mailed.invited_at = None
        db.session.commit()
        never_mailed_id = str(never_mailed.id)
    html = admin.get(dashboard_url(setup)).get_data(as_text=True)
    forms = remind_forms(html)
    everyone, *one_by_one = forms
    assert everyone[2] == "remind-all" and len(everyone[1]) == 6
    assert never_mailed_id not in everyone[1] and "Invitation not mailed yet" in html
    assert all(len(ids) == 1 and button == f"remind-{ids[0]}" for _action, ids, button in one_by_one)
    assert len(one_by_one) == 6
    assert {action for action, _ids, _button in forms} == {f"/secretariat/rounds/{setup['round_id']}/remind"}
    assert 'name="csrf_token"' in html.split('id="monitor"')[1]

    action, ids, _button = one_by_one[0]
    asked = admin.post(action, [("invitation_id", ids[0])])  # the dashboard's button leads to the confirmation
    assert asked.status_code == 303 and asked.headers["Location"] == f"{action}?invitation_id={ids[0]}"
    sent = confirm_and_send(admin, action, [("invitation_id", ids[0])])
    assert sent.status_code == 303
    with app.app_context():
        reminded = db.session.get(Invitation, int(ids[0]))
        assert reminded.reminder_count == 1
        email = reminded.contact.email
    after = admin.get(dashboard_url(setup)).get_data(as_text=True)
    row = after.split(email)[-1].split("</tr>")[0]
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["1"]
    assert "Never" not in row and "Reminded recently" in row and f'id="remind-{ids[0]}"' not in after
    everyone_now = remind_forms(after)[0]
    assert everyone_now[2] == "remind-all" and ids[0] not in everyone_now[1] and len(everyone_now[1]) == 5
    assert "mailed in the last 3 days, are left out" in after


def test_remind_all_of_a_filtered_list_reminds_only_those_shown(app, setup, admin):
    html = admin.get(dashboard_url(setup, region="africa")).get_data(as_text=True)
    action, ids, button = remind_forms(html)[0]
    assert button == "remind-all" and len(ids) == 3
    assert confirm_and_send(admin, action, [("invitation_id", value) for value in ids]).status_code == 303
    with app.app_context():
        reminded = db.session.scalars(db.select(Invitation.id).where(Invitation.reminder_count == 1)).all()
    assert sorted(map(str, reminded)) == sorted(ids)
