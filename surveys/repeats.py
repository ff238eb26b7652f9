"""Repeats (XLSForm `begin repeat` / `end repeat`): a block of questions the partner answers once per entry.

Entries are stored as ordinary answers, so they go through the same upsert and writers' queue as any other answer
and need no new table:

- `<repeat>#entries` holds the ids of the entries that exist, in order, space-separated ("1 2 4"). Ids are stable:
  removing entry 2 never renumbers entry 4, so a remove posted twice (a double click, a replayed request) finds
  entry 2 gone and changes nothing instead of removing the next one.
- `<repeat>[<id>]/<name>` holds the answer to question `name` in that entry.
- A repeat inside a repeat is stored under its outer entry: `children[1]/cartoons#entries`,
  `children[1]/cartoons[2]/name` (inner_repeat names it by that path), so removing outer entry 1 removes them too.

The operations here are pure: they read a mapping of stored answers and return the changes to write
(name -> value, or None to delete), or raise RepeatError with a message for the partner. The caller writes the
changes with the usual answer upsert.
"""

from __future__ import annotations

import math
import re
from collections import ChainMap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .expressions.nodesets import POSITION

if TYPE_CHECKING:
    from .definition import Question, Text
    from .expressions import Expression

MAX_ENTRIES = 200  # an open-ended repeat still has a ceiling, so one partner cannot grow a response without end
_NOT_A_NAME = re.compile(r"[\[\]#/]")
_KEY = re.compile(r"^(?P<repeat>[^\[\]#/]+(?:\[\d+\]/[^\[\]#/]+)*)\[(?P<entry>\d+)\]/(?P<name>[^\[\]#/]+)$")


@dataclass
class Repeat:
    """A repeat group: its questions are answered once per entry; names are unique within the repeat only."""

    name: str
    label: Text = field(default_factory=dict)
    hint: Text = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)
    relevant: Expression | None = None
    relevant_source: str = ""
    fixed_count: int | None = None  # repeat_count as a whole number: exactly this many entries
    count_expression: Expression | None = None  # repeat_count as an expression, worked out from the answers
    count_source: str = ""
    row: int = 0
    conditions: list[Expression] = field(default_factory=list)  # relevance of the groups around it
    repeats: list[Repeat] = field(default_factory=list)  # repeats inside this one, answered per entry of it
    outer: tuple[Repeat, int] | None = field(default=None, repr=False, compare=False)  # set by inner_repeat

    def question(self, name: str) -> Question | None:
        return next((q for q in self.questions if q.name == name), None)


def _(text: str, **values) -> str:
    """gettext, imported when a message is made: the storage helpers stay free of Flask for the analysis."""
    from flask_babel import gettext

    return gettext(text, **values)


class RepeatError(ValueError):
    """A request on entries that cannot be carried out; nothing was changed. `message` is shown to the partner."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def entries_key(repeat: str) -> str:
    return f"{repeat}#entries"


def entry_key(repeat: str, entry: int, name: str) -> str:
    return f"{repeat}[{entry}]/{name}"


def parse_entry_key(key: str) -> tuple[str, int, str] | None:
    """(repeat, entry id, question name) of a stored entry answer's name, or None for an ordinary answer; the repeat
    of an inner entry is its path (`children[1]/cartoons`)."""
    match = _KEY.match(key)
    if not match:
        return None
    return match["repeat"], int(match["entry"]), match["name"]


def entry_ids(answers: Mapping[str, str | None], repeat: str) -> list[int]:
    """The ids of the entries that exist, in the order they were added."""
    text = answers.get(entries_key(repeat)) or ""
    return [int(part) for part in text.split() if part.isdigit()]


def inner_repeat(repeat: Repeat, entry: int, inner: Repeat) -> Repeat:
    """`inner` (one of repeat.repeats) as held by one entry of `repeat`: named by its path (`children[1]/cartoons`),
    so every storage function here works on it unchanged, and its expressions read that outer entry."""
    return replace(inner, name=f"{repeat.name}[{entry}]/{inner.name}", outer=(repeat, entry))


def css_id(path: str) -> str:
    """The page id of a repeat's block: `r-people`, `r-children-1-cartoons` (a CSS selector cannot hold [ ] /)."""
    return "r-" + re.sub(r"[\[\]/]+", "-", path).strip("-")


