"""Repeats on the partner pages: the entries a screen shows, their answers read and checked from a posted form, and
the "Add an entry" / "Remove this entry" buttons (surveys.repeats holds the storage and the refusals).

An entry's question is drawn and posted under its stored name (`people[2]/age`), so the page's question macro, its
errors and its autosave work on it unchanged; its relevance, constraint and required are read in the entry's
context (the entry's siblings first, then the rest of the form).

A repeat with a repeat_count (a number or an expression) shows exactly that many entries and no add/remove buttons;
its entries are numbered 1..n and `<repeat>#entries` is written when its answers are saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from . import answers as answer_store
from .definition import walk_repeats
from .repeats import (
    MAX_ENTRIES,
    Repeat,
    RepeatAnswers,
    RepeatError,
    add_entry,
    css_id,
    entries_key,
    entry_context,
    entry_ids,
    entry_key,
    find_repeat,
    inner_repeat,
    limit,
    parse_entry_key,
    remove_entry,
)


def screen_repeats(screen) -> list[Repeat]:
    return list(walk_repeats(screen.items))


def counted(repeat: Repeat) -> bool:
    """Whether repeat_count sets how many entries there are (then the partner neither adds nor removes)."""
    return repeat.fixed_count is not None or repeat.count_expression is not None


def _context(values: Mapping[str, str | None], partner: Mapping[str, str], repeats: list[Repeat]):
    return RepeatAnswers({**partner, **{k: v for k, v in values.items() if v}}, repeats)


def shown_ids(repeat: Repeat, values: Mapping[str, str | None], partner: Mapping[str, str] | None = None,
              repeats: list[Repeat] | None = None) -> list[int]:
    """The entries drawn: 1..repeat_count for a counted repeat, else the entries that exist."""
    if counted(repeat):
        return list(range(1, limit(repeat, _context(values, partner or {}, repeats or [repeat])) + 1))
    return entry_ids(values, repeat.name)


def repeat_shown(repeat: Repeat, values, partner, repeats) -> bool:
    context = _context(values, partner, repeats)
    conditions = [*repeat.conditions, *([repeat.relevant] if repeat.relevant is not None else [])]
    return all(condition.evaluate(context) for condition in conditions)


def _question_shown(question, context) -> bool:
    conditions = [*question.conditions, *([question.relevant] if question.relevant is not None else [])]
    return all(condition.evaluate(context) for condition in conditions)


def entry_questions(repeat: Repeat, entry: int) -> list:
    """The repeat's questions as drawn in one entry: named by their stored name."""
    return [replace(q, name=entry_key(repeat.name, entry, q.name)) for q in repeat.questions]


def shown_names(repeats: list[Repeat], all_repeats: list[Repeat], values, partner) -> set[str]:
    """The stored names of the entry questions shown (their relevance read in each entry)."""
    return {key for _repeat, _entry, question, key, _inside in _shown_entry_questions(repeats, all_repeats, values,
                                                                                    partner) if question.displayed}


def with_inner(repeats: list[Repeat], values, partner, all_repeats: list[Repeat]) -> list[Repeat]:
    """The repeats, then for each of their entries its inner repeats (named by path, `children[1]/cartoons`)."""
    found = list(repeats)
    for repeat in found:  # grows as inner repeats are found, so every depth is reached
        for entry in shown_ids(repeat, values, partner, all_repeats):
            found += [inner_repeat(repeat, entry, inner) for inner in repeat.repeats]
    return found


def _shown_entry_questions(repeats: list[Repeat], all_repeats: list[Repeat], values, partner):
    """(repeat, entry, question, stored name, the entry's context) of every question shown in an entry of a shown
    repeat (inner repeats included): its relevance read inside the entry."""
    context = _context(values, partner, all_repeats)
    for repeat in with_inner(repeats, values, partner, all_repeats):
        if not repeat_shown(repeat, values, partner, all_repeats):
            continue
        for entry in shown_ids(repeat, values, partner, all_repeats):
            inside = entry_context(context, repeat, entry)
            for question in repeat.questions:
                if _question_shown(question, inside):
                    yield repeat, entry, question, entry_key(repeat.name, entry, question.name), inside


def hidden_entry_answers(definition, values: Mapping[str, str], partner: Mapping[str, str]) -> list[str]:
    """Stored entry answers no longer shown: every entry of a hidden repeat, an entry past its repeat_count, an answer
    its entry's relevance now hides. Dropped with the other hidden answers when a page is left or the response
    submitted, so neither the review, the exports nor the report count them."""
    repeats = definition.repeats()
    if not repeats:
        return []
    kept = set()
    for _repeat, _entry, question, key, _inside in _shown_entry_questions(repeats, repeats, values, partner):
        kept |= {key, key.removesuffix(question.name) + question.other_name}
    hidden_repeats = {r.name for r in repeats if not repeat_shown(r, values, partner, repeats)}
    names = {r.name for r in repeats}

    def outermost(name: str) -> str:  # children[1]/cartoons[2]/name and children[1]/cartoons#entries: children
        return name.split("[", 1)[0].removesuffix("#entries")

    return [name for name in values
            if (parse_entry_key(name) and outermost(name) in names and name not in kept)
            or name.endswith("#entries") and outermost(name) in hidden_repeats]


