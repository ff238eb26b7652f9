"""Text that comes from outside, cleaned before it is stored or written out; no Flask here, so any module may use it."""

# Embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069) reorder whatever follows them on screen, so
# "Ministry<RLO>moc.live" shows as "Ministryevil.com" in a page, an email or a spreadsheet (the "Trojan Source"
# characters, CVE-2021-42574). The marks U+200E, U+200F and U+061C stay: they reorder nothing by themselves, and a
# right-to-left name mixed with Latin letters or numbers needs them to read right.
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def strip_bidi_controls(text):
    """`text` without direction embeddings, overrides and isolates; anything else (None, a number) as it is."""
    return text.translate(BIDI_CONTROLS) if isinstance(text, str) else text
