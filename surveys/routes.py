"""The partner's pages: welcome, one page per section, review, submit, receipt. Thin views over respondent.py."""

import math
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache, wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, refresh
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from jinja2_fragments.flask import render_block
from limits import parse
from markupsafe import Markup, escape

from engagement.errors import error_page
from engagement.extensions import csrf, limiter
from engagement.htmx import is_htmx, redirect_to, render

from . import answers as answer_store
from .answers import NotYetSaved
from .definition import Grid, Section
from .invitations import form_token_matches
from .relevance import layout
from .respondent import RoundClosed, Visit, open_visit, save_page, set_language, start, submit
from .versions import definition_for_id

bp = Blueprint("partner", __name__)
PAGE = "surveys/page.html"
TYPED = ("text", "integer", "decimal", "date")  # typed answers autosave as the partner types, others on change
# A partner page is a few kilobytes of form fields: anything much larger is refused before it is read.
PARTNER_MAX_CONTENT_LENGTH = 64 * 1024
SAFE_RETURN = re.compile(r"/s/[A-Za-z0-9_-]{43}(/[A-Za-z0-9_/-]*)?")  # a partner page, nothing else


@bp.before_request
def refuse_large_bodies():
    """Werkzeug refuses a body over this (413) before parsing it, by its declared length or as it is read."""
    request.max_content_length = current_app.config.get("PARTNER_MAX_CONTENT_LENGTH", PARTNER_MAX_CONTENT_LENGTH)


@bp.after_request
def count_refusals(response):
    """An unknown link (404) or an oversized body (413) costs the address one of TOKEN_LOOKUP_LIMIT tries; past it,
    the answer is 429. A partner's valid link never asks the counter, so it is never refused for someone else's
    guesses from the same address (a ministry behind one proxy)."""
    if response.status_code not in (404, 413) or not limiter.enabled:
        return response
    limit = _lookup_limit(current_app.config.get("TOKEN_LOOKUP_LIMIT", "30/minute"))
    key = (current_app.config.get("RATELIMIT_KEY_PREFIX", ""), "invitation-lookup", get_remote_address())
    if limiter.limiter.hit(limit, *key):
        return response
    reset_at, _remaining = limiter.limiter.get_window_stats(limit, *key)
    return error_page(429, retry_after=max(1, math.ceil(reset_at - time.time())))


def partner_form(view):
    """A partner's POST, checked against the link's form token (`invitations.form_token`) instead of Flask-WTF's
    session-bound one: a partner's browser needs no cookie, and a page left open overnight still saves. A missing
    or wrong token gets the same 400 as any other form."""

    @wraps(view)
    def checked(token, *args, **kwargs):
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
        if current_app.config.get("WTF_CSRF_ENABLED", True) and not form_token_matches(token, sent):
            raise CSRFError("The form token is missing or does not belong to this link.")
        return view(token, *args, **kwargs)

    return csrf.exempt(checked)


@lru_cache(maxsize=8)
def _lookup_limit(text: str):
    return parse(text)


@bp.errorhandler(RoundClosed)
def round_closed(error):
    g.language = error.language
    refresh()  # the locale may have been read already in this request
    return error_page(410)


def _visit(token: str) -> Visit:
    visit = open_visit(token)
    g.language = visit.language
    refresh()  # the locale may have been read already in this request
    return visit


def _page_index(visit: Visit, name: str, shown: set[str]):
    pages = visit.pages(shown)
    for index, page in enumerate(pages):
        if page.name == name:
            return pages, index
    return pages, None


# Where the partner's form token goes in a page kept for everyone in the same place; no text drawn from content can
# hold it, since every such text is escaped and "<" never survives escaping.
FORM_TOKEN_SLOT = "<form-token>"


def _page_context(definition, language: str, page, index: int, total: int, values: dict, shown, errors: dict,
                  form_token: str) -> dict:
    """Everything a section's page is drawn from, and nothing else: of the partner, only the answers and where they
    are in the survey. URLs in it are relative to the page (an autosave posts to ../answer/<question>)."""
    return {"definition": definition, "page": page, "index": index, "total": total, "values": values,
            "shown": shown, "errors": errors, "form_token": form_token, "lang": language, "autosave": True,
            "words": _words(definition, language), "grids": layout(definition).grids[page.name],
            "t": lambda text: definition.text(text, language)}


