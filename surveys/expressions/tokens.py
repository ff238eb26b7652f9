"""Splitting an XLSForm expression into tokens, with XPath's rule that `*`, `div`, `mod`, `and` and `or` are
operators only where an operand has just ended (so `count-selected` stays one name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class ExpressionError(ValueError):
    """An expression that cannot be parsed; `position` is the 0-based character offset of the problem."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.message = message
        self.position = position


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<ref>\$\{[^}]*\})
  | (?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<path>(?:\.\.|\.)(?:/(?:\.\.|[A-Za-z_][A-Za-z0-9_.-]*))*|(?:/[A-Za-z_][A-Za-z0-9_.-]*)+)
  | (?P<op>!=|<=|>=|=|<|>|\+|-|\*)
  | (?P<punct>[(),])
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*(?::[A-Za-z_][A-Za-z0-9_-]*)?)
    """,
    re.VERBOSE,
)

OPERATOR_NAMES = ("and", "or", "div", "mod")


@dataclass(frozen=True)
class Token:
    kind: str  # ref, number, string, path, op, punct, name, end
    text: str
    position: int

    def describe(self) -> str:
        return "end of expression" if self.kind == "end" else f"'{self.text}'"


def at(position: int) -> str:
    return f"at character {position + 1}"


def _ends_operand(previous: Token | None) -> bool:
    """Whether the token before closes an operand, so a following `*` or `div` is an operator (XPath 3.7)."""
    if previous is None:
        return False
    if previous.kind in ("ref", "number", "string", "path"):
        return True
    return previous.kind == "punct" and previous.text == ")"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            if text.startswith("${", position):
                raise ExpressionError(f"unclosed reference '${{' {at(position)}", position)
            if char in "'\"":
                raise ExpressionError(f"unclosed quote {char} {at(position)}", position)
            if char in "\u2018\u2019\u201c\u201d":
                raise ExpressionError(f"curly quote {char} {at(position)}: use straight quotes ' or \"", position)
            if char == "/":
                raise ExpressionError(f"'/' is not division in a form: write 'div' {at(position)}", position)
            raise ExpressionError(f"unexpected character '{char}' {at(position)}", position)
        kind = match.lastgroup
        if kind != "space":
            previous = tokens[-1] if tokens else None
            word = match.group()
            if kind == "name" and word in OPERATOR_NAMES and _ends_operand(previous):
                kind = "op"
            tokens.append(Token(kind, word, position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens
