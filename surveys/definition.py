"""A survey as the application uses it: pages of questions and grids, built from XLSForm sheets.

Everything the respondent pages, the validation and the analysis need comes from here, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .expressions import Expression

Text = dict[str, str]  # language code -> text

SELECT_TYPES = ("select_one", "select_multiple")
CHOICE_TYPES = ("select_one", "select_multiple", "rank")
UPLOAD_TYPES = ("image", "file")  # answered by uploading a file (surveys.uploads); the answer is its name
ANSWERABLE_TYPES = ("select_one", "select_multiple", "text", "integer", "decimal", "date", "range", "rank",
                    "geopoint", "time", "datetime", "acknowledge", *UPLOAD_TYPES)  # a geopoint is stored "latitude longitude"
QUESTION_TYPES = ANSWERABLE_TYPES + ("note", "calculate")
OTHER = "other"  # the choice code that or_other adds; its text is saved as "<question>_other"


def pick(text: Text, language: str, default_language: str) -> str:
    """The text in the partner's language, else in the survey's default language, else any."""
    if not text:
        return ""
    return text.get(language) or text.get(default_language) or next(iter(text.values()), "")


@dataclass
class Choice:
    name: str
    label: Text
    columns: dict[str, str] = field(default_factory=dict)  # the other columns of its row, read by choice filters


@dataclass
class Question:
    name: str
    type: str  # one of QUESTION_TYPES
    label: Text = field(default_factory=dict)
    hint: Text = field(default_factory=dict)
    list_name: str | None = None
    choices: list[Choice] = field(default_factory=list)
    or_other: bool = False
    required: bool = False  # always required
    required_when: Expression | None = None  # conditional required: required while this holds
    required_source: str = ""
    required_message: Text = field(default_factory=dict)
    relevant: Expression | None = None  # this question's own condition
    relevant_source: str = ""
    constraint: Expression | None = None
    constraint_source: str = ""
    constraint_message: Text = field(default_factory=dict)
    calculation: Expression | None = None  # computed by the server from other answers, never typed by the partner
    read_only: bool = False
    default_expression: Expression | None = None  # a default such as today(), worked out when the partner starts
    appearance: str = ""
    choice_filter: Expression | None = None  # which choices are offered, given other answers (surveys.cascades)
    default: str | None = None  # may be "${partner_category}" and the like (see docs/XLSFORM.md)
    parameters: dict[str, str] = field(default_factory=dict)
    row: int = 0  # row in the survey sheet, for messages
    page: str = ""  # name of the page (top-level group) that holds it
    grid: str | None = None  # name of the table-list group that holds it, if any
    conditions: list[Expression] = field(default_factory=list)  # relevance of enclosing groups, outermost first

    def is_required(self, context) -> bool:
        """Whether an answer is needed given the other answers (`required` as yes, or an expression that holds)."""
        return self.required or (self.required_when is not None and self.required_when.evaluate(context))

    @property
    def answerable(self) -> bool:
        """Holds a stored value (an answer or a computed one): exported and analysed."""
        return self.type != "note"

    @property
    def editable(self) -> bool:
        """The partner gives this value (not a note, not a calculation, not read-only)."""
        return self.answerable and self.calculation is None and not self.read_only

    @property
    def displayed(self) -> bool:
        """Drawn on the page and the review: a calculation only where it has a label."""
        return self.type != "calculate" or bool(self.label)

    @property
    def other_name(self) -> str:
        return f"{self.name}_other"

    @property
    def range_bounds(self) -> tuple[float, float, float]:
        """start, end, step of a range question (XLSForm defaults 1, 10, 1)."""
        return (
            float(self.parameters.get("start", 1)),
            float(self.parameters.get("end", 10)),
            float(self.parameters.get("step", 1)),
        )

    @property
    def rank_positions(self) -> int:
        """How many positions a ranking fills: every option, or the first N with `parameters: top=N`."""
        top = self.parameters.get("top", "")
        return int(top) if top.isdigit() and 1 <= int(top) <= len(self.choices) else len(self.choices)

    def choice_names(self) -> list[str]:
        return [c.name for c in self.choices]


@dataclass
class Group:
    """What every group of the survey sheet has: a name, texts, a relevance and the row it starts at."""

    name: str
    label: Text = field(default_factory=dict)
    hint: Text = field(default_factory=dict)
    relevant: Expression | None = None
    relevant_source: str = ""
    row: int = 0


@dataclass
class Grid(Group):
    """A table-list group: questions sharing one choice list, shown as one table (rows = questions)."""

    questions: list[Question] = field(default_factory=list)

    @property
    def choices(self) -> list[Choice]:
        return self.questions[0].choices if self.questions else []


@dataclass
class Section(Group):
    """A nested (non table-list) group inside a page, shown as a fieldset with its own heading."""

    items: list[Question | Grid | Section] = field(default_factory=list)


Item = Question | Grid | Section  # or a surveys.repeats.Repeat (its questions are answered once per entry)


@dataclass
class Page(Group):
    """A top-level group (or a run of questions outside any group): one screen of the survey."""

    items: list[Item] = field(default_factory=list)

    def questions(self) -> list[Question]:
        return list(walk_questions(self.items))

    def repeats(self) -> list:
        return list(walk_repeats(self.items))


def walk_questions(items):
    """The questions answered once per response: a repeat's questions are answered per entry and left out."""
    for item in items:
        if isinstance(item, Question):
            yield item
        elif isinstance(item, Grid):
            yield from item.questions
        elif isinstance(item, Section):
            yield from walk_questions(item.items)


