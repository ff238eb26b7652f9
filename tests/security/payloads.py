"""Hostile text, one list for every XSS test: each payload and what must never appear in a page that shows it."""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Payload:
    name: str
    text: str
    forbidden: tuple[str, ...]  # what an unescaped rendering would contain
    escaped: str  # what the escaped rendering contains, proving the field was shown at all


PAYLOADS = [
    Payload("script", "<script>alert(1)</script>", ("<script>alert(1)",), "&lt;script&gt;alert(1)&lt;/script&gt;"),
    Payload("attribute-break", '"><img src=x onerror=alert(1)>', ("<img src=x", "onerror=alert(1)>"),
            "&lt;img src=x onerror=alert(1)&gt;"),
    Payload("svg", "'><svg onload=alert(1)>", ("<svg onload",), "&lt;svg onload=alert(1)&gt;"),
    Payload("template", "{{7*191}} {% print 'x' %}", ("1337",), "{{7*191}}"),
    Payload("javascript-url", "javascript:alert(1)//", (), "javascript:alert(1)//"),
]
IDS = [p.name for p in PAYLOADS]
_DANGEROUS_URL = re.compile(r"""(href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def assert_escaped(html: str, payload: Payload, where: str, shown: bool = True) -> None:
    """The payload is shown as text (when `shown`), and nothing of it runs."""
    for bad in payload.forbidden:
        assert bad not in html, f"{where}: unescaped {bad!r}"
    assert not _DANGEROUS_URL.search(html), f"{where}: javascript: URL in an attribute"
    if shown:
        assert payload.escaped in html, f"{where}: the payload is not shown at all (test does not prove escaping)"