def _page(visit: Visit, page, status: int = 200, errors=None, shown=None, posted=None):
    """A section's page: drawn once for every partner in the same place of it (see `drawn_page`), unless it shows
    this partner's mistakes."""
    shown = visit.shown() if shown is None else shown
    pages, index = _page_index(visit, page.name, shown)
    if errors or get_flashed_messages():
        context = _page_context(visit.definition, visit.language, page, index or 0, len(pages),
                                {**visit.values, **(posted or {})}, shown, errors or {}, visit.form_token)
        return render(PAGE, status=status, **context)
    here = layout(visit.definition).page_questions[page.name]
    names = [n for q in here for n in ((q.name, q.other_name) if q.or_other else (q.name,))]
    head, tail = drawn_page(visit.version, visit.language, page.name, index or 0, len(pages),
                            tuple((name, visit.values[name]) for name in names if visit.values.get(name)),
                            frozenset(q.name for q in here if q.name in shown))
    response = make_response(head + visit.form_token + tail, status)  # the token is URL-safe base64
    response.vary.add("HX-Request")
    return response


@lru_cache(maxsize=256)
def drawn_page(version: tuple, language: str, page_name: str, index: int, total: int, answers: tuple,
               shown: frozenset) -> tuple[str, str]:
    """A section's page as drawn for these answers, before and after its form token; kept for the next partner in
    the same place (most open a section before answering it): drawing it was most of a page's CPU time.

    Safe by construction: the key is exactly the arguments and the drawing reads nothing else, so a copy can only
    reach a partner who would have drawn the same, and no link, token or organisation can be in it.
    """
    definition = definition_for_id(*version)
    with force_locale(language):
        html = render_template(PAGE, **_page_context(definition, language, definition.page(page_name), index, total,
                                                     dict(answers), shown, {}, Markup(FORM_TOKEN_SLOT)))
    head, slot, tail = html.partition(FORM_TOKEN_SLOT)
    if not slot or FORM_TOKEN_SLOT in tail:
        raise ValueError(f"{PAGE} must show the form token exactly once")
    return head, tail


@lru_cache(maxsize=256)
def drawn_autosave_reply(version: tuple, language: str, page_name: str, question_name: str, problems: tuple,
                         changed: tuple) -> str:
    """The reply to an autosave: the question's saved state or problem, and the questions it showed or hid
    (`changed`: name, shown, answer, "other" text). Kept like `drawn_page`, by exactly what draws it."""
    definition = definition_for_id(*version)
    errors = {name: NotYetSaved(message) if pending else message for name, message, pending in problems}
    values = {name: value for name, _shown, value, _other in changed if value}
    values.update({definition.question(name).other_name: other for name, _shown, _value, other in changed if other})
    context = _page_context(definition, language, definition.page(page_name), 0, 0, values,
                            frozenset(name for name, shown, _value, _other in changed if shown), errors, "")
    page_questions = layout(definition).page_questions[page_name]
    context.update(question=definition.question(question_name), saved=not errors,
                   changed=[q for q in page_questions if any(q.name == name for name, *_rest in changed)])
    with force_locale(language):
        return render_block(PAGE, "autosave_result", **context)


@dataclass
class Wording:
    """The texts of a question or group in one language, escaped once, and what the page needs to draw it."""

    text: Markup  # the label as written (may be empty)
    label: Markup  # the label, or the name when there is none
    hint: Markup
    choices: list[tuple[str, Markup]]
    choice_labels: dict[str, Markup] = field(default_factory=dict)  # the same by code, for answers on the review
    other_listed: bool = False  # "other" is one of the listed choices
    trigger: str = "change"  # when the autosave fires
    described: str = ""  # ids for aria-describedby


@dataclass
class Words:
    questions: dict[str, Wording]
    groups: dict[str, Wording]


def _words(definition, language: str) -> Words:
    """Every question's and group's wording in a language, built once per survey version and language."""
    cache = layout(definition).wording
    words = cache.get(language)
    if words is None:
        words = cache[language] = _build_words(definition, language)
    return words


