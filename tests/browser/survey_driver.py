"""Answers whatever a survey page shows, the way a partner would: click, type, choose."""

import re

from playwright.sync_api import expect

ANSWERED = "data-test-answered"


def answer_visible_questions(page, text="Our answer", javascript=True):
    """Answer every visible, unanswered question of the page; repeat while answers reveal new questions."""
    for _round in range(10):
        questions = page.locator(f"[data-question]:visible:not([{ANSWERED}]), tr.grid-row:visible:not([{ANSWERED}])")
        count = questions.count()
        if count == 0:
            return
        for index in range(count):
            question = questions.nth(0)
            answer_question(question, text)
            question.evaluate(f"el => el.setAttribute('{ANSWERED}', '1')")
            if javascript:
                wait_until_saved(page)
        if not javascript:
            return


def answer_question(question, text):
    radios = question.locator("input[type=radio]")
    checkboxes = question.locator("input[type=checkbox]")
    ranks = question.locator("select.rank-choice")
    if question.locator("input:checked").count():
        return  # prefilled from the registry or answered already
    if ranks.count():
        for index in range(ranks.count()):  # one drop-down per position: a different option in each
            ranks.nth(index).select_option(index=index + 1)
    elif radios.count():
        # The middle of a scale, or the third option, keeps "none"/"not applicable" answers out of the way.
        radios.nth(3 if radios.count() >= 4 else 0).check()
    elif checkboxes.count():
        checkboxes.nth(0).check()
    for field in question.locator("textarea, input[type=text]").all():
        if not field.is_visible():
            continue
        mode = field.get_attribute("inputmode")
        field.fill("5" if mode in ("numeric", "decimal") else text)
        field.dispatch_event("change")
    for field in question.locator("input[type=date]").all():
        field.fill("2024-05-01")


def wait_until_saved(page):
    """Wait for htmx to finish every request the last answer started."""
    page.wait_for_function("() => document.querySelectorAll('.htmx-request').length === 0")


def open_and_start(page, link: str, first_page: str) -> None:
    """Open the partner's link and press Start, as the partner does; the survey opens on `first_page`."""
    page.goto(link)
    page.get_by_role("button", name="Start the survey").click()
    expect(page).to_have_url(re.compile(rf"/page/{first_page}$"))


def give_location(page, javascript: bool) -> None:
    """Answer the location question: "Use my location" (the partner_phone's position) with JavaScript; without it
    the button is hidden and the partner types the same figures."""
    use_location = page.get_by_role("button", name="Use my location")
    if javascript:
        use_location.click()
        expect(page.get_by_label("Latitude")).to_have_value("5.603700")
        expect(page.get_by_label("Longitude")).to_have_value("-0.187000")
    else:
        expect(use_location).to_be_hidden()
        page.get_by_label("Latitude").fill("5.6037")
        page.get_by_label("Longitude").fill("-0.187")
