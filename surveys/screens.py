"""The screens a partner goes through: a survey page, split where it would hold more than one long grid.

A page with three grids of twelve rows was thirteen phone screens long. Each long grid (LONG_GRID rows or more)
after the first starts a screen of its own; what follows a grid stays on its screen. A screen of a page is addressed
as the page's name ("services"), then "services/2", "services/3"; the survey's pages and what they mean for the
analysis do not change.
"""

from dataclasses import dataclass
from functools import cached_property

from .definition import Grid, Item, Page, Question, Section, SurveyDefinition, walk_questions, walk_repeats

LONG_GRID = 6  # rows


@dataclass(frozen=True, eq=False)
class Screen:
    page: Page
    part: int  # 1, 2, ... within the page
    parts: int  # how many screens the page makes
    items: tuple[Item, ...]

    @property
    def id(self) -> str:
        return self.page.name if self.part == 1 else f"{self.page.name}/{self.part}"

    @cached_property
    def questions(self) -> list[Question]:
        return list(walk_questions(self.items))

    @cached_property
    def repeats(self) -> list:
        return list(walk_repeats(self.items))

    @cached_property
    def grids(self) -> dict[str, Grid]:
        return {grid.name: grid for grid in _grids(self.items)}


def _grids(items):
    for item in items:
        if isinstance(item, Grid):
            yield item
        elif isinstance(item, Section):
            yield from _grids(item.items)


def split_page(page: Page) -> list[Screen]:
    """The page's screens: a long grid starts a new screen when the current one holds a grid already."""
    parts: list[list[Item]] = [[]]
    for item in page.items:
        long_grid = isinstance(item, Grid) and len(item.questions) >= LONG_GRID
        if long_grid and any(isinstance(earlier, Grid) for earlier in parts[-1]):
            parts.append([])
        parts[-1].append(item)
    return [Screen(page, number, len(parts), tuple(items)) for number, items in enumerate(parts, start=1)]


class Screens:
    """Every screen of a survey, in order, and which screen holds each question (built once per definition)."""

    def __init__(self, definition: SurveyDefinition):
        self.all = [screen for page in definition.pages for screen in split_page(page)]
        self.by_id = {screen.id: screen for screen in self.all}
        self.of_question = {q.name: screen for screen in self.all for q in screen.questions}
        self.of_repeat = {r.name: screen for screen in self.all for r in screen.repeats}

    def shown(self, shown_questions) -> list[Screen]:
        """The screens with at least one question shown (a page whose condition is false hides all of them; a
        calculation without a label is never drawn)."""
        return [screen for screen in self.all
                if any(q.name in shown_questions and q.displayed for q in screen.questions)
                or any(r.name in shown_questions for r in screen.repeats)]
