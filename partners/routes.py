"""Registry pages."""

from engagement.htmx import render

from . import bp


@bp.get("/")
def list_partners():
    """The partner registry."""
    return render("partners/list.html")
