"""Reading `begin repeat` / `end repeat` rows for the XLSForm builder.

A repeat opens its own name scope, as XLSForm allows: a name is unique within its repeat, so three repeats may each
have a `name` and an `age`. `repeat_count` is a whole number or an expression (checked like any other).

The entries' storage and operations live in surveys.repeats. Until the partner pages, review, exports and report
show entries, a form with a repeat is still refused (one message per repeat, naming the row), so that no form
imports with questions a partner could never answer.
"""

from __future__ import annotations

from .repeats import MAX_ENTRIES, Repeat

REFUSAL = "repeats cannot be answered on this platform yet (repeat '{name}')"


def begin_repeat(builder, row, stack):
    """The stack entry for a `begin repeat` row: checks its name, label and repeat_count, opens a name scope."""
    from .xlsform_building import _Group

    name = row.values.get("name") or f"repeat_row_{row.number}"
    if "name" in row.values:
        builder.claim_name(row, "repeat")
    repeat = Repeat(
        name=name,
        label=builder.text(row, "label"),
        hint=builder.text(row, "hint"),
        relevant=builder.expression(row, "relevant"),
        relevant_source=row.values.get("relevant", ""),
        row=row.number,
    )
    read_count(builder, row, repeat)
    group = _Group("repeat", None, row, repeat.relevant)
    group.repeat = repeat
    group.outer_names = builder.names
    builder.names = {}  # the repeat's own scope
    return group


def read_count(builder, row, repeat: Repeat) -> None:
    text = row.values.get("repeat_count", "").strip()
    if not text:
        return
    if text.isdigit():
        count = int(text)
        if not 1 <= count <= MAX_ENTRIES:
            builder.problem(
                row, row.header("repeat_count"), f"repeat_count must be from 1 to {MAX_ENTRIES}, not {count}"
            )
        repeat.fixed_count = count
        return
    repeat.count_expression = builder.expression(row, "repeat_count")
    repeat.count_source = text


def end_repeat(builder, group) -> None:
    """Closes the repeat's name scope and reports the repeat (see REFUSAL)."""
    repeat: Repeat = group.repeat
    repeat.questions = [item for item in group.items if hasattr(item, "type")]
    builder.names = group.outer_names
    builder.problem(group.row, group.row.header("type"), REFUSAL.format(name=repeat.name))
    builder.refused.add(repeat.name)