def _build_words(definition, language: str) -> Words:
    def text(value) -> str:
        return definition.text(value, language)

    def choices(items) -> list[tuple[str, Markup]]:
        return [(c.name, escape(text(c.label) or c.name)) for c in items]

    words = Words(questions={}, groups={})
    for question in definition.questions():
        label = text(question.label)
        listed = choices(question.choices)
        words.questions[question.name] = Wording(
            text=escape(label), label=escape(label or question.name), hint=escape(text(question.hint)),
            choices=listed, choice_labels=dict(listed), other_listed="other" in question.choice_names(),
            trigger="change, input delay:1200ms" if question.type in TYPED else "change",
            described=(f"hint-{question.name} " if question.hint else "") + f"feedback-{question.name}")

    def walk(items):
        for item in items:
            if isinstance(item, Grid | Section):
                words.groups[item.name] = Wording(
                    text=escape(text(item.label)), label=escape(text(item.label) or item.name),
                    hint=escape(text(item.hint)), choices=choices(item.choices) if isinstance(item, Grid) else [])
            if isinstance(item, Section):
                walk(item.items)

    for page in definition.pages:
        walk(page.items)
    return words


@bp.get("/s/<token>")
def welcome(token):
    """The welcome page: who is invited, to what, until when, and how answers are used."""
    visit = _visit(token)
    if visit.submitted:
        return redirect(url_for("partner.receipt", token=token), 303)
    minutes = current_app.config["SURVEY_DEFAULT_MINUTES"]
    return render("surveys/welcome.html", visit=visit, minutes=minutes, lang=visit.language,
                  t=lambda text: visit.definition.text(text, visit.language))


@bp.post("/s/<token>/start")
@partner_form
def begin(token):
    """Start, or continue where the partner left."""
    visit = _visit(token)
    if visit.submitted:
        return redirect_to(url_for("partner.receipt", token=token))
    response = start(visit)
    shown = visit.shown()
    pages = visit.pages(shown)
    target = response.current_page if any(p.name == response.current_page for p in pages) else (
        pages[0].name if pages else None)
    if target is None:
        return redirect_to(url_for("partner.review", token=token))
    return redirect_to(url_for("partner.page", token=token, name=target))


@bp.post("/s/<token>/language")
@partner_form
def language(token):
    """Switch the language of the survey; answers stay as they are."""
    visit = _visit(token)
    set_language(visit, request.form.get("language", ""))
    back = request.form.get("next", "")
    if not (SAFE_RETURN.fullmatch(back) and back.startswith(f"/s/{token}")):
        back = url_for("partner.welcome", token=token)
    return redirect_to(back)


@bp.get("/s/<token>/page/<name>")
def page(token, name):
    """One section of the survey, with the partner's answers so far."""
    visit = _visit(token)
    if visit.submitted:
        return redirect(url_for("partner.receipt", token=token), 303)
    if visit.response is None:
        return redirect(url_for("partner.welcome", token=token), 303)
    survey_page = visit.definition.page(name)
    if survey_page is None:
        abort(404)
    return _page(visit, survey_page)


@bp.post("/s/<token>/page/<name>")
@partner_form
def save(token, name):
    """Save the whole page (the form without JavaScript), then go where the partner asked: next, back, review."""
    visit = _visit(token)
    if visit.submitted:
        return redirect_to(url_for("partner.receipt", token=token))
    if visit.response is None:
        start(visit)
    survey_page = visit.definition.page(name)
    if survey_page is None:
        abort(404)
    action = request.form.get("action", "save")
    forward = action in ("next", "review")
    before = visit.shown()
    questions = layout(visit.definition).page_questions[name]
    changes, errors, shown = answer_store.validate_questions(
        visit.definition, questions, request.form, visit.values, visit.partner, visit.language,
        require=forward, shown_before=before)
    appeared = [q for q in questions if q.name in shown and q.name not in before and q.answerable
                and q.required and not visit.values.get(q.name) and not changes.get(q.name)]
    pages, index = _page_index(visit, name, shown)
    destination = name
    if forward and not errors and not appeared:
        if action == "review" or index is None or index + 1 >= len(pages):
            destination = None
        else:
            destination = pages[index + 1].name
    elif action == "back" and index:
        destination = pages[index - 1].name
    if not save_page(visit, changes, current_page=destination or name, clean_hidden=destination != name):
        return redirect_to(url_for("partner.receipt", token=token))  # submitted from another tab meanwhile
    if action.startswith("lang:"):
        set_language(visit, action.removeprefix("lang:"))
        g.language = visit.language
        return redirect_to(url_for("partner.page", token=token, name=name))
    if errors or appeared:
        for question in appeared:
            errors.setdefault(question.name, _("New question, shown because of your answers: please answer it."))
        return _page(visit, survey_page, 422, errors=errors, posted=dict(request.form.items()))
    if destination is None:
        return redirect_to(url_for("partner.review", token=token))
    return redirect_to(url_for("partner.page", token=token, name=destination))


