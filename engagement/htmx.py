"""One place that decides between a full page and the fragment htmx asked for."""

from flask import Response, make_response, redirect, render_template
from htmx_flask import make_response as htmx_response
from htmx_flask import request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, **context) -> Response:
    """Render the page, or only `block` of it for htmx; the same template and context either way."""
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str, status: int = 303) -> Response:
    """A redirect the browser follows: HX-Redirect for htmx (never a page swapped into a fragment), else a 303."""
    if request.htmx:
        return htmx_response("", 204, redirect=url)
    return redirect(url, status)
