"""The whole default survey answered in Chromium, with JavaScript and without, on a desktop and a phone."""

import re

import pytest
from playwright.sync_api import expect

from engagement.extensions import db
from surveys.models import Response
from tests.browser.survey_driver import answer_visible_questions, wait_until_saved
from tests.factories import stored_answers

pytestmark = pytest.mark.browser

GHANA = "Ministry of Labour of Ghana"


def test_javascript_autosave_reload_live_relevance_french_and_submit(app, js_page, demo_links):
    page = js_page
    page.goto(demo_links[GHANA])
    expect(page.get_by_role("heading", level=1)).to_contain_text("Alliance 8.7")
    page.get_by_role("button", name="Start the survey").click()
    expect(page).to_have_url(re.compile(r"/page/profile$"))

    # Autosave: a tick is saved without pressing any button.
    page.get_by_label("Member of the Global Coordinating Group (GCG)", exact=False).first.check()
    expect(page.locator("#feedback-roles")).to_contain_text("Saved")
    expect(page.locator("#save-state")).to_contain_text("All answers saved")
    assert stored_answers(app)["roles"] == "gcg_member"
    answer_visible_questions(page)
    page.get_by_role("button", name="Save and continue").click()

    # Engagement page answered, then the tab is reloaded half-way: everything comes back.
    expect(page).to_have_url(re.compile(r"/page/engagement$"))
    answer_visible_questions(page)
    saved_before = stored_answers(app)
    page.reload()
    for name in ("frequency", "expectations_met", "engagement_level"):
        value = saved_before[name]
        expect(page.locator(f"input[name={name}][value='{value}']")).to_be_checked()
    page.get_by_role("button", name="Save and continue").click()

    # The services come in three screens: use, then satisfaction with the services used, then importance.
    expect(page).to_have_url(re.compile(r"/page/services$"))
    expect(page.locator("#q-sat_website")).to_have_count(0)
    page.locator("#q-use_website input[value=used_occasionally]").check()
    wait_until_saved(page)
    answer_visible_questions(page)

    # Switch to French part-way: the page and the survey speak French, answers stay.
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#q-use_website input[value=used_occasionally]")).to_be_checked()

    while "/page/" in page.url:
        answer_visible_questions(page)
        page.locator(".page-actions button.primary").click()
        wait_until_saved(page)
    expect(page).to_have_url(re.compile(r"/review$"))
    page.locator("form.page-actions button.primary").click()
    expect(page).to_have_url(re.compile(r"/receipt$"))
    expect(page.locator("h1")).not_to_be_empty()
    with app.app_context():
        assert db.session.scalar(db.select(Response.status)) == "submitted"
    answers = stored_answers(app)
    assert answers["recommend"] == "3"
    assert answers["sat_website"] == "4"
    assert len(answers) > 40
    assert page.csp.violations == []


def test_without_javascript_the_same_survey_is_answered_with_plain_forms(app, nojs_page, demo_links):
    page = nojs_page
    page.goto(demo_links["Ministère du Travail de Madagascar"])
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.locator("form button[type=submit]").last.click()
    pages_seen = []
    while "/page/" in page.url:
        pages_seen.append(page.url.rsplit("/", 1)[-1])
        answer_visible_questions(page, text="Notre réponse", javascript=False)
        page.locator(".page-actions button.primary").click()
        if "/page/" in page.url and page.url.rsplit("/", 1)[-1] == pages_seen[-1]:
            # The page came back: answers revealed new questions (or errors); answer them and go on.
            answer_visible_questions(page, text="Notre réponse", javascript=False)
            page.locator(".page-actions button.primary").click()
    assert pages_seen[:3] == ["profile", "engagement", "services"]
    expect(page).to_have_url(re.compile(r"/review$"))
    expect(page.get_by_text("Notre réponse").first).to_be_visible()
    page.locator("form.page-actions button.primary").click()
    expect(page).to_have_url(re.compile(r"/receipt$"))
    with app.app_context():
        assert db.session.scalar(db.select(Response.status)) == "submitted"
    answers = stored_answers(app)
    assert answers["recommend_why"] == "Notre réponse"


def test_phone_sized_screen_shows_grids_as_stacked_rows(phone_page, demo_links):
    page = phone_page
    page.goto(demo_links[GHANA])
    page.locator("form button[type=submit]").last.click()
    page.goto(page.url.replace("/page/profile", "/page/services"))
    row = page.locator("#q-use_website")
    expect(row).to_be_visible()
    label = row.get_by_text("Used regularly")
    expect(label).to_be_visible()
    box = page.evaluate("() => document.documentElement.scrollWidth")
    assert box <= 360
    label.click()
    expect(page.locator("#feedback-use_website")).to_contain_text("Saved")
    assert page.csp.violations == []


def test_keyboard_alone_can_answer_and_continue(app, js_page, demo_links):
    page = js_page
    page.goto(demo_links[GHANA])
    page.keyboard.press("Tab")  # skip link
    page.get_by_role("button", name="Start the survey").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/page/profile$"))
    page.locator("#q-roles input[type=checkbox]").first.focus()
    page.keyboard.press("Space")
    expect(page.locator("#feedback-roles")).to_contain_text("Saved")
    assert stored_answers(app)["roles"] == "gcg_member"
