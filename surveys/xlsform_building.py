"""Building a SurveyDefinition from normalised sheets: choices, pages, sections, grids and questions, with every
problem of the form collected in one pass, each naming its sheet, row and column.

What a form means is decided here, the same way for a new upload and for a form stored years ago.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .cascades import is_choice_file, with_choice_files
from .definition import (
    CHOICE_TYPES,
    OTHER,
    SELECT_TYPES,
    UPLOAD_TYPES,
    Choice,
    Grid,
    Page,
    Question,
    Section,
    SurveyDefinition,
    Text,
)
from .expressions import NAME_PATTERN, PARTNER_ATTRIBUTES, Expression, ExpressionError, parse
from .xlsform_calculations import read_computed
from .xlsform_checks import FormChecks
from .xlsform_reading import Problem, Row, SurveyFileError, normalise_sheets
from .xlsform_repeats import begin_repeat, close_scope, end_repeat, open_group_scope
from .xlsform_vocabulary import (
    OTHER_LABELS,
    SHEETS,
    Language,
    classify,
    parse_language,
    parse_parameters,
    truth,
)


def build_definition(sheets: dict) -> SurveyDefinition:
    """The definition of stored sheets; raises SurveyFileError listing every problem found."""
    return _Builder(sheets).build()


@dataclass
class _Group:
    kind: str  # page, section, grid, repeat, void (a group inside a refused repeat)
    node: Page | Section | Grid | None
    row: Row
    relevant: Expression | None
    items: list = field(default_factory=list)
    page: Page | None = None  # set on top-level groups


class _Builder(FormChecks):
    """One pass over the normalised rows, collecting problems and warnings instead of stopping at the first."""

    def __init__(self, sheets: dict):
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.rows, self.languages = normalise_sheets(with_choice_files(sheets))
        self.choice_files = set(sheets.get("files") or {})
        self.source = sheets.get("source") or {}

    def problem(self, row: Row | None, column: str, message: str, sheet: str = "survey") -> None:
        if row is None:
            self.problems.append(Problem(sheet, 0, column, message))
        else:
            self.problems.append(Problem(row.sheet, row.number, column, message))

    # ------------------------------------------------------------------------------------------------ build

    def build(self) -> SurveyDefinition:
        settings = next(iter(self.rows["settings"]), None) or Row("settings", 0, {}, {}, {})
        self.default_language = self.choose_default_language(settings)
        self.language_codes = [self.default_language] + [
            c for c in self.languages if c != self.default_language
        ]
        self.lists = self.read_choices()
        self.questions: dict[str, Question] = {}
        self.names: dict[str, int] = {}
        self.ignored: dict[str, str] = {}  # metadata names -> type
        self.refused: set[str] = set()
        self.expressions: list[tuple[Row, str, Expression]] = []
        self.defaults: list[tuple[Row, Question]] = []
        self.metadata_rows: list[str] = []
        pages = self.read_survey()
        if self.metadata_rows:
            self.warnings.append(
                "survey sheet: metadata that only a phone app records is ignored (the response keeps its own "
                "start and end times): " + ", ".join(self.metadata_rows)
            )
        self.check_references()
        if not self.questions and not any(p.sheet == "survey" for p in self.problems):
            counted = (
                " (metadata rows such as start, end and deviceid are recorded by a phone app and are not counted "
                "as questions)"
                if self.metadata_rows
                else ""
            )
            self.problem(None, "", "the survey has no questions" + counted)
        if self.problems:
            order = {sheet: index for index, sheet in enumerate(("", *SHEETS))}
            self.problems.sort(key=lambda p: (order.get(p.sheet, 9), p.row))
            raise SurveyFileError(self.problems)
        form_id = _slug_id(
            settings.values.get("form_id") or Path(self.source.get("filename") or "survey").stem
        )
        title = self.text(settings, "form_title") or {self.default_language: form_id}
        return SurveyDefinition(
            form_id=form_id,
            title=title,
            version=settings.values.get("version", ""),
            default_language=self.default_language,
            languages=self.language_codes,
            pages=pages,
            warnings=self.warnings,
        )

    def choose_default_language(self, settings: Row) -> str:
        """Settings' default_language; else the plain label columns stand for English; else the first named."""
        declared = settings.values.get("default_language")
        if declared and declared.strip().lower() != "default":
            language = parse_language(declared)
            return self.languages.setdefault(language.code, language).code
        plain = any(
            None in texts
            for sheet in ("survey", "choices")
            for row in self.rows[sheet]
            for texts in row.texts.values()
        )
        if plain or not self.languages:
            return self.languages.setdefault("en", Language("en", "English (en)")).code
        return next(iter(self.languages))

    def text(self, row: Row, column: str) -> Text:
        """The texts of a column keyed by language code; the plain column fills the default language."""
        texts = row.texts.get(column) or {}
        result = {code: value for code, value in texts.items() if code is not None}
        if None in texts:
            result.setdefault(self.default_language, texts[None])
        return result

    def fill_languages(self, text: Text, row: Row, kind: str, what: str) -> Text:
        """Give a text every language of the form, warning about each gap filled from another language."""
        if not text:
            return text
        source = self.default_language if self.default_language in text else next(iter(text))
        for code in self.language_codes:
            if code not in text:
                text[code] = text[source]
                self.warnings.append(
                    f"{row.sheet} sheet, row {row.number}: no {self.languages[code].display} {kind} for {what}; "
                    f"the {self.languages[source].display} text will be shown"
                )
        return {code: text[code] for code in self.language_codes}

    # ------------------------------------------------------------------------------------------------ choices

    def read_choices(self) -> dict[str, list[Choice]]:
        lists: dict[str, list[Choice]] = {}
        seen: dict[tuple[str, str], int] = {}
        settings = next(iter(self.rows["settings"]), None)
        allow_duplicates = bool(settings and truth(settings.values.get("allow_choice_duplicates", "")))
        for row in self.rows["choices"] + self.rows["external_choices"]:
            list_name = row.values.get("list_name", "")
            name = row.values.get("name", "") or row.values.get("value", "")
            if not list_name and not name and not row.texts.get("label"):
                continue
            if not list_name and not name:
                self.warnings.append(
                    f"choices sheet, row {row.number}: a row with neither list name nor name is left out"
                )
                continue
            if not list_name:
                self.problem(row, "list_name", "this choice has no list name")
                continue
            choices = lists.setdefault(list_name, [])
            if not name:
                self.problem(row, "name", f"a choice of list '{list_name}' has no name")
                continue
            if any(char.isspace() for char in name):
                self.warnings.append(
                    f"choices sheet, row {row.number}, column {row.header('name')}: choice name '{name}' "
                    "contains a space; it is kept as written"
                )
            key = (list_name, name)
            if key in seen and allow_duplicates:
                self.warnings.append(
                    f"choices sheet, row {row.number}: choice '{name}' of list '{list_name}' repeats row "
                    f"{seen[key]} (allow_choice_duplicates) and is left out"
                )
                continue
            if key in seen:
                self.problem(
                    row,
                    row.header("name"),
                    f"duplicate choice '{name}' in list '{list_name}' (already at row {seen[key]})",
                )
                continue
            seen[key] = row.number
            label = self.text(row, "label")
            if not label:
                label = {self.default_language: name}
                self.warnings.append(
                    f"choices sheet, row {row.number}: choice '{name}' of list '{list_name}' "
                    "has no label; its name will be shown"
                )
            label = self.fill_languages(label, row, "label", f"choice '{name}' of list '{list_name}'")
            columns = {k: v for k, v in row.values.items() if k not in ("list_name", "name")}
            choices.append(Choice(name, label, columns))
        return lists

    # ------------------------------------------------------------------------------------------------ survey

    def read_survey(self) -> list[Page]:
        pages: list[Page] = []
        loose: Page | None = None  # the page collecting questions outside any group
        stack: list[_Group] = []
        for row in self.rows["survey"]:
            type_text = row.values.get("type", "")
            if not type_text:
                if row.values.get("name") or row.texts.get("label"):
                    self.problem(row, "type", "this row has a name or label but no type")
                continue
            kind, detail = classify(type_text, bool(row.texts.get("label")))
            column = row.header("type")
            if kind in ("begin_group", "begin_repeat"):
                group = begin_repeat(self, row, stack) if kind == "begin_repeat" else self.begin_group(row, stack)
                open_group_scope(self, group, stack)
                if group.page is not None:
                    loose = None
                    pages.append(group.page)
                stack.append(group)
            elif kind in ("end_group", "end_repeat"):
                wanted = "repeat" if kind == "end_repeat" else "group"
                if not stack:
                    self.problem(row, column, f"'{type_text}' without a matching 'begin {wanted}'")
                    continue
                opened = stack[-1]
                if (opened.kind == "repeat") != (wanted == "repeat"):
                    opened_what = "repeat" if opened.kind == "repeat" else "group"
                    self.problem(
                        row,
                        column,
                        f"'{type_text}' closes the {opened_what} opened at row {opened.row.number}",
                    )
                stack.pop()
                if opened.kind == "repeat":
                    end_repeat(self, opened)
                close_scope(self, opened)
                self.end_group(opened, stack)
            elif kind == "metadata":
                name = row.values.get("name", type_text)
                self.ignored[name] = type_text
                self.metadata_rows.append(f"row {row.number} '{name}' ({type_text})")
            elif kind == "unsupported":
                self.refuse(
                    row,
                    column,
                    f"unsupported question type '{type_text}'" + (f" ({detail})" if detail else ""),
                )
            elif kind == "unknown":
                self.refuse(
                    row, column, f"unknown question type '{type_text}'" + (f" ({detail})" if detail else "")
                )
            else:
                question = self.question(row, kind, detail)
                if stack:
                    container = stack[-1]
                else:
                    if loose is None:
                        loose = Page(name="", row=row.number)
                        pages.append(loose)
                    container = _Group("page", loose, row, None, loose.items)
                question.conditions = [group.relevant for group in stack if group.relevant is not None]
                if container.kind == "grid":
                    question.grid = container.node.name
                container.items.append(question)
        for group in reversed(stack):
            self.problem(
                group.row,
                group.row.header("type"),
                f"'{group.row.values['type']}' has no matching end (the group or repeat is never closed)",
            )
        return self.finish_pages(pages)

    def survey_row(self, question: Question) -> Row:
        return next(row for row in self.rows["survey"] if row.number == question.row)

    def refuse(self, row: Row, column: str, message: str) -> None:
        self.problem(row, column, message)
        if row.values.get("name"):
            self.refused.add(row.values["name"])

    def claim_name(self, row: Row, what: str) -> str | None:
        name = row.values.get("name", "")
        if not name:
            self.problem(row, "name", f"every {what} needs a name")
            return None
        if not NAME_PATTERN.match(name):
            self.problem(
                row,
                row.header("name"),
                f"'{name}' is not a valid name (start with a letter or _, then letters, digits, _ . -)",
            )
        elif name in PARTNER_ATTRIBUTES:
            self.problem(row, row.header("name"), f"'{name}' is reserved for the partner registry attribute")
        elif name in self.names:
            self.problem(
                row, row.header("name"), f"duplicate name '{name}' (already used at row {self.names[name]})"
            )
        else:
            self.names[name] = row.number
        return name

    def expression(self, row: Row, column: str) -> Expression | None:
        source = row.values.get(column, "")
        if not source:
            return None
        straight = source.translate(_STRAIGHT_QUOTES)
        if straight != source:
            self.warnings.append(
                f"survey sheet, row {row.number}, column {row.header(column)}: curly quotes in '{source}' "
                "are read as straight quotes"
            )
            source = straight
        if column == "calculation" and _BARE_WORD.fullmatch(source) and source.lower() not in ("true", "false"):
            self.warnings.append(
                f"survey sheet, row {row.number}, column {row.header(column)}: the calculation '{source}' is a bare "
                f"word, which XPath reads as a path to nothing: it gives an empty value (write '{source}' in quotes "
                "for the text)"
            )
            source = "''"
        try:
            expression = parse(source)
        except ExpressionError as error:
            lead = "required must be yes, no or a condition such as ${age} >= 18; " if column == "required" else ""
            self.problem(
                row, row.header(column), f"{lead}cannot read the {column} expression '{source}': {error.message}"
            )
            return None
        self.expressions.append((row, column, expression))
        return expression

    def begin_group(self, row: Row, stack: list[_Group]) -> _Group:
        name = row.values.get("name") or f"group_row_{row.number}"
        if "name" in row.values:
            self.claim_name(row, "group")
        if row.values.get("choice_filter"):
            self.problem(row, row.header("choice_filter"), "choice_filter is not supported")
        relevant = self.expression(row, "relevant")
        label = self.fill_languages(self.text(row, "label"), row, "label", f"'{name}'")
        hint = self.fill_languages(self.text(row, "hint"), row, "hint", f"'{name}'")
        is_grid = "table-list" in row.values.get("appearance", "").split()
        parent = stack[-1] if stack else None
        if parent is not None and parent.node is None:  # inside a refused repeat: checked, never shown
            return _Group("void", None, row, relevant)
        if parent is not None and parent.kind == "grid":
            self.problem(
                row,
                row.header("type"),
                f"a group cannot sit inside the table-list group "
                f"'{parent.node.name}' (opened at row {parent.row.number})",
            )
            return _Group("void", None, row, relevant)
        common = {
            "name": name,
            "label": label,
            "hint": hint,
            "relevant": relevant,
            "relevant_source": row.values.get("relevant", ""),
            "row": row.number,
        }
        if parent is None:
            page = Page(**common)
            if is_grid:  # a page holding one grid; the page carries the condition, the grid the caption
                grid = Grid(name=name, label=dict(label), row=row.number)
                page.items.append(grid)
                return _Group("grid", grid, row, relevant, grid.questions, page)
            return _Group("page", page, row, relevant, page.items, page)
        node = Grid(**common) if is_grid else Section(**common)
        parent.items.append(node)
        return _Group(
            "grid" if is_grid else "section", node, row, relevant, node.questions if is_grid else node.items
        )

    def end_group(self, group: _Group, stack: list[_Group]) -> None:
        if group.kind != "grid":
            return
        grid = group.node
        first = None
        for question in grid.questions:
            if question.type not in SELECT_TYPES:
                self.problem(
                    self.survey_row(question),
                    "type",
                    f"the table-list group '{grid.name}' (row {grid.row}) can only hold select_one or "
                    f"select_multiple questions; '{question.name}' is {question.type}",
                )
            elif first is None:
                first = question
            elif question.list_name != first.list_name:
                self.problem(
                    self.survey_row(question),
                    "type",
                    f"all questions of the table-list group '{grid.name}' (row {grid.row}) must use one "
                    f"choice list: '{question.name}' uses '{question.list_name}', "
                    f"'{first.name}' uses '{first.list_name}'",
                )
            if question.or_other:
                self.problem(
                    self.survey_row(question),
                    "type",
                    f"or_other is not available inside the table-list group '{grid.name}'",
                )
            if question.choice_filter is not None:
                row = self.survey_row(question)
                self.problem(row, row.header("choice_filter"), "choice_filter is not available inside the "
                                                              f"table-list group '{grid.name}': its rows share one "
                                                              "set of options")

    def question(self, row: Row, kind: str, detail) -> Question:
        name = self.claim_name(row, "question")
        type_column = row.header("type")
        question = Question(name=name or "", type=kind, row=row.number)
        if kind == "text" and detail == "phone":
            self.warnings.append(
                f"survey sheet, row {row.number}: '{row.values['type']}' question '{name}' is "
                "asked as a text question"
            )
        label = self.text(row, "label")
        media = next((row.values[key] for key in row.values if key.split(":")[-1] in _MEDIA and row.values[key]), "")
        if not label and kind == "note" and media:
            self.warnings.append(
                f"survey sheet, row {row.number}: note '{name}' has only a media file ({media}), which is not "
                "shown here; its name is shown instead"
            )
            label = {self.default_language: name}
        if not label and kind != "calculate":
            self.problem(
                row, "label", f"question '{name}' has no label" if name else "this question has no label"
            )
        question.label = self.fill_languages(label, row, "label", f"'{name}'")
        question.hint = self.fill_languages(self.text(row, "hint"), row, "hint", f"'{name}'")
        question.required_message = self.text(row, "required_message")
        question.constraint_message = self.text(row, "constraint_message")
        question.appearance = row.values.get("appearance", "")
        question.relevant = self.expression(row, "relevant")
        question.relevant_source = row.values.get("relevant", "")
        question.constraint = self.expression(row, "constraint")
        question.constraint_source = row.values.get("constraint", "")
        question.parameters = parse_parameters(row.values.get("parameters", ""))
        required = truth(row.values.get("required", ""))
        if required is None and kind != "note":
            question.required_when = self.expression(row, "required")
            question.required_source = row.values.get("required", "")
        question.required = bool(required) and kind != "note"
        if row.values.get("choice_filter"):
            self.choice_filter(row, question, kind, detail)
        if kind in CHOICE_TYPES:
            list_name, or_other = detail
            question.list_name = list_name
            question.or_other = or_other
            if not list_name:
                self.problem(row, type_column, f"'{row.values['type']}' needs a choice list name")
            elif is_choice_file(list_name) and list_name not in self.lists:
                self.problem(row, type_column, self.missing_file(list_name))
            elif list_name not in self.lists:
                self.problem(
                    row, type_column, f"choice list '{list_name}' does not exist in the choices sheet"
                )
            else:
                question.choices = list(self.lists[list_name])
            if or_other and kind == "rank":
                self.problem(
                    row, type_column, "or_other is only available for select_one and select_multiple"
                )
            elif or_other and OTHER not in question.choice_names():
                question.choices.append(
                    Choice(OTHER, {c: OTHER_LABELS.get(c, "Other") for c in self.language_codes})
                )
            if or_other and name:
                if question.other_name in self.names:
                    self.problem(
                        row,
                        row.header("name"),
                        f"'{question.other_name}' (where or_other keeps the text) "
                        f"is already the name of row {self.names[question.other_name]}",
                    )
                else:
                    self.names[question.other_name] = row.number
            if kind == "rank" and list_name in self.lists and len(question.choices) < 2:
                self.problem(
                    row,
                    type_column,
                    f"rank needs at least 2 choices; list '{list_name}' has {len(question.choices)}",
                )
            if kind == "rank":
                self.check_rank(row, question)
        if kind == "range":
            self.check_range(row, question)
        if kind in UPLOAD_TYPES and row.headers.get("body", "").replace(" ", "").lower() == "body::accept":
            question.parameters["accept"] = row.values["body"]
        if "default" in row.values:
            question.default = row.values["default"]
            self.defaults.append((row, question))
        read_computed(self, row, question)
        if name and name not in self.questions:
            self.questions[name] = question
        return question

    def finish_pages(self, pages: list[Page]) -> list[Page]:
        """Name loose pages, drop empty groups (with a warning) and tell every question its page."""
        used = {page.name for page in pages if page.name}
        kept = []
        for index, page in enumerate(pages, start=1):
            if not page.name:
                name, suffix = f"page_{index}", 1
                while name in used:
                    suffix += 1
                    name = f"page_{index}_{suffix}"
                page.name = name
                used.add(name)
            page.items = self.drop_empty(page.items)
            if not page.questions() and not page.repeats():
                self.warnings.append(
                    f"survey sheet, row {page.row}: group '{page.name}' holds no questions and is left out"
                )
                continue
            for question in page.questions():
                question.page = page.name
            kept.append(page)
        return kept

    def drop_empty(self, items: list) -> list:
        kept = []
        for item in items:
            if isinstance(item, Section):
                item.items = self.drop_empty(item.items)
                empty = not any(True for _ in Page(name="", items=item.items).questions())
            elif isinstance(item, Grid):
                empty = not item.questions
            else:
                empty = False
            if empty:
                self.warnings.append(
                    f"survey sheet, row {item.row}: group '{item.name}' holds no questions and is left out"
                )
            else:
                kept.append(item)
        return kept


_BARE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_MEDIA = ("image", "audio", "video", "big-image", "media")
_STRAIGHT_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _slug_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "survey"
