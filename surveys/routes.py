"""The partner's pages: welcome, one page per screen of the survey, review, submit, receipt. Thin views over
respondent.py; a screen's page is drawn once for every partner in the same place of it (`drawn_page`)."""

import math
import re
import time
from functools import lru_cache, wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    get_flashed_messages,
    redirect,
    request,
    url_for,
)
from flask_babel import force_locale, refresh
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from jinja2_fragments.flask import render_block
from limits import parse

from engagement.errors import error_page
from engagement.extensions import csrf, limiter
from engagement.htmx import is_htmx, redirect_to, render
from engagement.i18n import LANGUAGE_NAMES

from . import answers as answer_store
from . import repeat_pages, uploads
from .cascades import depends_on, filter_references
from .definition import UPLOAD_TYPES
from .invitations import form_token_matches
from .page_drawing import PAGE, drawn_autosave_reply, drawn_page, page_context
from .relevance import layout
from .repeats import RepeatError, css_id, find_repeat, parse_entry_key
from .respondent import (
    RoundClosed,
    Visit,
    open_visit,
    save_page,
    set_language,
    start,
    submit,
)
from .review import answered_sections
from .wording import entry_wording, filled, label_references, survey_words

bp = Blueprint("partner", __name__)
bp.add_app_template_filter(filled, "filled")
# A partner page is a few kilobytes of form fields: anything much larger is refused before it is read.
PARTNER_MAX_CONTENT_LENGTH = 64 * 1024
SAFE_RETURN = re.compile(r"/s/[A-Za-z0-9_-]{43}(/[A-Za-z0-9_/-]*)?")  # a partner page, nothing else


@bp.before_request
def refuse_large_bodies():
    """Werkzeug refuses a body over this (413) before parsing it, by its declared length or as it is read."""
    if request.endpoint == "partner.upload":  # a file and a few fields: the upload limit, with room for the form
        request.max_content_length = current_app.config["UPLOAD_MAX_BYTES"] + PARTNER_MAX_CONTENT_LENGTH
        return
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


@lru_cache(maxsize=8)
def _lookup_limit(text: str):
    return parse(text)


@limiter.request_filter
def _no_decorated_limits_here() -> bool:
    """Flask-Limiter resolves every request's decorated limits (a tenth of an autosave's time); the partner's pages
    have none (`count_refusals` is their limit), so it skips them. tests/security checks that none is added."""
    return request.blueprint == bp.name


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


@bp.errorhandler(RoundClosed)
def round_closed(error):
    g.language = error.language
    refresh()  # the locale may have been read already in this request
    return error_page(410, _("This survey round has closed. Thank you for your interest. For any question, write "
                             "to the Alliance 8.7 Secretariat: %(email)s.",
                             email=current_app.config["SECRETARIAT_EMAIL"]))


def _visit(token: str) -> Visit:
    visit = open_visit(token)
    g.language = visit.language
    refresh()  # the locale may have been read already in this request
    return visit


def _open_visit(token: str) -> Visit:
    """The visit of a link whose round still takes answers (410 Gone otherwise, in the partner's language)."""
    visit = _visit(token)
    if not visit.open:
        raise RoundClosed(visit.language)
    return visit


def _answering_visit(token: str) -> tuple[Visit, object]:
    """The visit of a partner who reads their answers (a screen, the review), and where to send them instead (None
    when nowhere): the receipt once submitted, even after the round closed; the welcome page before Start. 410 Gone
    when the round closed first."""
    visit = _visit(token)
    if visit.submitted:
        return visit, redirect(url_for("partner.receipt", token=token), 303)
    if not visit.open:
        raise RoundClosed(visit.language)
    if visit.response is None:
        return visit, redirect(url_for("partner.welcome", token=token), 303)
    return visit, None


def _screen_url(token: str, screen_id: str, **query) -> str:
    name, _slash, part = screen_id.partition("/")
    return url_for("partner.page", token=token, name=name, part=part or None, **query)


def _screens(visit: Visit, shown):
    return layout(visit.definition).screens.shown(shown)


def _requested_screen(visit: Visit, name: str):
    part = request.args.get("part", "")
    screen_id = f"{name}/{part}" if part not in ("", "1") else name
    screen = layout(visit.definition).screens.by_id.get(screen_id)
    if screen is None:
        abort(404)
    return screen


