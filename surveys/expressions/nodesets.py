"""A node-set: what `${name}` means for a question inside a repeat, read from outside its entry (all entries' values).

It is text (XPath's string() of a node-set is its first node's value), so every function that does not know about
repeats reads it as before; `count`, `sum` and `indexed-repeat` read all of its values.
"""

from __future__ import annotations

POSITION = "#position"  # the key under which an entry's answers carry its place (1, 2, ...) for position()


class NodeSet(str):
    values: tuple[str, ...]

    def __new__(cls, values):
        values = tuple("" if v is None else str(v) for v in values)
        node = super().__new__(cls, values[0] if values else "")
        node.values = values
        return node
