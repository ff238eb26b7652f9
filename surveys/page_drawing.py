"""A partner's screen as drawn: everything it is drawn from (`page_context`), and the drawings kept for every partner
in the same place of the survey (`drawn_page`, `drawn_autosave_reply`), keyed by exactly what draws them."""

from functools import lru_cache

from flask import render_template
from flask_babel import force_locale
from jinja2_fragments.flask import render_block
from markupsafe import Markup

from engagement.i18n import LANGUAGE_NAMES

from . import repeat_pages
from .answers import NotYetSaved
from .cascades import offered as offered_choices
from .relevance import layout
from .respondent import survey_languages
from .versions import definition_for_id
from .wording import survey_words

PAGE = "surveys/page.html"
# Where the partner's form token goes in a page kept for everyone in the same place; no text drawn from content can
# hold it, since every such text is escaped and "<" never survives escaping.
FORM_TOKEN_SLOT = "<form-token>"


def page_context(definition, language: str, screen, index: int, total: int, values: dict, shown, errors: dict,
                 new: tuple, form_token: str, secretariat: str, preview: bool = False) -> dict:
    """Everything a screen's page is drawn from, and nothing else: of the partner, only the answers and where they
    are in the survey. URLs in it are relative to the page (an autosave posts to ../answer/<question>)."""
    return {"definition": definition, "screen": screen, "page": screen.page, "index": index, "total": total,
            "values": values, "shown": shown, "errors": errors, "new": new, "form_token": form_token,
            "lang": language, "languages": [(code, LANGUAGE_NAMES[code]) for code in survey_languages(definition)
                                            if code in LANGUAGE_NAMES],
            "autosave": True, "words": survey_words(definition, language), "grids": screen.grids,
            "secretariat_email": secretariat, "preview": preview,
            "offered": lambda question: offered_choices(question, values),
            "entry_question_label": lambda key: repeat_pages.entry_question_label(definition, language, values, key),
            "t": lambda text: definition.text(text, language), **repeat_pages.page_context(definition, language, values)}


@lru_cache(maxsize=256)
def drawn_page(version: tuple, language: str, screen_id: str, index: int, total: int, answers: tuple,
               shown: frozenset, new: tuple, secretariat: str, preview: bool) -> tuple[str, str]:
    """A screen's page as drawn for these answers, before and after its form token; kept for the next partner in
    the same place (most open a screen before answering it): drawing it was most of a page's CPU time.

    Safe by construction: the key is exactly the arguments and the drawing reads nothing else, so a copy can only
    reach a partner who would have drawn the same, and no link, token or organisation can be in it.
    """
    definition = definition_for_id(*version)
    screen = layout(definition).screens.by_id[screen_id]
    with force_locale(language):
        html = render_template(PAGE, **page_context(definition, language, screen, index, total, dict(answers),
                                                     shown, {}, new, Markup(FORM_TOKEN_SLOT), secretariat,
                                                     preview))
    head, slot, tail = html.partition(FORM_TOKEN_SLOT)
    if not slot or FORM_TOKEN_SLOT in tail:
        raise ValueError(f"{PAGE} must show the form token exactly once")
    return head, tail


@lru_cache(maxsize=256)
def drawn_autosave_reply(version: tuple, language: str, screen_id: str, question_name: str, problems: tuple,
                         changed: tuple, read: tuple = ()) -> str:
    """The reply to an autosave: the question's saved state or problem, and the questions of its screen it showed
    or hid (`changed`: name, shown, answer, "other" text), and the answers their choice filters `read`. Kept like
    `drawn_page`, by exactly what draws it."""
    definition = definition_for_id(*version)
    screen = layout(definition).screens.by_id[screen_id]
    errors = {name: NotYetSaved(message) if pending else message for name, message, pending in problems}
    values = dict(read)
    values.update({name: value for name, _shown, value, _other in changed if value})
    values.update({definition.question(name).other_name: other for name, _shown, _value, other in changed if other})
    context = page_context(definition, language, screen, 0, 0, values,
                            frozenset(name for name, shown, _value, _other in changed if shown), errors, (), "", "")
    names = {name for name, *_rest in changed}
    context.update(question=definition.question(question_name), saved=not errors,
                   changed=[q for q in screen.questions if q.name in names])
    with force_locale(language):
        return render_block(PAGE, "autosave_result", **context)
