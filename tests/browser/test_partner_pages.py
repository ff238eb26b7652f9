"""What a partner meets first, in Chromium (issue 17): Enter goes forward and keeps the language, a refused answer is
never called saved, questions appear in place with JavaScript and are marked without, a French partner on a phone
reads French only, and no screen of the demo survey is endless."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from surveys.demo import DEMO_ROUND
from surveys.versions import DEFAULT_SURVEY_FILE
from surveys.xlsform import load_survey_file
from tests.browser.survey_driver import answer_visible_questions, wait_until_saved

pytestmark = pytest.mark.browser

MADAGASCAR = "Ministère du Travail de Madagascar"
GHANA = "Ministry of Labour of Ghana"
ROOT = Path(__file__).parents[2]


def english_only_texts() -> set[str]:
    """English texts a French page must not show: the survey's English wording and the pages' English strings
    whose French differs (long enough not to be a name or a word both languages share)."""
    _sheets, definition = load_survey_file(DEFAULT_SURVEY_FILE.read_bytes(), DEFAULT_SURVEY_FILE.name)
    texts = set()
    for question in definition.questions():
        for text in (question.label, question.hint, *(choice.label for choice in question.choices)):
            if text.get("en") and text.get("en") != text.get("fr"):
                texts.add(text["en"])
    for page in definition.pages:
        if page.label.get("en") != page.label.get("fr"):
            texts.add(page.label["en"])
    with (ROOT / "translations/fr/LC_MESSAGES/messages.po").open("rb") as handle:
        for message in read_po(handle):
            if isinstance(message.id, str) and message.id and message.string != message.id and "%(" not in message.id:
                texts.add(message.id)
    return {text for text in texts if len(text) >= 12}


def english_on(page, english: set[str]) -> list[str]:
    body = page.inner_text("body")
    return sorted(text for text in english if text in body)


def test_a_french_partner_on_a_phone_reads_french_only_from_welcome_to_receipt(browser, demo_links):
    english = english_only_texts() | {DEMO_ROUND}
    assert len(english) > 200
    for javascript in (True, False):
        context = browser.new_context(java_script_enabled=javascript, viewport={"width": 360, "height": 800})
        page = context.new_page()
        page.set_default_timeout(10000)
        page.goto(demo_links[MADAGASCAR] if javascript else demo_links["Université de Genève – Centre for Forced "
                                                                          "Labour Research"])
        seen = [("welcome", english_on(page, english))]
        page.locator("form[action$='/start'] button").click()
        for _step in range(20):
            if "/review" in page.url:
                break
            answer_visible_questions(page, text="Notre réponse", javascript=javascript)
            seen.append((page.url.rsplit("/", 1)[-1], english_on(page, english)))
            page.locator(".page-actions button.primary").click()
            if javascript:
                wait_until_saved(page)
        expect(page).to_have_url(re.compile(r"/review$"))
        seen.append(("review", english_on(page, english)))
        page.locator("form.page-actions button.primary").click()
        expect(page).to_have_url(re.compile(r"/receipt$"))
        seen.append(("receipt", english_on(page, english)))
        assert page.locator("html").get_attribute("lang") == "fr"
        context.close()
        assert [(where, found) for where, found in seen if found] == [], javascript


@pytest.mark.parametrize("javascript", [True, False])
def test_enter_in_a_french_text_field_saves_and_continues_in_french(browser, demo_links, javascript):
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10000)
    page.goto(demo_links[MADAGASCAR])
    page.locator("form[action$='/start'] button").click()
    answer_visible_questions(page, text="Notre réponse", javascript=javascript)
    page.locator(".page-actions button.primary").click()
    expect(page).to_have_url(re.compile(r"/page/engagement$"))
    answer_visible_questions(page, text="Notre réponse", javascript=javascript)
    # "If other, please specify" of the reasons question: a text field; Enter there must not switch the language.
    other = page.locator("#f-reasons_other")
    other.fill("Coordination nationale")
    other.press("Enter")
    expect(page).to_have_url(re.compile(r"/page/services$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    context.close()


def test_a_refused_answer_is_never_called_saved(js_page, demo_links):
    page = js_page
    page.goto(demo_links[GHANA])
    page.get_by_role("button", name="Start the survey").click()
    expect(page.locator("#save-state")).to_have_text("Answers are saved as you go.")
    page.goto(page.url.replace("/page/profile", "/page/overall"))
    page.locator("#q-recommend input[value='7']").check()
    expect(page.locator("#save-state")).to_have_text("All answers saved")
    long_text = "x" * 5001  # over the limit: refused by the server
    page.locator("#f-one_change").evaluate("(field, text) => { field.removeAttribute('maxlength'); }", long_text)
    page.locator("#f-one_change").fill(long_text)
    page.locator("#f-one_change").dispatch_event("change")
    expect(page.locator("#feedback-one_change")).to_contain_text("under 5000 characters")
    expect(page.locator("#save-state")).to_have_text("An answer was not saved: see the message beside it.")
    page.locator("#f-one_change").fill("Shorter")
    page.locator("#f-one_change").dispatch_event("change")
    expect(page.locator("#save-state")).to_have_text("All answers saved")


def test_questions_appear_in_place_with_javascript_and_are_marked_without(browser, demo_links):
    for javascript in (True, False):
        context = browser.new_context(java_script_enabled=javascript, viewport={"width": 360, "height": 800})
        page = context.new_page()
        page.set_default_timeout(10000)
        page.goto(demo_links[GHANA] if javascript else demo_links["UN Office on Drugs and Crime"])
        page.locator("form[action$='/start'] button").click()
        page.goto(page.url.replace("/page/profile", "/page/action_groups"))
        expect(page.locator("#q-ag_most_active")).to_be_hidden()
        boxes = page.locator("#q-ag_groups input[type=checkbox]")
        boxes.nth(0).check()
        boxes.nth(1).check()
        if javascript:
            expect(page.locator("#q-ag_most_active")).to_be_visible()  # at once, in place
            wait_until_saved(page)
        else:
            page.locator(".page-actions button.primary").click()
            expect(page).to_have_url(re.compile(r"/page/action_groups\?new=.*#new-questions$"))
            expect(page.locator("#new-questions")).to_contain_text("New questions appeared")
            expect(page.locator("#q-ag_most_active")).to_be_visible()
            expect(page.locator("#q-ag_most_active .new-tag")).to_have_text("New")
            expect(page.locator("#q-ag_most_active")).to_be_in_viewport()
        context.close()


def test_no_screen_of_the_demo_survey_is_endless_on_a_phone(phone_page, demo_links):
    page = phone_page
    page.goto(demo_links[GHANA])
    page.locator("form[action$='/start'] button").click()
    heights = {}
    for _step in range(12):
        if "/review" in page.url:
            break
        heights[page.url.rsplit("/", 1)[-1]] = page.evaluate("document.body.scrollHeight")
        answer_visible_questions(page)
        wait_until_saved(page)
        with page.expect_navigation():  # measure the next page only once it is there (a loaded machine lags)
            page.locator(".page-actions button.primary").click()
    assert len(heights) == 8, heights
    # The services page was 10,000 px (13 screens of a phone); each screen is now at most about eight screens.
    assert max(heights.values()) < 6500, heights
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