def _page(visit: Visit, screen, status: int = 200, errors=None, shown=None, posted=None, new: tuple = ()):
    """A screen's page: drawn once for every partner in the same place of it (see `drawn_page`), unless it shows
    this partner's mistakes."""
    shown = visit.shown() if shown is None else shown
    screens = _screens(visit, shown)
    index = next((i for i, s in enumerate(screens) if s is screen), 0)
    secretariat = current_app.config["SECRETARIAT_EMAIL"]
    if errors or get_flashed_messages():
        if screen.repeats:
            shown = set(shown) | _entries_shown(visit, screen)
        context = page_context(visit.definition, visit.language, screen, index, len(screens),
                                {**visit.values, **(posted or {})}, shown, errors or {}, new, visit.form_token,
                                secretariat, visit.preview is not None)
        return render(PAGE, status=status, **context)
    names = [n for q in screen.questions for n in ((q.name, q.other_name) if q.or_other else (q.name,))]
    names += [name for name in label_references(screen.questions) if name not in names]
    names += [name for name in filter_references(screen.questions) if name not in names]
    drawn = frozenset(q.name for q in screen.questions if q.name in shown)
    if screen.repeats:  # entries read their siblings and may read any answer: the page is drawn for all of them
        names = sorted(visit.values)
        drawn |= _entries_shown(visit, screen)
    head, tail = drawn_page(visit.version, visit.language, screen.id, index, len(screens),
                            tuple((name, visit.values[name]) for name in names if visit.values.get(name)),
                            drawn, new, secretariat, visit.preview is not None)
    return _varying(head + visit.form_token + tail, status)  # the token is URL-safe base64


def _varying(body: str, status: int):
    """A reply that is a full page or a fragment by the HX-Request header, so caches keep the two apart."""
    return current_app.response_class(body, status, {"Vary": "HX-Request"})


def _already_submitted():
    return error_page(409, _("This survey has been submitted already; answers can no longer change."))


def _entries_shown(visit: Visit, screen) -> set[str]:
    return repeat_pages.shown_names(screen.repeats, visit.definition.repeats(), visit.values, visit.partner)


@bp.get("/s/<token>")
def welcome(token):
    """The welcome page: who is invited, to what, until when, and how answers are used."""
    visit = _visit(token)
    if visit.submitted:
        return redirect(url_for("partner.receipt", token=token), 303)
    if not visit.open:
        raise RoundClosed(visit.language)
    return render("surveys/welcome.html", **_partner_context(visit, minutes=visit.definition.minutes_to_answer()))


def _partner_context(visit: Visit, **extra) -> dict:
    """What every partner page outside the survey's screens shows: the link's visit, its language and how to reach
    the Secretariat."""
    return dict(visit=visit, definition=visit.definition, lang=visit.language, preview=visit.preview is not None,
                languages=[(code, LANGUAGE_NAMES[code]) for code in visit.languages if code in LANGUAGE_NAMES],
                secretariat_email=current_app.config["SECRETARIAT_EMAIL"],
                t=lambda text: visit.definition.text(text, visit.language), **extra)


@bp.post("/s/<token>/start")
@partner_form
def begin(token):
    """Start, or continue where the partner left."""
    visit = _open_visit(token)
    if visit.submitted:
        return redirect_to(url_for("partner.receipt", token=token))
    response = start(visit)
    screens = _screens(visit, visit.shown())
    target = next((s for s in screens if s.id == response.current_page), screens[0] if screens else None)
    if target is None:
        return redirect_to(url_for("partner.review", token=token))
    return redirect_to(_screen_url(token, target.id))


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
    """One screen of the survey, with the partner's answers so far (and the questions that just appeared
    marked)."""
    visit, elsewhere = _answering_visit(token)
    if elsewhere:
        return elsewhere
    screen = _requested_screen(visit, name)
    shown = visit.shown()
    asked = request.args.get("new", "").split(".")
    new = tuple(q.name for q in screen.questions if q.name in asked and q.name in shown)
    return _page(visit, screen, shown=shown, new=new)


@bp.post("/s/<token>/page/<name>")
@partner_form
def save(token, name):
    """Save the screen (the form without JavaScript), then go where the partner asked: next, back, review. Questions
    that the answers just made appear on this screen are shown first, marked, before moving on."""
    visit = _open_visit(token)
    if visit.submitted:
        return redirect_to(url_for("partner.receipt", token=token))
    if visit.response is None:
        start(visit)
    screen = _requested_screen(visit, name)
    action = request.form.get("action", "save")
    forward = action in ("next", "review")
    before = visit.shown()
    before_values = dict(visit.values)
    changes, errors, shown = answer_store.validate_questions(
        visit.definition, screen.questions, request.form, visit.values, visit.partner, visit.language,
        require=forward, shown_before=before)
    new = tuple(q.name for q in screen.questions if q.editable and q.name in shown and q.name not in before
                and not (changes.get(q.name) or visit.values.get(q.name)))
    if screen.repeats:
        now = {name: value for name, value in {**visit.values, **changes}.items() if value is not None}
        entry_changes, entry_errors = repeat_pages.validate_entries(  # a count changed on this page counts here
            visit.definition, screen.repeats, request.form, now, visit.partner, visit.language, forward)
        changes.update(entry_changes)
        errors.update(entry_errors)
        if action.startswith(("add:", "remove:")):
            return _change_entries(visit, screen, action, changes, errors)
    changed_names = [n for n, v in changes.items() if (v or "") != (before_values.get(n) or "")]
    narrowed = [q.name for q in screen.questions if q.name in shown and depends_on(q, changed_names)]
    for unseen in narrowed:  # its options just changed: the partner has not seen them yet, so nothing is missing
        if not request.form.get(unseen):
            errors.pop(unseen, None)
    screens = _screens(visit, shown)
    index = next((i for i, s in enumerate(screens) if s is screen), None)
    destination = screen.id
    if forward and not errors and not new and not narrowed:
        if action == "review" or index is None or index + 1 >= len(screens):
            destination = None
        else:
            destination = screens[index + 1].id
    elif action == "back" and index:
        destination = screens[index - 1].id
    if not save_page(visit, changes, current_page=destination or screen.id, clean_hidden=destination != screen.id):
        return redirect_to(url_for("partner.receipt", token=token))  # submitted from another tab meanwhile
    if action.startswith("lang:"):
        set_language(visit, action.removeprefix("lang:"))
        return redirect_to(_screen_url(token, screen.id))
    if errors:
        return _page(visit, screen, 422, errors=errors, posted=dict(request.form.items()), new=new)
    if forward and new:
        return redirect_to(_screen_url(token, screen.id, new=".".join(new), _anchor="new-questions"))
    if forward and narrowed:
        flash(_("The options of a question on this page changed with your answer. Please check them, then "
                "continue."))
        return redirect_to(_screen_url(token, screen.id))
    if destination is None:
        return redirect_to(url_for("partner.review", token=token))
    return redirect_to(_screen_url(token, destination))


def _change_entries(visit: Visit, screen, action: str, changes: dict, errors: dict):
    """An "Add an entry" or "Remove this entry" button: the page's answers are saved (those without a problem),
    then the entry is added or removed, and the page comes back (with htmx, only the repeat's block is swapped).
    A refused request (an entry removed already, a full list) changes no entry and says why."""
    values = {**visit.values, **{k: v for k, v in changes.items() if v is not None}}
    try:
        name, entry_changes = repeat_pages.entry_action(visit.definition, action, values)
        changes.update(entry_changes)
    except RepeatError as refusal:
        name = action.split(":")[1] if ":" in action else ""
        known = find_repeat(visit.definition.repeats(), name, values) is not None
        flash(refusal.message, f"repeat:{name}" if known else "message")  # in that repeat's block only
    if not save_page(visit, changes, current_page=screen.id, clean_hidden=False):
        return redirect_to(url_for("partner.receipt", token=visit.token))
    if errors:
        return _page(visit, screen, 200 if is_htmx() else 422, errors=errors, posted=dict(request.form.items()))
    if is_htmx():
        return _page(visit, screen)
    return redirect_to(_screen_url(visit.token, screen.id, _anchor=css_id(name)))