def walk_repeats(items):
    for item in items:
        if isinstance(item, Section):
            yield from walk_repeats(item.items)
        elif not isinstance(item, Question | Grid):
            yield item


@dataclass
class SurveyDefinition:
    form_id: str
    title: Text
    version: str
    default_language: str
    languages: list[str]
    pages: list[Page]
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self):
        # A definition does not change once built (it is cached per process): its questions and repeats are
        # listed once, not on every partner request.
        self._questions = {q.name: q for page in self.pages for q in page.questions()}
        self._repeats = [repeat for page in self.pages for repeat in page.repeats()]
        self._calculated = [q for q in self._questions.values() if q.calculation is not None]
        self._filtered = [q for q in self._questions.values() if q.choice_filter is not None]

    def questions(self) -> list[Question]:
        """Every question in form order, notes included."""
        return list(self._questions.values())

    def question(self, name: str) -> Question | None:
        return self._questions.get(name)

    def calculated_questions(self) -> list[Question]:
        """The questions whose value the server computes (surveys.calculations), in form order."""
        return list(self._calculated)

    def filtered_questions(self) -> list[Question]:
        """The questions whose options depend on other answers (surveys.cascades), in form order."""
        return list(self._filtered)

    def repeats(self) -> list:
        """Every repeat (surveys.repeats.Repeat) in form order."""
        return list(self._repeats)

    def repeat(self, name: str):
        return next((r for r in self.repeats() if r.name == name), None)

    def page(self, name: str) -> Page | None:
        return next((p for p in self.pages if p.name == name), None)

    def text(self, text: Text, language: str) -> str:
        return pick(text, language, self.default_language)

    def minutes_to_answer(self) -> int:
        """What the welcome page and the invitation promise: about 10 seconds a choice, 45 a typed answer, 20 anything
        else (a repeat's questions once), in whole minutes (at least 2, with the welcome and the review), by fives past ten."""
        questions = [q for q in self.questions() if q.editable]
        questions += [q for repeat in self.repeats() for q in repeat.questions if q.editable]
        seconds = sum(10 if q.choices else 45 if q.type == "text" else 20 for q in questions)
        minutes = max(2, round(seconds / 60))
        return minutes if minutes <= 10 else 5 * round(minutes / 5)
