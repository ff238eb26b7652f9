"""One place that decides between a full page and the fragment htmx asked for."""

import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from weakref import WeakKeyDictionary

from flask import Response, make_response, redirect, render_template, request
from flask_babel import get_translations
from jinja2.ext import _make_new_gettext, _make_new_ngettext
from jinja2_fragments.flask import render_block

_bound: WeakKeyDictionary = WeakKeyDictionary()


def is_htmx() -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render(template: str, block: str | None = None, status: int = 200, **context) -> Response:
    """Render the page, or only `block` of it for htmx; the same template and context either way."""
    context.update(_translators())
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str, status: int = 303) -> Response:
    """A redirect the browser follows: HX-Redirect for htmx (never a page swapped into a fragment), else a 303."""
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, status)


def _translators() -> dict:
    """`gettext`/`_` and `ngettext` for templates, bound to this request's catalogue once per render.

    Flask-Babel's own look the catalogue up again at every `_()`: a partner's page calls it some fifty times, which
    was a tenth of the page's CPU time. Same output (Jinja's newstyle wrappers, autoescaped, %-formatted).
    """
    translations = get_translations()
    bound = _bound.get(translations)
    if bound is None:
        bound = _bound[translations] = {"gettext": _make_new_gettext(translations.ugettext),
                                        "ngettext": _make_new_ngettext(translations.ungettext)}
    return bound


class RenderCache:
    """Rendered HTML shared by every visitor whose page would come out the same, bounded (least recently used goes).

    A partner's page carries two things of its own: the link's token (in its URLs) and the CSRF token. They are
    cut out of the stored copy and each response gets its own put back, so the key only needs what else the page
    depends on. The caller must not store HTML in which a secret could also come from content (an answer that
    contains the token), since it would be put back there too: `put` refuses it when told such content.
    """

    def __init__(self, size: int = 256):
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[list[str], list[int]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, secrets: Sequence[str]) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
        pieces, holes = entry
        parts = [pieces[0]]
        for hole, piece in zip(holes, pieces[1:], strict=True):
            parts += (secrets[hole], piece)
        return "".join(parts)

    def put(self, key: Hashable, html: str, secrets: Sequence[str], content: Sequence[str] = ()) -> None:
        if self.size <= 0 or any(secret in text for secret in secrets for text in content if text):
            return
        pattern = re.compile("|".join(re.escape(secret) for secret in secrets))
        holes = [secrets.index(found) for found in pattern.findall(html)]
        entry = (pattern.split(html), holes)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
