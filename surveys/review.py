"""What the review and the receipt list: each shown page with its shown questions, a grid's rows under the grid's
own question (so "alliance87.org website" under "use", "satisfaction" and "importance" can be told apart)."""

from dataclasses import dataclass, field

from .definition import Grid, Page, Question, Section, SurveyDefinition


@dataclass
class AnsweredGrid:
    grid: Grid
    rows: list[Question]


@dataclass
class AnsweredRepeat:
    """A repeat's entries: (id, its shown questions named by their stored name, such as `people[2]/age`)."""

    repeat: object
    items: list[tuple[int, list[Question]]]
    inner: dict[int, list["AnsweredRepeat"]] = field(default_factory=dict)  # by entry: its repeats inside it


@dataclass
class AnsweredPage:
    page: Page
    entries: list[Question | AnsweredGrid | AnsweredRepeat] = field(default_factory=list)


def answered_sections(definition: SurveyDefinition, shown, values=None) -> list[AnsweredPage]:
    """The shown, answerable questions of each page in form order, grid rows gathered under their grid, a repeat's
    entries under the repeat (`shown` then holds the stored names of the entries' shown questions)."""
    sections = []
    for page in definition.pages:
        section = AnsweredPage(page)
        _gather(page.items, shown, section.entries, values or {})
        if section.entries:
            sections.append(section)
    return sections


def _answered_repeat(repeat, shown, values) -> AnsweredRepeat:
    """A repeat's entries, each with its inner repeats' entries (named by path, `children[1]/cartoons`)."""
    from .repeat_pages import entry_questions, shown_ids
    from .repeats import inner_repeat

    ids = shown_ids(repeat, values, {}, [repeat])
    return AnsweredRepeat(
        repeat, [(entry, [q for q in entry_questions(repeat, entry) if q.answerable and q.name in shown])
                 for entry in ids],
        {entry: [_answered_repeat(inner_repeat(repeat, entry, inner), shown, values) for inner in repeat.repeats]
         for entry in ids})


def _gather(items, shown, entries: list, values) -> None:
    for item in items:
        if isinstance(item, Grid):
            rows = [q for q in item.questions if q.answerable and q.name in shown]
            if rows:
                entries.append(AnsweredGrid(item, rows))
        elif isinstance(item, Section):
            _gather(item.items, shown, entries, values)
        elif not isinstance(item, Question):  # a repeat
            if item.name in shown:
                entries.append(_answered_repeat(item, shown, values))
        elif item.answerable and item.displayed and item.name in shown:
            entries.append(item)
