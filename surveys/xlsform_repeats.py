"""Reading `begin repeat` / `end repeat` rows for the XLSForm builder.

A repeat opens its own name scope, as XLSForm allows: a name is unique within its repeat, so three repeats may each
have a `name` and an `age`. `repeat_count` is a whole number or an expression (checked like any other).

A group inside a repeat opens a scope as well.

Where a repeat is shown: at top level it is a page of its own; inside a group, a part of that group's page (after
the questions before it). A group inside a repeat is read for its names and relevance, and its questions are shown
in the entry in form order (no heading of their own). A repeat inside a repeat (at any depth, also inside a group of the
repeat) is read as that repeat's inner repeat (`Repeat.repeats`): its own name scope, its own repeat_count. A
repeat inside a table-list group is refused with the row named.

The entries' storage and operations live in surveys.repeats.
"""

from __future__ import annotations

from .repeats import MAX_ENTRIES, Repeat

IN_GRID = "a repeat cannot sit inside the table-list group '{outer}' (opened at row {row})"


def begin_repeat(builder, row, stack):
    """The stack entry for a `begin repeat` row: checks its name, label and repeat_count, opens a name scope."""
    from .definition import Page
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
    repeat.conditions = [outer.relevant for outer in stack if outer.relevant is not None]
    group = _Group("repeat", repeat, row, repeat.relevant)
    group.repeat = repeat
    parent = stack[-1] if stack else None
    outer = next((g for g in reversed(stack) if g.kind in ("repeat", "grid")), None)
    if outer is not None and outer.kind == "grid":
        builder.problem(row, row.header("type"), IN_GRID.format(outer=outer.node.name, row=outer.row.number))
    elif outer is not None:  # an inner repeat: one per entry of the outer one
        outer.repeat.repeats.append(repeat)
    elif parent is None:  # a page of its own, carrying the repeat's label and condition
        group.page = Page(name=name, label=dict(repeat.label), hint=dict(repeat.hint), relevant=repeat.relevant,
                          relevant_source=repeat.relevant_source, row=row.number, items=[repeat])
    elif parent.node is not None:
        parent.items.append(repeat)
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
    if group.kind == "repeat":
        return  # begin_repeat opened the scope
    inside = next((outer for outer in reversed(stack) if outer.kind == "repeat"), None)
    if inside is not None:
        group.outer_names = builder.names
        builder.names = {}
        group.kind, group.node, group.items = "void", None, inside.items  # its questions join the entry


def close_scope(builder, group) -> None:
    outer = getattr(group, "outer_names", None)
    if outer is not None:
        builder.names = outer


def end_repeat(builder, group) -> None:
    """Gives the repeat its questions; its name scope is closed by close_scope."""
    repeat: Repeat = group.repeat
    repeat.questions = [item for item in group.items if hasattr(item, "type")]
    builder.refused.add(repeat.name)  # the names expressions may read without a question: count(${people})
    if not repeat.questions:
        builder.problem(group.row, group.row.header("type"), f"the repeat '{repeat.name}' holds no questions")
