"""The checks of a form's builder that look at one question's parameters or at the form as a whole once it is read:
ranges, ranks, choice filters, references between questions, defaults and triggers. Mixed into the builder of
surveys.xlsform_building, whose state (rows, questions, expressions, problems, warnings) they read."""

from __future__ import annotations

import math
import re

from .cascades import bare_words, parse_choice_filter
from .definition import SELECT_TYPES, Question
from .expressions import PARTNER_ATTRIBUTES, ExpressionError
from .xlsform_calculations import check_cycles, check_label_references
from .xlsform_reading import Row

_PARTNER_DEFAULT = re.compile(r"^\$\{\s*([^}]*?)\s*\}$")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class FormChecks:
    """Checks that report through the builder's ``problem`` and ``warnings``."""

    def choice_filter(self, row: Row, question: Question, kind: str, detail) -> None:
        """Read a select question's choice_filter (bare names are choice columns: see surveys.cascades)."""
        column, source = row.header("choice_filter"), row.values["choice_filter"]
        if kind not in ("select_one", "select_multiple"):
            self.problem(row, column, f"choice_filter only applies to select_one and select_multiple, not {kind}")
            return
        columns = {"name", "label"} | {key for c in self.lists.get(detail[0], []) for key in c.columns}
        try:
            question.choice_filter = parse_choice_filter(source, columns)
            for word in bare_words(source, columns):
                self.warnings.append(f"survey sheet, row {row.number}: the choice_filter reads '{word}', which is "
                                     f"not a column of list '{detail[0]}', as the text '{word}' (write it in quotes)")
        except ExpressionError as error:
            self.problem(row, column, f"cannot read the choice_filter expression '{source}': {error.message}")
            return
        registry = sorted(question.choice_filter.references & set(PARTNER_ATTRIBUTES))
        if registry:
            self.problem(row, column, f"a choice_filter cannot read the registry attribute ${{{registry[0]}}}: "
                                      "only answers and the choices' columns")
        self.expressions.append((row, "choice_filter", question.choice_filter))

    def missing_file(self, filename: str) -> str:
        if not filename.lower().endswith(".csv"):
            return f"choices from '{filename}' cannot be read: only CSV files (name,label columns) are supported"
        return f"this question takes its choices from '{filename}': upload that CSV file with the form"

    def check_range(self, row: Row, question: Question) -> None:
        column = row.header("parameters")
        values = {}
        for key in ("start", "end", "step"):
            text = question.parameters.get(key)
            if text is None:
                continue
            values[key] = _number(text)
            if values[key] is None:
                self.problem(row, column, f"range parameter {key} must be a number, not '{text}'")
        unknown = sorted(set(question.parameters) - {"start", "end", "step"})
        if unknown:
            self.problem(row, column, f"unknown range parameter {', '.join(unknown)} (use start, end, step)")
        if any(value is None for value in values.values()):
            return
        start, end, step = values.get("start", 1.0), values.get("end", 10.0), values.get("step", 1.0)
        if end <= start:
            self.problem(row, column, f"range end ({end:g}) must be greater than start ({start:g})")
        if step <= 0:
            self.problem(row, column, f"range step ({step:g}) must be greater than 0")

    def check_rank(self, row: Row, question: Question) -> None:
        """`parameters: top=N` asks for the first N positions only (rank the three that matter most)."""
        column = row.header("parameters")
        unknown = sorted(set(question.parameters) - {"top"})
        if unknown:
            self.problem(row, column, f"unknown rank parameter {', '.join(unknown)} (use top=N)")
        top = question.parameters.get("top")
        if top is not None and question.choices and not (top.isdigit() and 1 <= int(top) <= len(question.choices)):
            self.problem(row, column, f"rank parameter top must be a whole number from 1 to {len(question.choices)} "
                                      f"(the number of choices), not '{top}'")

    def check_references(self) -> None:
        known = set(self.questions) | set(PARTNER_ATTRIBUTES) | self.refused
        known |= {q.other_name for q in self.questions.values() if q.or_other}
        for row, column, expression in self.expressions:
            for name in sorted(expression.references - known):
                self.problem(row, row.header(column), self.unknown_reference(name, column))
        check_cycles(self)
        check_label_references(self, known)
        self.check_triggers(known)
        for row, question in self.defaults:
            if question.default.startswith("${last-saved#"):
                self.warnings.append(
                    f"survey sheet, row {row.number}, column {row.header('default')}: default "
                    f"'{question.default}' repeats a phone's previous submission and is ignored"
                )
                question.default = ""
                continue
            match = _PARTNER_DEFAULT.match(question.default)
            if match:
                if match.group(1) not in PARTNER_ATTRIBUTES:
                    self.problem(
                        row,
                        row.header("default"),
                        f"default '{question.default}' can only refer to a registry attribute: "
                        f"{', '.join(PARTNER_ATTRIBUTES)}",
                    )
            elif "${" in question.default:
                self.problem(
                    row,
                    row.header("default"),
                    "a default is either plain text or one registry attribute such as ${partner_category}",
                )
            elif question.type in SELECT_TYPES and question.choices:
                codes = question.default.split() if question.type == "select_multiple" else [question.default]
                for code in codes:
                    if code not in question.choice_names():
                        self.problem(
                            row,
                            row.header("default"),
                            f"default '{code}' is not a choice of list '{question.list_name}'",
                        )

    def check_triggers(self, known: set[str]) -> None:
        """ODK's `trigger` column (recompute when ${name} changes): calculations here are recomputed on every
        change anyway, so it only has to name a question of the form."""
        for row in self.rows["survey"]:
            trigger = row.values.get("trigger", "")
            if not trigger:
                continue
            names = re.findall(r"\$\{([^}]*)\}", trigger)
            if not names:
                self.problem(row, row.header("trigger"), f"trigger '{trigger}' must name a question as ${{name}}")
            for name in names:
                if name not in known:
                    self.problem(
                        row,
                        row.header("trigger"),
                        f"the trigger names ${{{name}}}, which is not a question of this form",
                    )

    def unknown_reference(self, name: str, column: str) -> str:
        if name in self.ignored:
            return (
                f"the {column} expression refers to ${{{name}}}, a metadata field ({self.ignored[name]}) "
                "that this platform ignores"
            )
        if name.startswith("partner_"):
            return (
                f"the {column} expression refers to ${{{name}}}, which is not a registry attribute "
                f"({', '.join(PARTNER_ATTRIBUTES)})"
            )
        return f"the {column} expression refers to ${{{name}}}, which is not a question of this form"
