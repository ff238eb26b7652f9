"""Reading what a form computes: `calculate` and `hidden` rows, `calculation` with `read_only` on a question, and a
`default` that is an expression (today(), concat(...)); and refusing calculations that depend on themselves."""

from __future__ import annotations

import re

from .definition import Question
from .expressions import ExpressionError, parse
from .expressions.parser import Reference
from .xlsform_reading import Row
from .xlsform_vocabulary import truth


def read_computed(builder, row: Row, question: Question) -> None:
    """Set the question's calculation, read_only and expression default from its row, reporting problems."""
    if row.values.get("calculation"):
        question.calculation = builder.expression(row, "calculation")
    elif question.type == "calculate" and not row.values.get("default"):
        builder.problem(row, row.header("type"), f"calculate '{question.name}' needs a calculation: the expression "
                                                 "that gives its value, in the calculation column")
    read_only = truth(row.values.get("read_only", ""))
    if read_only is None:
        builder.problem(row, row.header("read_only"), f"read_only must be yes or no, not '{row.values['read_only']}'")
    question.read_only = bool(read_only) or question.type == "calculate"
    default = question.default or ""
    if "(" in default or (question.type == "calculate" and "${" in default):
        try:
            expression = parse(default)
        except ExpressionError as error:
            builder.problem(row, row.header("default"), f"cannot read the default expression '{default}': "
                                                        f"{error.message}")
            return
        if not isinstance(expression.tree, Reference):
            question.default_expression, question.default = expression, None
            builder.defaults[:] = [(r, q) for r, q in builder.defaults if q is not question]
            builder.expressions.append((row, "default", expression))


def check_cycles(builder) -> None:
    """A calculation that reads itself, directly or through others, has no value: name the row and the loop."""
    reads = {name: q.calculation.references for name, q in builder.questions.items() if q.calculation is not None}
    reported: set[str] = set()
    for start, first in reads.items():
        path, stack = [start], [iter(sorted(first))]
        while stack:
            following = stack[-1]
            step = next(following, None)
            if step is None:
                stack.pop()
                path.pop()
                continue
            if step == start and start not in reported:
                reported.update(path)
                question = builder.questions[start]
                loop = " → ".join([*path, start])
                builder.problem(builder.survey_row(question), builder.survey_row(question).header("calculation"),
                                f"the calculation of '{start}' depends on itself ({loop})")
            elif step in reads and step not in path and len(path) < len(reads):
                path.append(step)
                stack.append(iter(sorted(reads[step])))


_REFERENCE = re.compile(r"\$\{\s*([^}]*?)\s*\}")


def check_label_references(builder, known: set[str]) -> None:
    """A label or hint that shows an unknown ${name} shows nothing there: a warning, not a refusal, because form
    generators (HOT's FMTM, for one) leave such names for their own tools to fill in."""
    for question in builder.questions.values():
        for column, texts in (("label", question.label), ("hint", question.hint)):
            names = sorted({name for text in texts.values() for name in _REFERENCE.findall(text)} - known)
            for name in names:
                row = builder.survey_row(question)
                if name in builder.ignored:
                    what = f"a metadata field ({builder.ignored[name]}) that stays empty here"
                else:
                    what = "which is not a question of this form: it stays empty here"
                builder.warnings.append(f"survey sheet, row {row.number}, column {row.header(column)}: the {column} "
                                        f"shows ${{{name}}}, {what}")