def validate_entries(definition, repeats: list[Repeat], form: MultiDict, stored: Mapping[str, str],
                     partner: Mapping[str, str], language: str, require: bool):
    """(changes, errors) for the entries' answers posted with a page, like answers.validate_questions; errors are
    keyed by the stored name (`people[2]/age`)."""
    all_repeats = definition.repeats()
    values = dict(stored)
    changes: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for repeat in with_inner(repeats, values, partner, all_repeats):
        ids = shown_ids(repeat, values, partner, all_repeats)
        if counted(repeat) and " ".join(map(str, ids)) != (stored.get(entries_key(repeat.name)) or ""):
            changes[entries_key(repeat.name)] = " ".join(map(str, ids)) or None
        posted = {}
        for entry in ids:
            for question, drawn in zip(repeat.questions, entry_questions(repeat, entry), strict=True):
                if not question.editable:
                    continue
                raw, _other = answer_store.read_field(drawn, form)
                if raw is not None:
                    posted[drawn.name] = raw
                    values[drawn.name] = raw.strip()
        if not repeat_shown(repeat, values, partner, all_repeats):
            continue
        context = _context(values, partner, all_repeats)
        for entry in ids:
            inside = entry_context(context, repeat, entry)
            for question in repeat.questions:
                key = entry_key(repeat.name, entry, question.name)
                if not question.editable or not _question_shown(question, inside):
                    continue
                if key not in posted:
                    if require and not stored.get(key) and question.is_required(inside):
                        errors[key] = answer_store.text(definition, question.required_message, language) or \
                            _("Please answer this question.")
                    continue
                change, error = answer_store.validate(question, posted[key], None, inside, definition, language,
                                                      require)
                if error:
                    errors[key] = error
                else:
                    changes.update({entry_key(repeat.name, entry, name): value for name, value in change.items()
                                    if name == question.name})
    return changes, errors


def missing(definition, values: Mapping[str, str], partner: Mapping[str, str]) -> list[tuple[Repeat, int, str]]:
    """(repeat, entry, stored name) of every required entry answer left empty in a shown repeat (for submitting)."""
    all_repeats = definition.repeats()
    return [(repeat, entry, key) for repeat, entry, question, key, inside
            in _shown_entry_questions(all_repeats, all_repeats, values, partner)
            if question.editable and not values.get(key) and question.is_required(inside)]


def entry_action(definition, action: str, values: Mapping[str, str]) -> tuple[str, dict[str, str | None]]:
    """(repeat name, changes) for an "add:<repeat>" or "remove:<repeat>:<entry>" button; RepeatError (nothing
    changed) for a repeat that takes no such button, an entry already removed, or a full list."""
    kind, _sep, rest = action.partition(":")
    name, _sep, number = rest.partition(":")
    repeat = find_repeat(definition.repeats(), name, values)
    if repeat is None or counted(repeat) or kind not in ("add", "remove"):
        raise RepeatError(_("This list cannot be changed here; nothing was changed."))
    context = _context(values, {}, definition.repeats())
    if kind == "add":
        return name, add_entry(repeat, context.answers)[1]
    if not number.isdigit():
        raise RepeatError(_("This list cannot be changed here; nothing was changed."))
    return name, remove_entry(repeat, values, int(number))


def entry_names(definition, values: Mapping[str, str]) -> list[str]:
    """The stored names that repeats on a page read: every entry answer and entries list."""
    repeats = {r.name for r in definition.repeats()}
    return [name for name in values if re.split(r"[\[#]", name)[0] in repeats and (
        parse_entry_key(name) or name.endswith("#entries"))]


def can_add(repeat: Repeat, values: Mapping[str, str]) -> bool:
    return not counted(repeat) and len(entry_ids(values, repeat.name)) < min(limit(repeat, values), MAX_ENTRIES)


def missing_questions(definition, values: Mapping[str, str], partner: Mapping[str, str]) -> list:
    """The required questions still unanswered (answers.missing_required), then those in entries (named by their
    stored name): both block submission."""
    found = answer_store.missing_required(definition, values, partner)
    for repeat, entry, key in missing(definition, values, partner):
        found += [q for q in entry_questions(repeat, entry) if q.name == key]
    return found


def entry_question_label(definition, language: str, values: Mapping[str, str], key: str) -> str | None:
    """An entry's question as the partner sees it ("Age (Person 2)"), for a message that names it; None for a name
    that is no entry's answer."""
    parsed = parse_entry_key(key)
    repeat = next((r for r in definition.repeats() if parsed and r.name == parsed[0]), None)
    question = repeat.question(parsed[2]) if repeat else None
    if question is None:
        return None
    ids = shown_ids(repeat, values, {}, definition.repeats())
    position = ids.index(parsed[1]) + 1 if parsed[1] in ids else parsed[1]
    entry = f"{definition.text(repeat.label, language) or repeat.name} {position}"
    return f"{definition.text(question.label, language) or question.name} ({entry})"


def page_context(definition, language: str, values: Mapping[str, str]) -> dict:
    """What the page's repeat blocks are drawn with."""
    from .wording import entry_wording, survey_words

    repeats = definition.repeats()
    if not repeats:
        return {}
    words = survey_words(definition, language)
    return {"entry_ids_of": lambda r: shown_ids(r, values, {}, repeats),
            "entry_qs": lambda r, entry: entry_wording(words, r, entry, entry_questions(r, entry)),
            "counted": counted, "can_add": lambda r: can_add(r, values), "css_id": css_id,
            "inner_of": lambda r, entry: [inner_repeat(r, entry, inner) for inner in r.repeats]}


def add_words(words, sections) -> None:
    """The wording of the entries' questions listed on the review and the receipt (inner entries included)."""
    from .review import AnsweredRepeat
    from .wording import entry_wording

    def add(item):
        for entry, drawn in item.items:
            entry_wording(words, item.repeat, entry, drawn)
            for inner in item.inner.get(entry, []):
                add(inner)

    for section in sections:
        for item in section.entries:
            if isinstance(item, AnsweredRepeat):
                add(item)