def find_repeat(repeats: list[Repeat], path: str, answers: Mapping[str, str | None]) -> Repeat | None:
    """The repeat a stored path names (`people`, `children[1]/cartoons`), or None when it names no repeat of the form
    or an outer entry that does not exist (removed already): nothing is then added under it."""
    parts = re.findall(r"([^\[\]/#]+)(?:\[(\d+)\])?", path)
    if "/".join(name + (f"[{entry}]" if entry else "") for name, entry in parts) != path:
        return None
    found, choices = None, repeats
    for index, (name, entry) in enumerate(parts):
        found = next((r for r in choices if r.name.rpartition("/")[2] == name), None)
        if found is None or (entry == "") != (index == len(parts) - 1):
            return None
        if entry:
            if int(entry) not in entry_ids(answers, found.name):
                return None
            choices = [inner_repeat(found, int(entry), inner) for inner in found.repeats]
    return found


def limit(repeat: Repeat, answers: Mapping[str, str | None]) -> int:
    """How many entries the repeat may hold: repeat_count when given (read in the outer entry for an inner
    repeat), else MAX_ENTRIES."""
    if repeat.fixed_count is not None:
        return repeat.fixed_count
    if repeat.count_expression is not None:
        from .expressions import as_number

        if repeat.outer is not None:
            answers = entry_context(answers, *repeat.outer)
        number = as_number(repeat.count_expression.value(answers))
        if math.isnan(number) or number < 0:  # NaN (not answered yet) or negative: no entries
            return 0
        return min(int(number), MAX_ENTRIES)
    return MAX_ENTRIES


def add_entry(repeat: Repeat, answers: Mapping[str, str | None]) -> tuple[int, dict[str, str | None]]:
    """(id of the new entry, changes) for adding an entry; refused beyond repeat_count."""
    ids = entry_ids(answers, repeat.name)
    allowed = limit(repeat, answers)
    if len(ids) >= allowed:
        raise RepeatError(_("No more entries can be added: this list holds at most %(n)d.", n=allowed))
    new = max(ids, default=0) + 1
    return new, {entries_key(repeat.name): " ".join(str(i) for i in [*ids, new])}


def remove_entry(repeat: Repeat, answers: Mapping[str, str | None], entry: int) -> dict[str, str | None]:
    """Changes for removing one entry and its answers; an entry that does not exist (already removed) is refused."""
    ids = entry_ids(answers, repeat.name)
    if entry not in ids:
        raise RepeatError(
            _("Entry %(n)d does not exist (it may have been removed already); nothing was changed.", n=entry)
        )
    changes: dict[str, str | None] = {entries_key(repeat.name): " ".join(str(i) for i in ids if i != entry)}
    prefix = f"{repeat.name}[{entry}]/"
    for key in answers:
        if key.startswith(prefix):
            changes[key] = None
    return changes


def save_entry(
    repeat: Repeat, answers: Mapping[str, str | None], entry: int, values: Mapping[str, str]
) -> dict[str, str | None]:
    """Changes for saving answers to one entry; an unknown entry or a question not in the repeat is refused."""
    ids = entry_ids(answers, repeat.name)
    if entry not in ids:
        if entry > limit(repeat, answers):
            raise RepeatError(
                _("Entry %(n)d is beyond the %(limit)d entries this list holds; nothing was changed.",
                  n=entry, limit=limit(repeat, answers))
            )
        raise RepeatError(_("Entry %(n)d does not exist; nothing was changed.", n=entry))
    unknown = sorted(name for name in values if repeat.question(name) is None)
    if unknown:
        raise RepeatError(
            _("'%(name)s' is not a question of '%(repeat)s'; nothing was changed.", name=unknown[0],
              repeat=repeat.name)
        )
    return {entry_key(repeat.name, entry, name): value for name, value in values.items()}


def entry_values(answers: Mapping[str, str | None], repeat: str, entry: int) -> dict[str, str | None]:
    """One entry's answers by question name (its inner repeats' entries, `cartoons[2]/name`, are not among them)."""
    prefix = f"{repeat}[{entry}]/"
    return {key[len(prefix):]: value for key, value in answers.items()
            if key.startswith(prefix) and not _NOT_A_NAME.search(key[len(prefix):])}


