"""Reading `begin repeat` / `end repeat` rows for the XLSForm builder.

A repeat opens its own name scope, as XLSForm allows: a name is unique within its repeat, so three repeats may each
have a `name` and an `age`. `repeat_count` is a whole number or an expression (checked like any other).

A group inside a repeat opens a scope as well.

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


def open_group_scope(builder, group, stack) -> None:
    """A group inside a repeat opens its own name scope too (pyxform checks names among siblings): a household
    member's `age` may appear both in an adult group and a child group of the same repeat."""
    if any(outer.kind == "repeat" for outer in stack):
        group.outer_names = builder.names
        builder.names = {}


def close_scope(builder, group) -> None:
    outer = getattr(group, "outer_names", None)
    if outer is not None:
        builder.names = outer


def end_repeat(builder, group) -> None:
    """Reports the repeat (see REFUSAL); its name scope is closed by close_scope."""
    repeat: Repeat = group.repeat
    repeat.questions = [item for item in group.items if hasattr(item, "type")]
    builder.problem(group.row, group.row.header("type"), REFUSAL.format(name=repeat.name))
    builder.refused.add(repeat.name)
