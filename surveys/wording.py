"""A survey's texts in one language, escaped once, as the partner pages and the review draw them."""

import re
from dataclasses import dataclass, field, replace

from markupsafe import Markup, escape

from .definition import Grid, Section
from .relevance import layout

TYPED = ("text", "integer", "decimal", "date", "time", "datetime")
_REFERENCE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}")


def label_references(questions) -> list[str]:
    """The names that labels and hints of these questions show with ${name}: a page that draws them depends on
    their values."""
    found = []
    for question in questions:
        for text in (*question.label.values(), *question.hint.values()):
            found += [name for name in _REFERENCE.findall(text) if name not in found]
    return found


def filled(text: Markup, values) -> Markup:
    """A label or hint with each ${name} replaced by that answer or computed value, escaped (XLSForm's output)."""
    if "${" not in text:
        return text
    return Markup(_REFERENCE.sub(lambda match: str(escape(values.get(match.group(1)) or "")), str(text)))


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


def survey_words(definition, language: str) -> Words:
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
    in_repeats, outer = [], [(r, r.name) for r in definition.repeats()]
    for repeat, path in outer:  # grows with inner repeats: `children[]/cartoons[]/name`
        in_repeats += [replace(q, name=f"{path}[]/{q.name}") for q in repeat.questions]
        outer += [(inner, f"{path}[]/{inner.name}") for inner in repeat.repeats]
    for question in [*definition.questions(), *in_repeats]:
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


def entry_wording(words: Words, repeat, entry: int, drawn: list) -> list:
    """The questions of one entry of a repeat (`drawn`, named `people[2]/age`), their wording added to `words` from
    the repeat's (built once per survey version and language)."""
    for question in drawn:
        if question.name not in words.questions:
            path = re.sub(r"\[\d+\]", "[]", repeat.name)
            base = words.questions[f"{path}[]/{question.name.rpartition('/')[2]}"]
            words.questions[question.name] = replace(
                base, described=(f"hint-{question.name} " if question.hint else "") + f"feedback-{question.name}")
    return drawn
