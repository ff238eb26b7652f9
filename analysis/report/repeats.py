"""The report's section on repeats: how many entries the analysed responses hold, per repeat (analysis.loader reads
the counts from each `<repeat>#entries` answer)."""

from __future__ import annotations

from ..repeat_tables import every_repeat
from .context import ReportContext
from .model import Block, Column, Section, Table, _


def repeats_section(b: ReportContext) -> Section | None:
    """One row per repeat (one inside a repeat too, its entries in every outer entry added up): responses with at
    least one entry, entries in all, entries per analysed response; a row with fewer responses than the threshold is
    withheld (logged like every suppressed cell)."""
    repeats = b.definition.repeats()
    if not repeats:
        return None
    ids = set(b.respondents["response_id"])
    labels, with_entries, totals = [], [], []
    named = {}
    for path, repeat in every_repeat(repeats):  # a repeat inside a repeat: "Child / Cartoon"
        named[path] = b.definition.text(repeat.label, b.language) or repeat.name
        counts = {rid: n for rid, n in b.data.entries.get(path, {}).items() if rid in ids and n}
        labels.append(named[path] if "/" not in path else f"{named[path.rpartition('/')[0]]} / {named[path]}")
        with_entries.append(len(counts))
        totals.append(sum(counts.values()))
    key = "repeat-entries"
    hide = b.hide_rows(key, labels, with_entries, complementary=False)
    columns = [Column("item", _("Repeated block")), Column("n", _("Responses with entries"), "int"),
               Column("entries", _("Entries"), "int"), Column("mean", _("Entries per response"), "mean")]
    rows = [{"item": label, "n": n, "entries": total, "mean": total / b.n if b.n else None}
            for label, n, total in zip(labels, with_entries, totals, strict=True)]
    hidden = [{"n", "entries", "mean"} if hide[i] else set() for i in range(len(rows))]
    section = Section("repeats", _("Repeated blocks: entries"))
    section.blocks.append(Block(Table(key, _("Entries per repeated block"), columns, rows, hidden,
                                      notes=[_("Entries per response counts every analysed response, with entries "
                                               "or not.")]), heading=_("Entries per repeated block")))
    if b.n == 0:
        section.message = b.not_enough()
    return section
