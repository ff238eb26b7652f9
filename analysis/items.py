"""Which questions of any survey definition can be analysed, and how (DOMAIN.md, "The collective analysis").

The collective analysis must work on every survey the Secretariat imports, not only the default one, so the kind of
each item is read from the definition itself:

- **Likert item**: a select_one question (without ``or_other``) whose choice list has exactly five numeric codes,
  "1" to "5", listed in ascending or descending order, plus zero or more non-numeric codes. The non-numeric codes
  are the NA codes (not applicable / don't know / no opinion): excluded from every base, counted in NA%.
- **Likert grid**: a grid (table-list group) whose answerable questions are all Likert items.
- **Grid role**: a grid is an *importance* grid when its name, or failing that its choice list name, has a word
  ``imp``/``importance`` (``imp5`` too: a word is split on ``_``, ``-``, ``.`` and spaces, trailing digits ignored);
  a *satisfaction* grid when it has ``sat``/``satisfaction``. A name with both words, or neither, gives no role.
- **Service key**: each grid question's name with the words its grid's questions all share at the start and at the
  end removed (``sat_website`` in a grid of ``sat_*`` gives ``website``; ``q4_web_imp`` in a grid of ``q4_*_imp``
  gives ``web``). A grid of one question drops its role word instead (``sat_website`` gives ``website``).
- **Importance/satisfaction pair**: an importance question and a satisfaction question, each in a Likert grid of that
  role, with the same service key.
- **Service use grid**: a grid whose choice codes include ``not_aware`` and at least one ``used`` or ``used_*`` code
  (the aware-then-used funnel).
- **Ranking**: a ``rank`` question. **NPS**: a ``range`` question from 0 to 10 in steps of 1; other ranges, integer
  and decimal questions are **numeric**. **Multiple choice**: select_multiple. **Single choice**: any other
  select_one. **Free text**: a ``text`` question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from surveys.definition import OTHER, Grid, Question, Section, SurveyDefinition

LIKERT_CODES = ("1", "2", "3", "4", "5")
NOT_AWARE = "not_aware"
IMPORTANCE = "importance"
SATISFACTION = "satisfaction"

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_WORD_SPLIT = re.compile(r"[_\-.\s]+")
_ROLE_WORDS = {
    IMPORTANCE: re.compile(r"^(imp|importance)\d*$", re.IGNORECASE),
    SATISFACTION: re.compile(r"^(sat|satisfaction)\d*$", re.IGNORECASE),
}


@dataclass(frozen=True)
class LikertItem:
    question: str
    grid: str | None
    na_codes: tuple[str, ...]


@dataclass(frozen=True)
class ServicePair:
    """One service rated for importance in one grid and for satisfaction in another."""

    service: str
    importance: str
    satisfaction: str


@dataclass
class SurveyItems:
    """The analysable items of one survey definition, each list in form order."""

    likert: list[LikertItem] = field(default_factory=list)
    likert_grids: dict[str, list[str]] = field(default_factory=dict)
    grid_roles: dict[str, str] = field(default_factory=dict)
    pairs: list[ServicePair] = field(default_factory=list)
    service_use: dict[str, list[str]] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)  # grid question -> service key
    rankings: list[str] = field(default_factory=list)
    nps: list[str] = field(default_factory=list)
    numeric: list[str] = field(default_factory=list)
    multiple_choice: list[str] = field(default_factory=list)
    single_choice: list[str] = field(default_factory=list)
    free_text: list[str] = field(default_factory=list)

    def likert_names(self) -> list[str]:
        return [item.question for item in self.likert]

    def service_use_names(self) -> list[str]:
        return [name for names in self.service_use.values() for name in names]


def words(name: str) -> list[str]:
    return [w for w in _WORD_SPLIT.split(name) if w]


def is_likert(question: Question) -> bool:
    """A select_one with exactly the codes 1..5 in order (either way round), plus non-numeric NA codes."""
    if question.type != "select_one" or question.or_other:
        return False
    numeric = [c for c in question.choice_names() if _is_number(c)]
    return numeric in (list(LIKERT_CODES), list(reversed(LIKERT_CODES)))


def na_codes(question: Question) -> tuple[str, ...]:
    return tuple(c for c in question.choice_names() if not _is_number(c))


def is_nps(question: Question) -> bool:
    return question.type == "range" and question.range_bounds == (0.0, 10.0, 1.0)


def is_service_use(grid: Grid) -> bool:
    codes = [c.name for c in grid.choices]
    return NOT_AWARE in codes and any(is_used(c) for c in codes)


def is_used(code: str) -> bool:
    return code == "used" or code.startswith("used_")


def grid_role(grid: Grid) -> str | None:
    """The grid's role ("importance", "satisfaction" or None): from its name, else from its choice list's name."""
    list_name = grid.questions[0].list_name if grid.questions else None
    for name in (grid.name, list_name or ""):
        roles = {role for role, word in _ROLE_WORDS.items() for w in words(name) if word.match(w)}
        if len(roles) == 1:
            return roles.pop()
        if roles:
            return None
    return None


def service_keys(grid: Grid) -> dict[str, str]:
    """Each answerable question's name without the words all the grid's questions share at its start and end."""
    names = [q.name for q in grid.questions if q.answerable]
    if len(names) == 1:
        kept = [w for w in words(names[0]) if not any(r.match(w) for r in _ROLE_WORDS.values())]
        return {names[0]: "_".join(kept) or names[0]}
    split = [words(n) for n in names]
    shortest = min(len(w) for w in split)
    head = 0
    while head < shortest - 1 and len({w[head] for w in split}) == 1:
        head += 1
    tail = 0
    while tail < shortest - head - 1 and len({w[-1 - tail] for w in split}) == 1:
        tail += 1
    return {n: "_".join(w[head : len(w) - tail]) for n, w in zip(names, split)}


def grids(definition: SurveyDefinition) -> list[Grid]:
    """Every grid of the survey in form order, those inside sections too."""
    found: list[Grid] = []

    def walk(items):
        for item in items:
            if isinstance(item, Grid):
                found.append(item)
            elif isinstance(item, Section):
                walk(item.items)

    for page in definition.pages:
        walk(page.items)
    return found


def discover_items(definition: SurveyDefinition) -> SurveyItems:
    """Sort every answerable question of the definition into the kinds the analysis knows."""
    items = SurveyItems()
    use_questions: set[str] = set()
    for grid in grids(definition):
        answerable = [q for q in grid.questions if q.answerable]
        if not answerable:
            continue
        items.services.update(service_keys(grid))
        if all(is_likert(q) for q in answerable):
            items.likert_grids[grid.name] = [q.name for q in answerable]
            role = grid_role(grid)
            if role:
                items.grid_roles[grid.name] = role
        elif is_service_use(grid):
            items.service_use[grid.name] = [q.name for q in answerable]
            use_questions.update(items.service_use[grid.name])

    for question in definition.questions():
        if not question.answerable or question.name in use_questions:
            continue
        if is_likert(question):
            items.likert.append(LikertItem(question.name, question.grid, na_codes(question)))
        elif question.type == "select_one":
            items.single_choice.append(question.name)
        elif question.type == "select_multiple":
            items.multiple_choice.append(question.name)
        elif question.type == "rank":
            items.rankings.append(question.name)
        elif is_nps(question):
            items.nps.append(question.name)
        elif question.type in ("range", "integer", "decimal"):
            items.numeric.append(question.name)
        elif question.type == "text":
            items.free_text.append(question.name)

    items.pairs = _pairs(items)
    return items


def choice_codes(question: Question) -> list[str]:
    """The question's choice codes in list order, with ``other`` last when or_other adds it."""
    codes = question.choice_names()
    if question.or_other and OTHER not in codes:
        codes.append(OTHER)
    return codes


def _pairs(items: SurveyItems) -> list[ServicePair]:
    by_role: dict[str, dict[str, str]] = {IMPORTANCE: {}, SATISFACTION: {}}
    for grid_name, role in items.grid_roles.items():
        for name in items.likert_grids[grid_name]:
            by_role[role].setdefault(items.services[name], name)
    importance, satisfaction = by_role[IMPORTANCE], by_role[SATISFACTION]
    return [ServicePair(key, importance[key], satisfaction[key]) for key in importance if key in satisfaction]


def _is_number(code: str) -> bool:
    return _NUMBER.match(code) is not None
