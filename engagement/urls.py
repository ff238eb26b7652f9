"""URLs that come from outside: return paths kept on this site, ids in paths bounded to what the database holds."""

import unicodedata
from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter

# The largest id an Integer column holds on every database we run on (PostgreSQL's integer is 32 bits).
MAX_ID = 2**31 - 1


def same_site_path(target: str | None) -> str | None:
    """`target` when it is a path of this site ("/partners/?q=ghana"), else None.

    Browsers drop tabs and line breaks inside a URL and read a backslash as a slash, so "/<tab>/evil.example" and
    "/\\evil.example" lead to another site; a line break would also make Werkzeug refuse the header (a 500). So a
    target with any control character or backslash is refused whole, rather than cleaned and trusted.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(unicodedata.category(char) == "Cc" for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


class IdConverter(IntegerConverter):
    """`<int:...>` in our URLs: a number larger than any id is no page (404), not an overflow in SQL (500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