@bp.post("/s/<token>/answer/<question_name>")
@partner_form
def autosave(token, question_name):
    """Save one answer as the partner goes (htmx); reply with its saved state and the questions it shows or hides."""
    visit = _visit(token)
    if visit.submitted:
        return error_page(409, _("This survey has been submitted already; answers can no longer change."))
    question = visit.definition.question(question_name)
    if question is None or not question.answerable:
        return error_page(404, _("There is no such question in this survey."))
    if visit.response is None:
        start(visit)
    survey_page = visit.definition.page(question.page)
    before = visit.shown()
    if question.name not in before:
        return error_page(422, _("This question is not shown for your answers, so it cannot be saved."))
    changes, errors, shown = answer_store.validate_questions(
        visit.definition, [question], request.form, visit.values, visit.partner, visit.language, require=False,
        shown_before=before)
    if not errors and not save_page(visit, changes, current_page=None, clean_hidden=False):
        return error_page(409, _("This survey has been submitted already; answers can no longer change."))
    changed = [] if shown is before else [
        q for q in layout(visit.definition).page_questions[survey_page.name]
        if (q.name in before) != (q.name in shown)]
    status = 422 if errors else 200
    if not is_htmx():
        return _page(visit, survey_page, status, errors=errors, shown=shown)
    values = visit.values
    problems = tuple((name, str(error), bool(getattr(error, "pending", False))) for name, error in errors.items())
    changed = tuple((q.name, q.name in shown, values.get(q.name), values.get(q.other_name) if q.or_other else None)
                    for q in changed)
    reply = drawn_autosave_reply(visit.version, visit.language, survey_page.name, question.name, problems, changed)
    response = make_response(reply, status)
    response.vary.add("HX-Request")
    return response


@bp.get("/s/<token>/review")
def review(token):
    """Every answer on one page, with links back to change them, and the submit button."""
    visit = _visit(token)
    if visit.submitted:
        return redirect(url_for("partner.receipt", token=token), 303)
    if visit.response is None:
        return redirect(url_for("partner.welcome", token=token), 303)
    missing = answer_store.missing_required(visit.definition, visit.values, visit.partner)
    return render("surveys/review.html", **_review_context(visit, missing=missing))


def _review_context(visit: Visit, **extra):
    """The review and the receipt: each shown page with its shown questions (chosen here, not in the template:
    the review of a whole survey is the partner's longest page)."""
    shown = visit.shown()
    pages = visit.pages(shown)
    questions = layout(visit.definition).page_questions
    answered_pages = [(page, [q for q in questions[page.name] if q.answerable and q.name in shown]) for page in pages]
    missing = extra.get("missing") or []
    return dict(visit=visit, definition=visit.definition, pages=pages, shown=shown, answered_pages=answered_pages,
                missing_names={q.name for q in missing}, values=visit.values, lang=visit.language,
                words=_words(visit.definition, visit.language),
                t=lambda text: visit.definition.text(text, visit.language), **extra)


@bp.post("/s/<token>/submit")
@partner_form
def submit_response(token):
    """Submit the answers; a second submit (a double click, another tab) changes nothing and shows the receipt."""
    visit = _visit(token)
    if visit.response is None:
        return redirect_to(url_for("partner.welcome", token=token))
    if not visit.submitted:
        missing = answer_store.missing_required(visit.definition, visit.values, visit.partner)
        if missing:
            return render("surveys/review.html", status=422, **_review_context(visit, missing=missing))
        submit(visit)
    return redirect_to(url_for("partner.receipt", token=token))


@bp.get("/s/<token>/receipt")
def receipt(token):
    """Thank-you page with a printable, read-only copy of the submitted answers."""
    visit = _visit(token)
    if not visit.submitted:
        return redirect(url_for("partner.welcome", token=token), 303)
    return render("surveys/receipt.html", **_review_context(visit))
