"""Secretariat pages: rounds overview, monitoring dashboard, report, exports."""

from flask import Blueprint

from engagement.auth import require_secretariat
from engagement.htmx import render

bp = Blueprint("analysis", __name__, url_prefix="/secretariat")
bp.before_request(require_secretariat)


@bp.get("/")
def rounds_overview():
    """The Secretariat's home: every round and how far it has come."""
    return render("analysis/rounds.html")
