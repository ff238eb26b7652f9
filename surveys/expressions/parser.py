"""Parsing an expression into a tree, by recursive descent over XPath's precedence levels:
or < and < equality (=, !=) < relational (<, <=, >, >=) < additive (+, -) < multiplicative (*, div, mod)
< unary minus < primary. Chains of one level are kept flat, so long expressions need no deep recursion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .functions import ARITY, VOLATILE, pattern_problem
from .tokens import ExpressionError, Token, at, tokenize
from .values import Value

SURVEYCTO_FUNCTIONS = {"duration", "device-info", "phone-call-log", "phone-call-duration", "plug-in-metadata",
                       "linebreak"}  # named as such when refused

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
MAX_DEPTH = 50


@dataclass(frozen=True)
class Literal:
    value: Value


@dataclass(frozen=True)
class Reference:
    name: str


@dataclass(frozen=True)
class Current:
    """`.`: the value being checked (a constraint's answer)."""


@dataclass(frozen=True)
class Nothing:
    """`..` alone: the group around the question, which has no value of its own."""


@dataclass(frozen=True)
class Logical:
    operator: str  # and, or
    operands: tuple


@dataclass(frozen=True)
class Chain:
    """A left-associative chain of one precedence level: first, then (operator, operand) pairs."""

    first: object
    rest: tuple


@dataclass(frozen=True)
class Negation:
    operand: object


@dataclass(frozen=True)
class Call:
    function: str
    arguments: tuple


_LEVELS = (("=", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "div", "mod"))


class Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.references: set[str] = set()
        self.uses_current = False
        self.volatile = False

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def is_punct(self, text: str) -> bool:
        return self.token.kind == "punct" and self.token.text == text

    def expect(self, text: str, context: str) -> None:
        if not self.is_punct(text):
            raise ExpressionError(
                f"expected '{text}' {context} but found {self.token.describe()} {at(self.token.position)}",
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
            return ExpressionError(f"unexpected end of expression {at(token.position)}", token.position)
        if token.kind == "name" and token.text in ("and", "or", "div", "mod"):
            return ExpressionError(f"'{token.text}' needs a value before it {at(token.position)}", token.position)
        if token.kind == "name":
            return ExpressionError(
                f"unexpected word '{token.text}' {at(token.position)} (put text in quotes: '{token.text}', "
                f"and refer to questions as ${{{token.text}}})",
                token.position,
            )
        return ExpressionError(f"unexpected {token.describe()} {at(token.position)}", token.position)

    def or_expression(self):
        return self.logical("or", self.and_expression)

    def and_expression(self):
        return self.logical("and", lambda: self.chain(0))

    def logical(self, operator: str, operand):
        operands = [operand()]
        while self.token.kind == "op" and self.token.text == operator:
            self.advance()
            operands.append(operand())
        return operands[0] if len(operands) == 1 else Logical(operator, tuple(operands))

    def chain(self, level: int):
        operand = (lambda: self.chain(level + 1)) if level + 1 < len(_LEVELS) else self.unary
        first = operand()
        rest = []
        while self.token.kind == "op" and self.token.text in _LEVELS[level]:
            operator = self.advance().text
            rest.append((operator, operand()))
        return Chain(first, tuple(rest)) if rest else first

    def unary(self):
        if self.token.kind == "op" and self.token.text == "-":
            token = self.advance()
            if self.token.kind == "number":
                return Literal(-float(self.advance().text))
            return Negation(self.nested(self.unary, token.position))
        return self.primary()

    def primary(self):
        token = self.token
        if token.kind == "ref":
            self.advance()
            return self.reference(token.text[2:-1].strip(), token)
        if token.kind == "number":
            self.advance()
            return Literal(float(token.text))
        if token.kind == "string":
            self.advance()
            return Literal(token.text[1:-1])
        if token.kind == "path":
            self.advance()
            return self.path(token)
        if self.is_punct("("):
            self.advance()
            node = self.nested(self.or_expression, token.position)
            self.expect(")", f"to close the '(' {at(token.position)}")
            return node
        if token.kind == "name" and self.tokens[self.index + 1].text == "(":
            return self.call()
        raise self.unexpected()

    def reference(self, name: str, token: Token):
        if not NAME_PATTERN.match(name):
            raise ExpressionError(f"'{token.text}' is not a valid question reference {at(token.position)}",
                                  token.position)
        self.references.add(name)
        return Reference(name)

    def path(self, token: Token):
        """`.`, `..`, `./name`, `../name`, `/data/group/name`: a relative or absolute path to a question."""
        steps = [step for step in token.text.split("/") if step not in ("", ".", "..")]
        if steps:
            return self.reference(steps[-1], token)
        if token.text == ".":
            self.uses_current = True
            return Current()
        return Nothing()

    def nested(self, parse, position: int):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested too deeply {at(position)}", position)
        try:
            return parse()
        finally:
            self.depth -= 1

    def call(self):
        token = self.advance()
        name = token.text
        if name not in ARITY:
            kind = "a SurveyCTO-only function" if name in SURVEYCTO_FUNCTIONS else "unknown function"
            raise ExpressionError(f"{kind} '{name}()' {at(token.position)}", token.position)
        self.advance()
        arguments = []
        if not self.is_punct(")"):
            arguments.append(self.nested(self.or_expression, token.position))
            while self.is_punct(","):
                self.advance()
                arguments.append(self.nested(self.or_expression, token.position))
        self.expect(")", f"after the arguments of {name}()")
        fewest, most = ARITY[name]
        if len(arguments) < fewest or (most is not None and len(arguments) > most):
            wanted = str(fewest) if fewest == most else (f"{fewest} or more" if most is None
                                                       else f"{fewest} to {most}")
            plural = "argument" if wanted == "1" else "arguments"
            raise ExpressionError(f"{name}() takes {wanted} {plural}, not {len(arguments)} {at(token.position)}",
                                  token.position)
        self.volatile = self.volatile or name in VOLATILE
        self.check_call(name, arguments, token)
        return Call(name, tuple(arguments))

    def check_call(self, name: str, arguments: list, token: Token) -> None:
        """What can be known before any answer: a regex pattern that cannot run, the question of jr:choice-name."""
        if name == "regex" and isinstance(arguments[1], Literal):
            problem = pattern_problem(str(arguments[1].value))
            if problem:
                raise ExpressionError(f"{problem} {at(token.position)}", token.position)
        if name == "jr:choice-name" and isinstance(arguments[1], Literal):
            text = str(arguments[1].value).strip()
            if text.startswith("${") and text.endswith("}"):
                self.reference(text[2:-1].strip(), token)
