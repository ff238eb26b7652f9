"""Values the server computes: `calculate` rows and read-only questions with a `calculation`, worked out again
whenever an answer they read changes, and stored with the response like answers (so exports and the analysis
read them as columns). A calculation on a hidden question, or one that is no number or text, is empty. No Flask.
"""

from __future__ import annotations

from collections.abc import Mapping

from .definition import Question, SurveyDefinition
from .expressions import Environment
from .relevance import visible_questions
from .repeats import RepeatAnswers


def environment(definition: SurveyDefinition) -> Environment:
    """jr:choice-name() gives a choice's label in the form's default language (what is stored does not depend on
    the partner's language)."""

    def choice_label(question_name: str, code: str) -> str:
        question = definition.question(question_name)
        for choice in question.choices if question else ():
            if choice.name == code:
                return definition.text(choice.label, definition.default_language) or code
        return code

    return Environment(choice_label=choice_label)


def calculated_changes(definition: SurveyDefinition, values: Mapping[str, str],
                       partner: Mapping[str, str]) -> dict[str, str | None]:
    """The computed values that differ from the stored ones, for these answers (None clears one).

    Calculations may read each other in any order (cycles are refused at import), so they are worked out until
    nothing changes, at most once per calculation.
    """
    questions = definition.calculated_questions()
    if not questions:
        return {}
    env = environment(definition)
    repeats = definition.repeats()  # sum(${age}) and count(${people}) read every entry (surveys.repeats)
    current = {name: value for name, value in values.items() if value}
    for _round in range(len(questions) + 1):
        shown = visible_questions(definition, current, partner)
        context = {**partner, **current}
        changed = False
        for question in questions:
            value = question.calculation.text(RepeatAnswers(context, repeats) if repeats else context,
                                              current.get(question.name), env) if question.name in shown else ""
            if value != (current.get(question.name) or ""):
                changed = True
                if value:
                    current[question.name] = context[question.name] = value
                else:
                    current.pop(question.name, None)
                    context.pop(question.name, None)
        if not changed:
            break
    return {q.name: current.get(q.name) for q in questions if current.get(q.name) != (values.get(q.name) or None)}


def default_of(question: Question, definition: SurveyDefinition, partner: Mapping[str, str]) -> str:
    """A default that is an expression (today(), concat(${partner_country}, '-')), worked out when the partner
    starts; "" when it gives nothing."""
    if question.default_expression is None:
        return ""
    return question.default_expression.text(dict(partner), environment=environment(definition))