@bp.post("/s/<token>/answer/<path:question_name>")
@partner_form
def autosave(token, question_name):
    """Save one answer as the partner goes (htmx); reply with its saved state and the questions it shows or hides."""
    visit = _open_visit(token)
    if visit.submitted:
        return _already_submitted()
    if parse_entry_key(question_name):
        return _autosave_entry(visit, question_name)
    question = visit.definition.question(question_name)
    if question is None or not question.editable:
        return error_page(404, _("There is no such question in this survey."))
    if visit.response is None:
        start(visit)
    screen = layout(visit.definition).screens.of_question[question.name]
    before = visit.shown()
    if question.name not in before:
        return error_page(422, _("This question is not shown for your answers, so it cannot be saved."))
    changes, errors, shown = answer_store.validate_questions(
        visit.definition, [question], request.form, visit.values, visit.partner, visit.language, require=False,
        shown_before=before)
    values_before = dict(visit.values)
    if not errors and not save_page(visit, changes, current_page=None, clean_hidden=False):
        return _already_submitted()
    status = 422 if errors else 200
    if not is_htmx():
        return _page(visit, screen, status, errors=errors, shown=shown)
    values = visit.values
    problems = tuple((name, str(error), bool(getattr(error, "pending", False))) for name, error in errors.items())
    changed = tuple((q.name, q.name in shown, values.get(q.name), values.get(q.other_name) if q.or_other else None)
                    for q in screen.questions if (q.name in before) != (q.name in shown)
                    or (q.calculation is not None and values_before.get(q.name) != values.get(q.name))
                    or (q.name in shown and depends_on(q, [question.name])))
    cascades = [q for q in screen.questions if q.name in shown and depends_on(q, [question.name])]
    read = tuple((name, values[name]) for name in filter_references(cascades) if values.get(name))
    return _varying(drawn_autosave_reply(visit.version, visit.language, screen.id, question.name, problems, changed,
                                         read), status)


def _autosave_entry(visit: Visit, key: str):
    """Autosave of one answer in a repeat's entry (`people[2]/age`): checked in the entry's context, saved through
    the same writer; the reply is the question's saved state or problem."""
    repeat_name, entry, name = parse_entry_key(key)
    repeat = find_repeat(visit.definition.repeats(), repeat_name, visit.values)
    question = repeat.question(name) if repeat is not None else None
    if question is None or not question.editable:
        return error_page(404, _("There is no such question in this survey."))
    if visit.response is None:
        start(visit)
    top = repeat
    while top.outer is not None:  # an inner entry is on its outermost repeat's screen
        top = top.outer[0]
    screen = next(s for s in layout(visit.definition).screens.all if any(r.name == top.name for r in s.repeats))
    before = _entries_shown(visit, screen)
    if key not in before:
        return error_page(422, _("This question is not shown for your answers, so it cannot be saved."))
    changes, errors = repeat_pages.validate_entries(visit.definition, [repeat], request.form, visit.values,
                                                    visit.partner, visit.language, False)
    errors = {k: v for k, v in errors.items() if k == key}
    changes = {k: v for k, v in changes.items() if k in (key, f"{repeat.name}#entries")}
    if not errors and not save_page(visit, changes, current_page=None, clean_hidden=False):
        return _already_submitted()
    status = 422 if errors else 200
    if not is_htmx():
        return _page(visit, screen, status, errors=errors)
    shown = _entries_shown(visit, screen)
    context = page_context(visit.definition, visit.language, screen, 0, 0, visit.values, shown, errors, (), "", "")
    drawn = entry_wording(context["words"], repeat, entry, repeat_pages.entry_questions(repeat, entry))
    # The entry's questions this answer showed or hid are redrawn in place, as on the page outside repeats.
    context.update(question=next(q for q in drawn if q.name == key), saved=not errors,
                   changed=[q for q in drawn if q.name != key and (q.name in before) != (q.name in shown)])
    with force_locale(visit.language):
        return _varying(render_block(PAGE, "autosave_result", **context), status)


@bp.get("/s/<token>/review")
def review(token):
    """Every answer on one page, with links back to change them, and the submit button."""
    visit, elsewhere = _answering_visit(token)
    if elsewhere:
        return elsewhere
    return render("surveys/review.html", **_review_context(visit, missing=_missing(visit)))


def _missing(visit: Visit) -> list:
    """The required questions still unanswered, in entries too; a preview keeps no files, so its required uploads
    never hold it back."""
    missing = repeat_pages.missing_questions(visit.definition, visit.values, visit.partner)
    return [q for q in missing if q.type not in UPLOAD_TYPES] if visit.preview is not None else missing