def entry_context(answers: Mapping[str, str | None], repeat: Repeat, entry: int) -> Mapping[str, str | None]:
    """The answers an expression inside an entry reads: `${name}` is the same entry's sibling first (unanswered
    siblings read as empty, never as a same-named question outside), then the rest of the form."""
    stored = answers.answers if isinstance(answers, RepeatAnswers) else answers
    own = {q.name: "" for q in repeat.questions}
    own.update({k: v for k, v in entry_values(stored, repeat.name, entry).items() if v is not None})
    ids = entry_ids(stored, repeat.name)
    if entry in ids:
        own[POSITION] = str(ids.index(entry) + 1)
    if repeat.repeats:  # the repeats inside this entry: `count(${cartoons})` in a child's entry is its cartoons
        held = RepeatAnswers(stored, repeat.repeats, within=f"{repeat.name}[{entry}]/")
        for name in [*held.repeats, *held.inner]:
            own.setdefault(name, held[name])
    if repeat.outer is not None:  # an inner entry: its siblings, then its outer entry's, then the rest
        return ChainMap(own, entry_context(answers, *repeat.outer))
    return ChainMap(own, answers if isinstance(answers, RepeatAnswers) else RepeatAnswers(answers, [repeat]))


def entries(answers: Mapping[str, str | None], repeat: str) -> list[tuple[int, dict[str, str | None]]]:
    """(id, answers) of every entry, in order: for the review page, the receipt, the exports and the report."""
    return [(entry, entry_values(answers, repeat, entry)) for entry in entry_ids(answers, repeat)]


def missing_required(repeat: Repeat, answers: Mapping[str, str | None]) -> list[tuple[int, str]]:
    """(entry id, question name) of every required question left empty in an entry (relevance respected), and
    (0, "") when a fixed repeat_count is not met."""
    missing: list[tuple[int, str]] = []
    ids = entry_ids(answers, repeat.name)
    for entry in ids:
        context = entry_context(answers, repeat, entry)
        for question in repeat.questions:
            if not question.editable:
                continue
            if question.relevant is not None and not question.relevant.evaluate(context):
                continue
            if question.is_required(context) and not (context.get(question.name) or "").strip():
                missing.append((entry, question.name))
    if repeat.fixed_count is not None and len(ids) < repeat.fixed_count:
        missing.append((0, ""))
    return missing


def nested_names(repeat: Repeat, within: tuple[str, ...] = ()) -> Iterator[tuple[str, tuple[str, ...], str | None]]:
    """(name, the repeat's steps from the top, question name or None) of a repeat, its questions and every repeat
    inside it: what `${name}` outside its entries can read."""
    steps = (*within, repeat.name)
    yield repeat.name, steps, None
    for question in repeat.questions:
        yield question.name, steps, question.name
    for inner in repeat.repeats:
        yield from nested_names(inner, steps)


class RepeatAnswers(Mapping):
    """Stored answers as expressions outside an entry read them: a repeat's name or a question inside a repeat is a
    node-set of every entry (so `count(${children})`, `sum(${age})` and `indexed-repeat(${name}, ${children}, 2)`
    work), a repeat inside a repeat's of every entry of every outer entry (`count(${cartoons})`: all the children's
    cartoons); other names read the stored answer. Inside an entry, entry_context puts the entry's own siblings
    first. A name used at several depths reads the outermost."""

    def __init__(self, answers: Mapping[str, str | None], repeats: list[Repeat], within: str = ""):
        self.answers, self.within = answers, within  # within: the entry holding `repeats` (`children[1]/`)
        self.repeats, self.inner = {}, {}
        found = [item for repeat in repeats for item in nested_names(repeat)]
        for name, steps, question in sorted(found, key=lambda item: len(item[1])):  # the outermost first
            if question is None:
                self.repeats.setdefault(name, steps)
            else:
                self.inner.setdefault(name, steps)

    def _paths(self, steps: tuple[str, ...]) -> list[str]:
        """The stored paths of a repeat in every outer entry: `children[1]/cartoons`, `children[3]/cartoons`."""
        paths = [self.within + steps[0]]
        for step in steps[1:]:
            paths = [f"{path}[{entry}]/{step}" for path in paths for entry in entry_ids(self.answers, path)]
        return paths

    def __getitem__(self, name):
        from .expressions.nodesets import NodeSet

        if name in self.repeats:
            return NodeSet(str(entry) for path in self._paths(self.repeats[name])
                           for entry in entry_ids(self.answers, path))
        if name in self.inner and name not in self.answers:
            return NodeSet(self.answers.get(entry_key(path, entry, name)) for path in self._paths(self.inner[name])
                           for entry in entry_ids(self.answers, path))
        return self.answers[name]

    def __iter__(self):
        return iter({**dict.fromkeys(self.answers), **dict.fromkeys(self.repeats), **dict.fromkeys(self.inner)})

    def __len__(self):
        return sum(1 for _ in self)
