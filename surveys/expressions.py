"""XLSForm expressions (relevant, constraint), parsed into a tree and evaluated without eval().

The grammar is the small part of XPath that survey forms use: `${question}` references, `.` (the value being
checked), comparisons, numbers, quoted text, `and`, `or`, parentheses and a handful of functions
(selected, count-selected, not, true, false, string-length, today). Values follow
ODK/Enketo: every answer is a stored string ("" when unanswered, space-separated codes for select_multiple).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

PARTNER_ATTRIBUTES = (
    "partner_category",
    "partner_country",
    "partner_region",
    "partner_pathfinder",
    "partner_action_groups",
    "partner_gcg_member",
)

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
MAX_LENGTH = 5000
MAX_DEPTH = 50

Value = str | float | bool
Answers = Mapping[str, "str | None"]


class ExpressionError(ValueError):
    """An expression that cannot be parsed; `position` is the 0-based character offset of the problem."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.message = message
        self.position = position


# ---------------------------------------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<ref>\$\{[^}]*\})
  | (?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<punct>[(),.\-])
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # ref, number, string, op, punct, name, end
    text: str
    position: int


def _describe(token: _Token) -> str:
    return "end of expression" if token.kind == "end" else f"'{token.text}'"


def _at(position: int) -> str:
    return f"at character {position + 1}"


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            if text.startswith("${", position):
                raise ExpressionError(f"unclosed reference '${{' {_at(position)}", position)
            if char in "'\"":
                raise ExpressionError(f"unclosed quote {char} {_at(position)}", position)
            if char in "\u2018\u2019\u201c\u201d":
                raise ExpressionError(
                    f"curly quote {char} {_at(position)}: use straight quotes ' or \"", position
                )
            raise ExpressionError(f"unexpected character '{char}' {_at(position)}", position)
        kind = match.lastgroup
        if kind != "space":
            tokens.append(_Token(kind, match.group(), position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# ---------------------------------------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class _Literal:
    value: Value


@dataclass(frozen=True)
class _Reference:
    name: str


@dataclass(frozen=True)
class _Current:
    pass


@dataclass(frozen=True)
class _Logical:
    operator: str  # and, or
    operands: tuple


@dataclass(frozen=True)
class _Comparison:
    """A left-associative chain: first, then (operator, operand) pairs; flat so long chains need no recursion."""

    first: object
    rest: tuple


@dataclass(frozen=True)
class _Call:
    function: str
    arguments: tuple


FUNCTIONS = {  # name -> number of arguments
    "selected": 2,
    "count-selected": 1,
    "not": 1,
    "true": 0,
    "false": 0,
    "string-length": 1,
    "today": 0,
}


class _Parser:
    """Recursive descent: or < and < equality (=, !=) < relational (<, <=, >, >=) < primary."""

    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0
        self.references: set[str] = set()
        self.uses_current = False

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str, context: str) -> None:
        if self.token.text != text or self.token.kind in ("string", "end"):
            raise ExpressionError(
                f"expected '{text}' {context} but found {_describe(self.token)} {_at(self.token.position)}",
                self.token.position,
            )
        self.advance()

    def parse(self):
        if self.token.kind == "end":
            raise ExpressionError("the expression is empty", 0)
        node = self.or_expression()
        if self.token.kind != "end":
            raise self.unexpected()
        return node

    def unexpected(self) -> ExpressionError:
        token = self.token
        if token.kind == "end":
            return ExpressionError(f"unexpected end of expression {_at(token.position)}", token.position)
        return ExpressionError(f"unexpected {_describe(token)} {_at(token.position)}", token.position)

    def or_expression(self):
        return self.logical("or", self.and_expression)

    def and_expression(self):
        return self.logical("and", self.equality)

    def logical(self, operator: str, operand):
        operands = [operand()]
        while self.token.kind == "name" and self.token.text == operator:
            self.advance()
            operands.append(operand())
        return operands[0] if len(operands) == 1 else _Logical(operator, tuple(operands))

    def equality(self):
        return self.chain(("=", "!="), self.relational)

    def relational(self):
        return self.chain(("<", "<=", ">", ">="), self.primary)

    def chain(self, operators: tuple[str, ...], operand):
        first = operand()
        rest = []
        while self.token.kind == "op" and self.token.text in operators:
            operator = self.advance().text
            rest.append((operator, operand()))
        return _Comparison(first, tuple(rest)) if rest else first

    def primary(self):
        token = self.token
        if token.kind == "ref":
            self.advance()
            name = token.text[2:-1].strip()
            if not NAME_PATTERN.match(name):
                raise ExpressionError(
                    f"'{token.text}' is not a valid question reference {_at(token.position)}", token.position
                )
            self.references.add(name)
            return _Reference(name)
        if token.kind == "number":
            self.advance()
            return _Literal(float(token.text))
        if token.kind == "string":
            self.advance()
            return _Literal(token.text[1:-1])
        if token.kind == "punct" and token.text == ".":
            self.advance()
            self.uses_current = True
            return _Current()
        if token.kind == "punct" and token.text == "-":
            self.advance()
            if self.token.kind != "number":
                raise ExpressionError(
                    f"'-' must be followed by a number {_at(token.position)}", token.position
                )
            return _Literal(-float(self.advance().text))
        if token.kind == "punct" and token.text == "(":
            self.advance()
            node = self.nested(self.or_expression, token.position)
            self.expect(")", f"to close the '(' {_at(token.position)}")
            return node
        if token.kind == "name":
            return self.call()
        raise self.unexpected()

    def nested(self, parse, position: int):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested too deeply {_at(position)}", position)
        try:
            return parse()
        finally:
            self.depth -= 1

    def call(self):
        token = self.advance()
        following = self.token
        if not (following.kind == "punct" and following.text == "("):
            if token.text in ("and", "or"):
                raise ExpressionError(
                    f"'{token.text}' needs a condition before it {_at(token.position)}", token.position
                )
            raise ExpressionError(
                f"unexpected word '{token.text}' {_at(token.position)} (put text in quotes: '{token.text}', "
                f"and refer to questions as ${{{token.text}}})",
                token.position,
            )
        if token.text not in FUNCTIONS:
            raise ExpressionError(f"unknown function '{token.text}' {_at(token.position)}", token.position)
        self.advance()
        arguments = []
        if not (self.token.kind == "punct" and self.token.text == ")"):
            arguments.append(self.nested(self.or_expression, token.position))
            while self.token.kind == "punct" and self.token.text == ",":
                self.advance()
                arguments.append(self.nested(self.or_expression, token.position))
        self.expect(")", f"after the arguments of {token.text}()")
        wanted = FUNCTIONS[token.text]
        if len(arguments) != wanted:
            plural = "argument" if wanted == 1 else "arguments"
            raise ExpressionError(
                f"{token.text}() takes {wanted} {plural}, not {len(arguments)} {_at(token.position)}",
                token.position,
            )
        return _Call(token.text, tuple(arguments))


# ---------------------------------------------------------------------------------------------------------- values

_NUMERIC = re.compile(r"^\s*-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$")


def _as_number(value: Value) -> float | None:
    """The number a value stands for, or None when it does not look numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return value
    if _NUMERIC.match(value):
        return float(value)
    return None


def as_text(value: Value) -> str:
    """The string form of a value, as XPath's string() gives it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def truthy(value: Value) -> bool:
    """XPath boolean(): non-empty text, a non-zero number, or true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value != 0 and not math.isnan(value)
    return value != ""


def _compare(operator: str, left: Value, right: Value) -> bool:
    if operator in ("=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            same = truthy(left) == truthy(right)
        else:
            left_number, right_number = _as_number(left), _as_number(right)
            if left_number is not None and right_number is not None:
                same = left_number == right_number
            else:
                same = as_text(left).strip() == as_text(right).strip()
        return same if operator == "=" else not same
    left_number, right_number = _as_number(left), _as_number(right)
    if left_number is not None and right_number is not None:
        a, b = left_number, right_number
    else:
        a, b = as_text(left), as_text(right)
        if a == "" or b == "":
            return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[operator]


def _codes(value: Value) -> list[str]:
    return as_text(value).split()


@dataclass(eq=False)
class Expression:
    """A parsed expression; two expressions are equal when their source text is."""

    source: str
    tree: object = field(repr=False)
    references: set[str] = field(default_factory=set)
    uses_current: bool = False

    def __eq__(self, other):
        return isinstance(other, Expression) and other.source == self.source

    def __hash__(self):
        return hash(self.source)

    def __str__(self):
        return self.source

    def evaluate(self, answers: Answers, current: str | None = None) -> bool:
        """Whether the expression holds for these answers (and this value of `.`)."""
        return truthy(self.value(answers, current))

    def value(self, answers: Answers, current: str | None = None) -> Value:
        """The raw result: text, a number (float) or a boolean."""
        return _evaluate(self.tree, answers, current)


def _evaluate(node, answers: Answers, current: str | None) -> Value:
    if isinstance(node, _Literal):
        return node.value
    if isinstance(node, _Reference):
        return answers.get(node.name) or ""
    if isinstance(node, _Current):
        return current or ""
    if isinstance(node, _Logical):
        results = (truthy(_evaluate(operand, answers, current)) for operand in node.operands)
        return all(results) if node.operator == "and" else any(results)
    if isinstance(node, _Comparison):
        result = _evaluate(node.first, answers, current)
        for operator, operand in node.rest:
            result = _compare(operator, result, _evaluate(operand, answers, current))
        return result
    arguments = [_evaluate(argument, answers, current) for argument in node.arguments]
    if node.function == "selected":
        return as_text(arguments[1]).strip() in _codes(arguments[0])
    if node.function == "count-selected":
        return float(len(_codes(arguments[0])))
    if node.function == "not":
        return not truthy(arguments[0])
    if node.function == "string-length":
        return float(len(as_text(arguments[0])))
    if node.function == "today":
        return date.today().isoformat()
    return node.function == "true"


def parse(text: str) -> Expression:
    """Parse an expression, raising ExpressionError with a readable message and the offending position."""
    if not isinstance(text, str):
        raise ExpressionError("an expression must be text", 0)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    parser = _Parser(text)
    tree = parser.parse()
    return Expression(text, tree, parser.references, parser.uses_current)
