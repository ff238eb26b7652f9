"""One place that decides between a full page and the fragment htmx asked for."""

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
