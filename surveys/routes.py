"""The partner's pages: welcome, one page per section, review, submit, receipt. Thin views over respondent.py."""

from dataclasses import dataclass, field
from functools import lru_cache, wraps

from flask import Blueprint, abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from limits import parse
from markupsafe import Markup, escape
from werkzeug.exceptions import NotFound

from engagement.errors import error_page
from engagement.extensions import csrf, limiter
from engagement.htmx import RenderCache, is_htmx, redirect_to, render

from . import answers as answer_store
from .definition import Grid, Section
from .invitations import form_token_matches
from .relevance import layout
from .respondent import RoundClosed, Visit, open_visit, save_page, set_language, start, submit

bp = Blueprint("surveys", __name__)
PAGE = "surveys/page.html"
TYPED = ("text", "integer", "decimal", "date")  # typed answers autosave as the partner types, others on change


def rendered() -> RenderCache:
    """Survey pages and autosave replies as rendered, shared by partners with the same answers on that page (most
    partners open a section before answering it): rendering was half of a page's CPU time. One per app."""
    cache = current_app.extensions.get("surveys.rendered")
    if cache is None:
        cache = current_app.extensions.setdefault("surveys.rendered",
                                                  RenderCache(current_app.config["RENDER_CACHE_SIZE"]))
    return cache


def token_limit(view):
    """Unknown links cost a guess: once an address has had TOKEN_LOOKUP_LIMIT look-ups fail (404), every partner URL
    answers 429 from it until the window ends. Only failed look-ups count, so a whole ministry behind one address
    can still answer; one counter for every partner URL, so a guesser gets no fresh allowance from each route.

    The counter is read and counted with the limiter's own storage (shared by the workers), without Flask-Limiter's
    per-route machinery, which cost a sixth of an autosave.
    """

    @wraps(view)
    def limited(*args, **kwargs):
        if not limiter.enabled:
            return view(*args, **kwargs)
        limit = _lookup_limit(current_app.config.get("TOKEN_LOOKUP_LIMIT", "30/minute"))
        key = (current_app.config.get("RATELIMIT_KEY_PREFIX", ""), "invitation-lookup", get_remote_address())
        if not limiter.limiter.test(limit, *key):
            abort(429)
        try:
            response = view(*args, **kwargs)
        except NotFound:
            limiter.limiter.hit(limit, *key)
            raise
        if getattr(response, "status_code", None) == 404:
            limiter.limiter.hit(limit, *key)
        return response

    limited.counts_failed_lookups = True
    return limited


@limiter.request_filter
def _partner_urls_count_their_own() -> bool:
    """Flask-Limiter's own per-request evaluation is skipped for partner URLs: no limit of its applies to them (they
    count failed look-ups in token_limit), and working that out cost a sixteenth of an autosave."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "counts_failed_lookups", False)


def partner_form(view):
    """A partner's POST, checked against the link's form token (`invitations.form_token`) instead of Flask-WTF's
    session-bound one: a partner's browser needs no cookie, and a page left open overnight still saves. A missing
    or wrong token gets the same 400 as any other form."""

    @wraps(view)
    def checked(token, *args, **kwargs):
        # The form is read first, as Flask-WTF does: an oversized request is refused (413) before anything else.
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
    if "_flask_babel" in g:  # Flask-Babel's per-request state: only then may it have read the locale already
        refresh()
    return visit


def _page_index(visit: Visit, name: str, shown: set[str]):
    pages = visit.pages(shown)
    for index, page in enumerate(pages):
        if page.name == name:
            return pages, index
    return pages, None


def _page_context(visit: Visit, page, errors=None, notice=None, shown=None, posted=None):
    shown = visit.shown() if shown is None else shown
    pages, index = _page_index(visit, page.name, shown)
    values = dict(visit.values)
    if posted:
        values.update(posted)
    # Question names are plain identifiers: the autosave URL of each is this prefix and its name.
    autosave_url = url_for("surveys.autosave", token=visit.token, question_name="_")[:-1]
    return {"visit": visit, "definition": visit.definition, "page": page, "pages": pages, "index": index or 0,
            "shown": shown, "values": values, "errors": errors or {}, "notice": notice, "lang": visit.language,
            "autosave": True, "autosave_url": autosave_url, "words": _words(visit.definition, visit.language),
            "grids": layout(visit.definition).grids[page.name],
            "t": lambda text: visit.definition.text(text, visit.language)}


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
@token_limit
def welcome(token):
    """The welcome page: who is invited, to what, until when, and how answers are used."""
    visit = _visit(token)
    if visit.submitted:
        return redirect(url_for("surveys.receipt", token=token), 303)
    minutes = current_app.config["SURVEY_DEFAULT_MINUTES"]
    return render("surveys/welcome.html", visit=visit, minutes=minutes, lang=visit.language,
                  t=lambda text: visit.definition.text(text, visit.language))


@bp.post("/s/<token>/start")
@token_limit
@partner_form
def begin(token):
    """Start, or continue where the partner left."""
    visit = _visit(token)
    if visit.submitted:
        return redirect_to(url_for("surveys.receipt", token=token))
    response = start(visit)
    shown = visit.shown()
    pages = visit.pages(shown)
    target = response.current_page if any(p.name == response.current_page for p in pages) else (
        pages[0].name if pages else None)
    if target is None:
        return redirect_to(url_for("surveys.review", token=token))
    return redirect_to(url_for("surveys.page", token=token, name=target))


@bp.post("/s/<token>/language")
@token_limit
@partner_form
def language(token):
    """Switch the language of the survey; answers stay as they are."""
    visit = _visit(token)
    set_language(visit, request.form.get("language", ""))
    back = request.form.get("next", "")
    if not back.startswith(f"/s/{token}"):
        back = url_for("surveys.welcome", token=token)
    return redirect_to(back)


@bp.get("/s/<token>/page/<name>")
@token_limit
def page(token, name):
    """One section of the survey, with the partner's answers so far."""
    visit = _visit(token)
    if visit.submitted:
        return redirect(url_for("surveys.receipt", token=token), 303)
    if visit.response is None:
        return redirect(url_for("surveys.welcome", token=token), 303)
    survey_page = visit.definition.page(name)
    if survey_page is None:
        abort(404)
    return _survey_page(visit, survey_page)


def _survey_page(visit: Visit, survey_page):
    """The page as rendered for any partner with the same answers on it, with this partner's link and CSRF token.

    Besides the survey version, language and section, a page depends only on the answers to its own questions,
    which of them are shown and where the section stands among the shown ones (no piping, no choice filters).
    """
    if session.get("_flashes"):
        return render(PAGE, **_page_context(visit, survey_page))
    shown = visit.shown()
    pages, index = _page_index(visit, survey_page.name, shown)
    values = visit.values
    answers = tuple((q.name in shown, values.get(q.name), values.get(q.other_name) if q.or_other else None)
                    for q in layout(visit.definition).page_questions[survey_page.name])
    key = ("page", visit.version, visit.language, survey_page.name, index, len(pages), answers)
    return _shared(key, (visit.token, visit.form_token), [text for _shown, *texts in answers for text in texts], 200,
                   lambda: render(PAGE, **_page_context(visit, survey_page, shown=shown)))


def _shared(key, secrets: tuple, content: list, status: int, draw):
    """The response kept under `key` with this partner's `secrets` put back, else draw() and keep it (unless its
    `content`, the answers and messages in it, holds a secret)."""
    html = rendered().get(key, secrets)
    if html is None:
        response = draw()
        rendered().put(key, response.get_data(as_text=True), secrets, content)
        return response
    return current_app.response_class(html, status, {"Vary": "HX-Request"})  # as render() would make it


@bp.post("/s/<token>/page/<name>")
@token_limit
@partner_form
def save(token, name):
    """Save the whole page (the form without JavaScript), then go where the partner asked: next, back, review."""
    visit = _visit(token)
    if visit.submitted:
        return redirect_to(url_for("surveys.receipt", token=token))
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
        return redirect_to(url_for("surveys.receipt", token=token))  # submitted from another tab meanwhile
    if action.startswith("lang:"):
        set_language(visit, action.removeprefix("lang:"))
        g.language = visit.language
        return redirect_to(url_for("surveys.page", token=token, name=name))
    if errors or appeared:
        for question in appeared:
            errors.setdefault(question.name, _("New question, shown because of your answers: please answer it."))
        posted = {k: v for k, v in request.form.items()}
        return render(PAGE, status=422, **_page_context(visit, survey_page, errors=errors, posted=posted))
    if destination is None:
        return redirect_to(url_for("surveys.review", token=token))
    return redirect_to(url_for("surveys.page", token=token, name=destination))


@bp.post("/s/<token>/answer/<question_name>")
@token_limit
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
    # The reply depends on the question, its errors and the questions it showed or hid (with their answers).
    values = visit.values
    others = tuple((q.name, q.name in shown, values.get(q.name), values.get(q.other_name) if q.or_other else None)
                   for q in changed)
    problems = tuple((name, str(error), bool(getattr(error, "pending", False))) for name, error in errors.items())
    key = ("autosave", visit.version, visit.language, question.name, problems, others)
    content = [message for _name, message, _pending in problems] + [t for _n, _s, *texts in others for t in texts]

    def draw():
        context = _page_context(visit, survey_page, errors=errors, shown=shown)
        context.update(question=question, changed=changed, saved=not errors)
        return render(PAGE, block="autosave_result", status=status, **context)

    return _shared(key, (visit.token,), content, status, draw) if is_htmx() else draw()


@bp.get("/s/<token>/review")
@token_limit
def review(token):
    """Every answer on one page, with links back to change them, and the submit button."""
    visit = _visit(token)
    if visit.submitted:
        return redirect(url_for("surveys.receipt", token=token), 303)
    if visit.response is None:
        return redirect(url_for("surveys.welcome", token=token), 303)
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
@token_limit
@partner_form
def submit_response(token):
    """Submit the answers; a second submit (a double click, another tab) changes nothing and shows the receipt."""
    visit = _visit(token)
    if visit.response is None:
        return redirect_to(url_for("surveys.welcome", token=token))
    if not visit.submitted:
        missing = answer_store.missing_required(visit.definition, visit.values, visit.partner)
        if missing:
            return render("surveys/review.html", status=422, **_review_context(visit, missing=missing))
        submit(visit)
    return redirect_to(url_for("surveys.receipt", token=token))


@bp.get("/s/<token>/receipt")
@token_limit
def receipt(token):
    """Thank-you page with a printable, read-only copy of the submitted answers."""
    visit = _visit(token)
    if not visit.submitted:
        return redirect(url_for("surveys.welcome", token=token), 303)
    return render("surveys/receipt.html", **_review_context(visit))
