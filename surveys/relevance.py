"""Which questions a partner is shown: the one engine that decides, for the partner pages and for the analysis.

A question is shown when every condition on it holds (its own `relevant` and those of the groups around it), read
in form order; a hidden question then counts as unanswered for the conditions after it. The partner pages ask for
one partner at a time (`visible_questions`, remembered per set of values the conditions read); the analysis asks
for many responses at once with a cache of its own, through the same `hidden_questions`. No Flask here.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .definition import Grid, Page, Question, Section, SurveyDefinition
from .repeats import RepeatAnswers, nested_names
from .screens import Screens


def partner_attributes(organisation) -> dict[str, str]:
    """What the registry knows about the partner, under the names a form uses (${partner_category}...)."""
    if organisation is None:
        return {}
    return {
        "partner_category": organisation.category or "",
        "partner_country": organisation.country or "",
        "partner_region": organisation.region or "",
        "partner_pathfinder": "yes" if organisation.pathfinder else "no",
        "partner_action_groups": organisation.action_groups or "",
        "partner_gcg_member": "yes" if organisation.gcg_member else "no",
    }


MEMO_SIZE = 2048  # shown-question sets remembered per survey version and process


@dataclass
class Layout:
    """What never changes for a survey version, worked out once per process (every partner request needs it)."""

    questions: list[Question]
    names: frozenset[str]  # every question's name
    conditions: list[tuple[Question, list]]  # each conditional question with its own and its groups' relevance
    referenced: tuple[str, ...]  # the names any relevance condition reads: only they decide what is shown
    reads: frozenset[str]  # the same, to test membership
    page_questions: dict[str, list[Question]]
    grids: dict[str, dict[str, Grid]]  # by page, the page's grids by name
    allowed: frozenset[str]
    memo: dict | None  # shown questions by the values of `referenced`; None when a condition reads the clock or entries
    read_repeats: tuple = ()  # the repeats whose entries a condition reads (`count(${people}) > 2`, `sum(${age})`)
    distinct: dict = field(default_factory=dict)
    wording: dict = field(default_factory=dict)  # the partner pages' texts by language (surveys.routes fills it)
    screens: Screens | None = None  # the screens the pages make (surveys.screens)


_layouts: dict[int, tuple[SurveyDefinition, Layout]] = {}


def layout(definition: SurveyDefinition) -> Layout:
    """The layout of a definition (kept while the definition is; definitions are cached per process)."""
    entry = _layouts.get(id(definition))
    if entry is not None and entry[0] is definition:
        return entry[1]
    questions = definition.questions()
    everything = [(q, [*q.conditions, *([q.relevant] if q.relevant else [])]) for q in questions]
    conditions = [(q, expressions) for q, expressions in everything if expressions]
    reading = {name for _q, expressions in conditions for e in expressions for name in e.references}
    computed = {q.name: q.calculation.references for q in questions if q.calculation is not None}
    while True:  # a condition on a calculation also reads what the calculation reads
        more = {name for calculated in reading & computed.keys() for name in computed[calculated]} - reading
        if not more:
            break
        reading |= more
    referenced = sorted(reading)
    outside = reading - {q.name for q in questions}  # a name both outside and in a repeat reads the one outside
    read_repeats = tuple(r for r in definition.repeats() if any(name in outside for name, *_ in nested_names(r)))
    allowed = set()
    for question in questions:
        if question.editable:
            allowed.add(question.name)
            if question.or_other:
                allowed.add(question.other_name)
    dated = any(e.volatile for _q, expressions in conditions for e in expressions)
    built = Layout(questions=questions, names=frozenset(q.name for q in questions), conditions=conditions,
                   referenced=tuple(referenced), reads=frozenset(referenced),
                   page_questions={page.name: page.questions() for page in definition.pages},
                   grids={page.name: _grids(page.items) for page in definition.pages},
                   allowed=frozenset(allowed), memo=None if dated or read_repeats else {},
                   read_repeats=read_repeats, screens=Screens(definition))
    if len(_layouts) >= 64:
        _layouts.clear()
    _layouts[id(definition)] = (definition, built)
    return built


def _grids(items) -> dict[str, Grid]:
    found = {}
    for item in items:
        if isinstance(item, Grid):
            found[item.name] = item
        elif isinstance(item, Section):
            found.update(_grids(item.items))
    return found


def visible_questions(definition: SurveyDefinition, values: Mapping[str, str],
                      partner: Mapping[str, str]) -> frozenset[str]:
    """Names of the questions shown, in form order; a hidden question counts as unanswered for later conditions.

    Remembered per definition by the values the conditions read, so partners in the same situation share one answer.
    """
    plan = layout(definition)
    key = None
    if plan.memo is not None:
        key = tuple((values[name] if name in values else partner.get(name)) or "" for name in plan.referenced)
        shown = plan.memo.get(key)
        if shown is not None:
            return shown
    context = dict(partner)
    context.update(values)
    shown = plan.names.difference(hidden_questions(definition, context))
    if key is not None:
        if len(plan.memo) >= MEMO_SIZE:
            plan.memo.clear()
            plan.distinct.clear()
        shown = plan.distinct.setdefault(shown, shown)  # few distinct sets: keep each once (~4 KB apiece)
        plan.memo[key] = shown
    return shown


def hidden_questions(definition: SurveyDefinition, context: dict,
                     holds: Callable[[object, dict], bool] | None = None) -> list[str]:
    """Names of the questions hidden for `context` (answers and registry attributes), in form order.

    A question is hidden as soon as one of its conditions does not hold; its answer and "other" text then leave
    `context` (which this changes), so later conditions read it as unanswered. `holds(condition, context)` evaluates
    one condition: by default `condition.evaluate(context)`; the analysis passes one that remembers results.
    """
    plan = layout(definition)
    if plan.read_repeats:  # a repeat's name, or a question in it, reads every entry: count(${people})
        entries = RepeatAnswers(context, plan.read_repeats)
        context.update({name: entries[name] for name in [*entries.repeats, *entries.inner] if name not in context})
    hidden = []
    for question, conditions in plan.conditions:
        for condition in conditions:
            if not (condition.evaluate(context) if holds is None else holds(condition, context)):
                hidden.append(question.name)
                context.pop(question.name, None)
                context.pop(question.other_name, None)
                break
    return hidden


def affects_shown(definition: SurveyDefinition, names) -> bool:
    """Whether changing these answers can show or hide a question (some relevance condition reads one of them)."""
    reads = layout(definition).reads
    return any(name in reads for name in names)


def visible_pages(definition: SurveyDefinition, shown: set[str]) -> list[Page]:
    """Pages with at least one shown question (a page whose condition is false hides all of its questions)."""
    questions = layout(definition).page_questions
    return [page for page in definition.pages if any(q.name in shown and q.displayed for q in questions[page.name])]


def allowed_names(definition: SurveyDefinition) -> set[str]:
    return set(layout(definition).allowed)
