"""A round's own invitation and reminder texts: placeholders checked before saving, then filled in for each contact.

A text is plain words with placeholders in braces ({contact}, {link}...). It is filled with str.format_map only
after `problems` found nothing: every field is one of PLACEHOLDERS, with no attribute, index, conversion or format
spec, so a text can never reach into Python objects. The HTML part is built from the same words, escaped, with the
link as a button; the plain-text part is the text itself. Without a text of its own a round sends the default
templates (templates/mail/), which the editor shows filled in with the placeholders.
"""

import string
from dataclasses import dataclass

from flask import render_template
from jinja2_fragments.flask import render_block
from markupsafe import Markup, escape

from engagement.extensions import db

from .models import MailText, Round
from .versions import definition_for

PLACEHOLDERS = ("organisation", "contact", "link", "closes", "secretariat")
SUBJECT_MAX = 200
BODY_MAX = 10000


@dataclass
class Problem:
    """What is wrong with a text: `code` names it for the page's message; `detail` is the offending placeholder."""

    field: str  # subject or body
    code: str  # missing, too_long, unknown, braces, no_link, link_in_subject
    detail: str = ""


def _fields(text: str) -> list[tuple[str, str | None, str | None]] | None:
    """(field name, conversion, spec) of each placeholder, or None when braces do not pair up."""
    try:
        return [(name, conversion, spec) for _literal, name, spec, conversion in string.Formatter().parse(text)
                if name is not None]
    except ValueError:
        return None


def problems(subject: str, body: str) -> list[Problem]:
    """Everything that keeps a subject and body from being saved (empty when they can be)."""
    found = []
    for field, text, limit in (("subject", subject, SUBJECT_MAX), ("body", body, BODY_MAX)):
        if not text.strip():
            found.append(Problem(field, "missing"))
            continue
        if len(text) > limit:
            found.append(Problem(field, "too_long", str(limit)))
            continue
        fields = _fields(text)
        if fields is None:
            found.append(Problem(field, "braces"))
            continue
        unknown = [name for name, conversion, spec in fields
                   if name not in PLACEHOLDERS or conversion or spec]
        if unknown:
            found.append(Problem(field, "unknown", "{" + (unknown[0] or "") + "}"))
        elif field == "body" and "link" not in {name for name, _c, _s in fields}:
            found.append(Problem(field, "no_link"))
        elif field == "subject" and "link" in {name for name, _c, _s in fields}:
            found.append(Problem(field, "link_in_subject"))
    return found


def saved_text(round_id: int, kind: str, language: str) -> MailText | None:
    return db.session.scalar(db.select(MailText).filter_by(round_id=round_id, kind=kind, language=language))


def _literal(text: str) -> str:
    """Text placed into a template as it is: its braces doubled, so they are not read as placeholders."""
    return text.replace("{", "{{").replace("}", "}}")


def default_text(round_: Round, kind: str, language: str) -> tuple[str, str]:
    """Today's default subject and body in `language`, with placeholders where a contact's details go.

    A reminder's default has two wordings (started or not); the editor starts from the one for partners who have
    not started, since an edited text is the same for everyone.
    """
    definition = definition_for(round_.survey_version)
    context = {
        "kind": kind, "lang": language, "contact_name": "{contact}", "organisation": "{organisation}",
        "link": "{link}", "closes_on": "{closes}", "secretariat_email": "{secretariat}", "started": False,
        "survey_title": _literal(definition.text(definition.title, language)),
        "minutes": definition.minutes_to_answer(),
    }
    template = f"mail/{kind}.{language}.txt"
    return (" ".join(render_block(template, "subject", **context).split()),
            render_block(template, "body", **context).strip())


def current_text(round_: Round, kind: str, language: str) -> tuple[str, str, bool]:
    """The subject and body a round sends in `language`, and whether they are the round's own."""
    saved = saved_text(round_.id, kind, language)
    if saved is not None:
        return saved.subject, saved.body, True
    return (*default_text(round_, kind, language), False)


def values_for(context: dict) -> dict[str, str]:
    """The placeholders' values from a mail's context (surveys.mailing.mail_context)."""
    return {"organisation": context["organisation"], "contact": context["contact_name"], "link": context["link"],
            "closes": context["closes_on"], "secretariat": context["secretariat_email"]}


def fill(text: str, values: dict[str, str]) -> str:
    """A checked text with its placeholders filled in (plain text)."""
    return text.format_map(values)


def _html_paragraph(paragraph: str, values: dict[str, str]) -> Markup:
    """One paragraph as HTML: its words escaped, line breaks kept, the link and the Secretariat's address clickable."""
    parts = []
    for literal, name, _spec, _conversion in string.Formatter().parse(paragraph):
        parts.append(escape(literal).replace("\n", Markup("<br>\n")))
        if name == "link":
            parts.append(Markup('<a href="{0}" style="color:#0b4f8a;word-break:break-all;">{0}</a>')
                         .format(values["link"]))
        elif name == "secretariat":
            parts.append(Markup('<a href="mailto:{0}" style="color:#0b4f8a;">{0}</a>').format(values["secretariat"]))
        elif name is not None:
            parts.append(escape(values[name]))
    return Markup("").join(parts)


def html_body(body: str, values: dict[str, str], language: str, title: str, button: str) -> str:
    """The HTML part of an edited text: paragraphs as written; a paragraph that is only {link} becomes a button."""
    blocks = []
    for paragraph in (part.strip("\n") for part in body.replace("\r\n", "\n").split("\n\n")):
        if not paragraph.strip():
            continue
        if paragraph.strip() == "{link}":
            blocks.append(("button", values["link"]))
        else:
            blocks.append(("text", _html_paragraph(paragraph, values)))
    return render_template("mail/edited.html", lang=language, survey_title=title, blocks=blocks, button=button)


def compose(subject: str, body: str, context: dict, button: str) -> tuple[str, str, str]:
    """Subject, plain text and HTML of an edited text for the contact the context describes."""
    values = values_for(context)
    return (fill(subject, values), fill(body, values),
            html_body(body, values, context["lang"], context["survey_title"], button))
