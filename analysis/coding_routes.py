"""Coding the open answers: the codebook of a free-text question and the workspace where analysts tick themes.

Analysts code as well as admins, so this blueprint asks for sign-in only (not the admin role of the others).
"""

from flask import Blueprint, abort, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from engagement.auth import require_signed_in
from engagement.database import run_write
from engagement.extensions import db
from engagement.htmx import is_htmx, redirect_to, render
from surveys.models import Answer, Invitation, Response, Round
from surveys.versions import definition_for

from .coding import proposals
from .coding_store import (
    codebook,
    comments,
    delete_theme,
    reviews,
    save_review,
    survey_of,
    theme_in_use,
)
from .models import CODERS, FIRST, SECOND, Theme

bp = Blueprint("coding", __name__, url_prefix="/secretariat")
bp.before_request(require_signed_in)
PAGE_SIZE = 20
PAGE = "analysis/coding.html"


class ThemeForm(FlaskForm):
    """A theme of the codebook: its name is unique within the question."""

    name = StringField(_l("Theme"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    keywords = TextAreaField(_l("Keywords (any language, separated by commas)"), validators=[Length(max=2000)])


class EmptyForm(FlaskForm):
    """A form with only its CSRF token: coding a comment, deleting a theme."""


def free_text_questions(round_: Round) -> list:
    definition = definition_for(round_.survey_version)
    return [q for q in definition.questions() if q.type == "text"], definition


def _question_or_404(round_: Round, question: str):
    questions, definition = free_text_questions(round_)
    found = next((q for q in questions if q.name == question), None)
    if found is None:
        abort(404)
    return found, definition


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def _coder() -> str:
    coder = request.values.get("coder", FIRST)
    return coder if coder in CODERS else FIRST


def workspace_context(round_: Round, question: str, page: int, coder: str, **extra) -> dict:
    """Everything the workspace page and its fragments render from."""
    found, definition = _question_or_404(round_, question)
    survey_id = survey_of(db.session, round_.id)
    themes = codebook(db.session, survey_id, question)
    everything = comments(db.session, round_.id, question, coder)
    saved_all = reviews(db.session, [c.response_id for c in everything], question, coder)
    pages = max(1, -(-len(everything) // PAGE_SIZE))
    page = min(page, pages)
    shown = everything[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    rules = [(t.id, t.keyword_list()) for t in themes]
    suggested = {c.response_id: dict(proposals(c.text, rules)) for c in shown
                 if c.response_id not in saved_all}
    return dict(round=round_, question=found, label=definition.text(found.label, definition.default_language),
                themes=themes, comments=shown, saved=saved_all, suggested=suggested, page=page, pages=pages,
                total=len(everything), coded=sum(1 for s in saved_all.values() if s[0]), reviewed=len(saved_all),
                coder=coder, second=coder == SECOND, form=extra.pop("form", None) or ThemeForm(formdata=None),
                action=EmptyForm(), **extra)


@bp.get("/rounds/<int:round_id>/coding")
def coding_questions(round_id: int):
    """The free-text questions of a round, each with how many of its comments are coded."""
    round_ = db.get_or_404(Round, round_id)
    questions, definition = free_text_questions(round_)
    rows = []
    for question in questions:
        found = comments(db.session, round_id, question.name)
        saved = reviews(db.session, [c.response_id for c in found], question.name, FIRST)
        rows.append((question, definition.text(question.label, definition.default_language), len(found),
                     sum(1 for s in saved.values() if s[0])))
    return render("analysis/coding_questions.html", round=round_, rows=rows)


@bp.get("/rounds/<int:round_id>/coding/<question>")
def workspace(round_id: int, question: str):
    """The comments of a question, a page at a time, with the themes ticked and the ones keywords suggest."""
    round_ = db.get_or_404(Round, round_id)
    return render(PAGE, block="comments", **workspace_context(round_, question, _page_number(), _coder()))


@bp.post("/rounds/<int:round_id>/coding/<question>/comments/<int:response_id>")
def code_comment(round_id: int, question: str, response_id: int):
    """Save the themes ticked for one comment (and whether it may be quoted): the comment again, or back to the page."""
    round_ = db.get_or_404(Round, round_id)
    _question_or_404(round_, question)
    coder = _coder()
    answer = db.session.scalar(db.select(Answer).join(Response).join(Invitation).where(
        Invitation.round_id == round_id, Answer.response_id == response_id, Answer.question == question))
    if answer is None or not answer.value.strip():
        abort(404)
    known = {t.id for t in codebook(db.session, survey_of(db.session, round_id), question)}
    try:
        chosen = {int(v) for v in request.form.getlist("theme")}
    except ValueError:
        chosen = {-1}
    page = _page_number()
    if not EmptyForm().validate_on_submit() or not chosen <= known:
        context = workspace_context(round_, question, page, coder,
                                    error=(response_id, _("Choose themes of this question's codebook.")))
        return _comment_or_page(context, response_id, 422)
    quotable = request.form.get("quotable") == "yes"
    run_write(lambda: save_review(db.session, response_id, question, chosen, quotable, coder, current_user.id))
    context = workspace_context(round_, question, page, coder, just_saved=response_id)
    if is_htmx():
        return _comment_or_page(context, response_id, 200)
    return redirect_to(url_for("coding.workspace", round_id=round_id, question=question, page=page,
                               **({"coder": coder} if coder != FIRST else {})) + f"#comment-{response_id}")


def _comment_or_page(context: dict, response_id: int, status: int):
    comment = next((c for c in context["comments"] if c.response_id == response_id), None)
    if comment is None or not is_htmx():
        return render(PAGE, status=status, **context)
    return render(PAGE, block="comment", status=status, comment=comment, oob=True, **context)


@bp.post("/rounds/<int:round_id>/coding/<question>/themes")
def add_theme(round_id: int, question: str):
    """Add a theme to the question's codebook; a name already used is refused."""
    round_ = db.get_or_404(Round, round_id)
    _question_or_404(round_, question)
    form = ThemeForm()
    survey_id = survey_of(db.session, round_id)
    if form.validate_on_submit() and _name_is_free(form, survey_id, question):
        run_write(lambda: db.session.add(Theme(survey_id=survey_id, question=question, name=form.name.data.strip(),
                                               description=form.description.data or "",
                                               keywords=form.keywords.data or "")))
        return redirect_to(url_for("coding.workspace", round_id=round_id, question=question) + "#codebook")
    return render(PAGE, block="codebook", status=422,
                  **workspace_context(round_, question, _page_number(), FIRST, form=form))


@bp.post("/rounds/<int:round_id>/coding/<question>/themes/<int:theme_id>")
def edit_theme(round_id: int, question: str, theme_id: int):
    """Rename a theme or change its description and keywords."""
    round_ = db.get_or_404(Round, round_id)
    theme = _theme_or_404(round_id, question, theme_id)
    form = ThemeForm()
    if form.validate_on_submit() and _name_is_free(form, theme.survey_id, question, theme.id):
        def change():
            theme.name = form.name.data.strip()
            theme.description = form.description.data or ""
            theme.keywords = form.keywords.data or ""
        run_write(change)
        return redirect_to(url_for("coding.workspace", round_id=round_id, question=question) + "#codebook")
    return render(PAGE, block="codebook", status=422, **workspace_context(
        round_, question, _page_number(), FIRST, editing=theme.id, edit_form=form))


@bp.post("/rounds/<int:round_id>/coding/<question>/themes/<int:theme_id>/delete")
def remove_theme(round_id: int, question: str, theme_id: int):
    """Delete a theme; one still in use asks first, and its comments move to another theme or lose it."""
    round_ = db.get_or_404(Round, round_id)
    theme = _theme_or_404(round_id, question, theme_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    in_use = theme_in_use(db.session, theme.id)
    others = [t for t in codebook(db.session, theme.survey_id, question) if t.id != theme.id]
    target = request.form.get("reassign_to", "")
    reassign = next((t for t in others if str(t.id) == target), None)
    if in_use and (request.form.get("confirm") != "yes" or (target and reassign is None)):
        return render("analysis/coding_delete.html", status=200 if not target else 422, round=round_,
                      question=question, theme=theme, in_use=in_use, others=others, form=EmptyForm())
    run_write(lambda: delete_theme(db.session, theme, reassign))
    return redirect_to(url_for("coding.workspace", round_id=round_id, question=question) + "#codebook")


def _theme_or_404(round_id: int, question: str, theme_id: int) -> Theme:
    theme = db.session.get(Theme, theme_id)
    if theme is None or theme.question != question or theme.survey_id != survey_of(db.session, round_id):
        abort(404)
    return theme


def _name_is_free(form: ThemeForm, survey_id: int, question: str, theme_id: int | None = None) -> bool:
    name = form.name.data.strip()
    taken = any(t.name.casefold() == name.casefold() and t.id != theme_id
                for t in codebook(db.session, survey_id, question))
    if taken:
        form.name.errors.append(_("A theme of this question is already called “%(name)s”.", name=name))
    return not taken
