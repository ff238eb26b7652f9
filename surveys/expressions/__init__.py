"""XLSForm expressions (relevant, constraint, required, calculation), parsed into a tree and evaluated on the
server without eval().

The grammar is the part of XPath that real forms use: `${question}` references and relative paths (`.`, `..`,
`../name`), numbers, quoted text, arithmetic (+ - * div mod, unary minus), comparisons, `and`, `or`, parentheses
and the ODK functions listed in `functions.ARITY`. Values follow XPath and ODK: every answer is stored text ("" when
unanswered, space-separated codes for select_multiple); see `values` for the conversions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .evaluation import Answers, evaluate
from .functions import ARITY, Environment
from .parser import MAX_DEPTH, NAME_PATTERN, Parser
from .tokens import ExpressionError
from .values import Value, as_number, as_text, truthy

__all__ = ["ARITY", "MAX_DEPTH", "NAME_PATTERN", "PARTNER_ATTRIBUTES", "Environment", "Expression",
           "ExpressionError", "as_number", "as_text", "parse", "truthy"]

PARTNER_ATTRIBUTES = (
    "partner_category",
    "partner_country",
    "partner_region",
    "partner_pathfinder",
    "partner_action_groups",
    "partner_gcg_member",
)
FUNCTIONS = ARITY
MAX_LENGTH = 5000
_DEFAULT = Environment()


@dataclass(eq=False)
class Expression:
    """A parsed expression; two expressions are equal when their source text is."""

    source: str
    tree: object = field(repr=False)
    references: set[str] = field(default_factory=set)
    uses_current: bool = False
    volatile: bool = False  # reads today() or now(): its result changes with the clock

    def __eq__(self, other):
        return isinstance(other, Expression) and other.source == self.source

    def __hash__(self):
        return hash(self.source)

    def __str__(self):
        return self.source

    def evaluate(self, answers: Answers, current: str | None = None, environment: Environment | None = None) -> bool:
        """Whether the expression holds for these answers (and this value of `.`)."""
        return truthy(self.value(answers, current, environment))

    def value(self, answers: Answers, current: str | None = None, environment: Environment | None = None) -> Value:
        """The raw result: text, a number (float) or a boolean."""
        return evaluate(self.tree, answers, current, environment or _DEFAULT)

    def text(self, answers: Answers, current: str | None = None, environment: Environment | None = None) -> str:
        """The result as stored text, as a calculation keeps it ("" for a result that is not a number)."""
        result = self.value(answers, current, environment)
        if isinstance(result, float) and not math.isfinite(result):
            return ""
        return as_text(result)


def parse(text: str) -> Expression:
    """Parse an expression, raising ExpressionError with a readable message and the offending position."""
    if not isinstance(text, str):
        raise ExpressionError("an expression must be text", 0)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    parser = Parser(text)
    tree = parser.parse()
    return Expression(text, tree, parser.references, parser.uses_current, parser.volatile)
