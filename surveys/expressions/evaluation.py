"""Evaluating a parsed expression against stored answers, without eval(), with XPath's rules for types."""

from __future__ import annotations

from collections.abc import Mapping

from .functions import Environment, call
from .nodesets import POSITION, NodeSet
from .parser import Call, Chain, Current, Literal, Logical, Negation, Nothing, Reference
from .values import Value, arithmetic, as_number, compare, truthy

Answers = Mapping[str, "str | None"]
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")


def evaluate(node, answers: Answers, current: str | None, environment: Environment) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Reference):
        value = answers.get(node.name)
        return value if isinstance(value, NodeSet) else (value or "")  # an empty node-set still counts 0
    if isinstance(node, Current):
        return current or ""
    if isinstance(node, Nothing):
        return ""
    if isinstance(node, Logical):
        results = (truthy(evaluate(operand, answers, current, environment)) for operand in node.operands)
        return all(results) if node.operator == "and" else any(results)
    if isinstance(node, Chain):
        result = evaluate(node.first, answers, current, environment)
        for operator, operand in node.rest:
            right = evaluate(operand, answers, current, environment)
            result = compare(operator, result, right) if operator in _COMPARISONS else \
                arithmetic(operator, result, right)
        return result
    if isinstance(node, Negation):
        return -as_number(evaluate(node.operand, answers, current, environment))
    return _call(node, answers, current, environment)


def _call(node: Call, answers: Answers, current: str | None, environment: Environment) -> Value:
    if node.function == "if":
        condition = truthy(evaluate(node.arguments[0], answers, current, environment))
        return evaluate(node.arguments[1 if condition else 2], answers, current, environment)
    if node.function == "once":  # keeps the value it already has (`.`), worked out the first time only
        return current if current else evaluate(node.arguments[0], answers, current, environment)
    if node.function == "coalesce":
        first = evaluate(node.arguments[0], answers, current, environment)
        return first if truthy(first) or first is False else evaluate(node.arguments[1], answers, current,
                                                                        environment)
    if node.function == "position" and answers.get(POSITION):  # inside a repeat entry (surveys.repeats)
        return float(answers.get(POSITION))
    arguments = [evaluate(argument, answers, current, environment) for argument in node.arguments]
    return call(node.function, arguments, environment)