def _review_context(visit: Visit, missing=()) -> dict:
    """The review and the receipt: each shown page with its shown answers, a grid's rows under their question."""
    shown = visit.shown()
    screens = layout(visit.definition).screens
    shown_screens = screens.shown(shown)
    words = survey_words(visit.definition, visit.language)
    repeats = visit.definition.repeats()
    if repeats:
        shown = shown | repeat_pages.shown_names(repeats, repeats, visit.values, visit.partner)
    sections = answered_sections(visit.definition, shown, visit.values)
    repeat_pages.add_words(words, sections)

    def screen_of(name):
        entry = parse_entry_key(name)
        # an inner entry's page is its outermost repeat's
        return screens.of_question[name] if entry is None else screens.of_repeat[entry[0].split("[")[0]]

    return _partner_context(
        visit, sections=sections, values=visit.values, missing=list(missing),
        missing_names={q.name for q in missing}, words=words, file_url=lambda q: f"file/{q.name}",
        change_url=lambda q: _screen_url(visit.token, screen_of(q.name).id, _anchor=f"q-{q.name}"),
        entry_question_label=lambda key: repeat_pages.entry_question_label(visit.definition, visit.language,
                                                                           visit.values, key),
        last_screen_url=_screen_url(visit.token, shown_screens[-1].id) if shown_screens else None)


@bp.post("/s/<token>/submit")
@partner_form
def submit_response(token):
    """Submit the answers; a second submit (a double click, another tab) changes nothing and shows the receipt."""
    visit = _open_visit(token)
    if visit.response is None:
        return redirect_to(url_for("partner.welcome", token=token))
    if not visit.submitted:
        missing = _missing(visit)
        if missing:
            return render("surveys/review.html", status=422, **_review_context(visit, missing=missing))
        submit(visit)
    return redirect_to(url_for("partner.receipt", token=token))


@bp.get("/s/<token>/receipt")
def receipt(token):
    """Thank-you page with a printable, read-only copy of the submitted answers; it stays readable after the round
    closes."""
    visit = _visit(token)
    if not visit.submitted:
        if not visit.open:
            raise RoundClosed(visit.language)
        return redirect(url_for("partner.welcome", token=token), 303)
    return render("surveys/receipt.html", **_review_context(visit))


def _upload_question(visit: Visit, question_name: str):
    question = visit.definition.question(question_name)
    if question is None or question.type not in UPLOAD_TYPES:
        abort(404)
    return question


@bp.post("/s/<token>/upload/<question_name>")
@partner_form
def upload(token, question_name):
    """Upload (or replace) the file that answers a question, then back to its page; a refused file changes
    nothing and the page says why."""
    visit = _open_visit(token)
    if visit.submitted:
        return _already_submitted()
    question = _upload_question(visit, question_name)
    screen = layout(visit.definition).screens.of_question[question.name]
    if visit.preview is None:
        if visit.response is None:
            start(visit)
        if question.name not in visit.shown():
            return error_page(422, _("This question is not shown for your answers, so it cannot be saved."))
    sent = request.files.get(question.name)
    content = sent.read() if sent else b""
    try:
        checked = uploads.checked_upload(question, sent.filename if sent else "", content)
    except uploads.UploadRefused as refused:
        return _page(visit, screen, 422, errors={question.name: str(refused)})
    if visit.preview is not None:  # checked as a partner's file would be, then dropped: a preview stores no file
        return _page(visit, screen, 422, errors={question.name: _(
            "This file would be accepted from a partner, but a preview keeps no files: nothing was saved.")})
    if not uploads.keep_upload(visit.response.id, question, checked, content):
        return _already_submitted()
    return redirect_to(_screen_url(token, screen.id, _anchor=f"q-{question.name}"))


@bp.post("/s/<token>/upload/<question_name>/remove")
@partner_form
def remove_upload(token, question_name):
    """Remove the file that answers a question (a preview has none: back to the page)."""
    visit = _open_visit(token)
    question = _upload_question(visit, question_name)
    screen = layout(visit.definition).screens.of_question[question.name]
    if visit.submitted or (visit.preview is None and (visit.response is None
                                                      or not uploads.remove_upload(visit.response.id, question))):
        return _already_submitted()
    return redirect_to(_screen_url(token, screen.id, _anchor=f"q-{question.name}"))


@bp.get("/s/<token>/file/<question_name>")
def uploaded(token, question_name):
    """The partner's own file, from their own link only (another partner's link finds nothing: 404)."""
    visit = _visit(token)
    question = _upload_question(visit, question_name)
    found = uploads.uploaded_file(visit.response.id, question.name) if visit.response is not None else None
    if found is None:
        abort(404)
    return uploads.download(found)
