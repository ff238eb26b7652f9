"""The audit log page: who did what and when, newest first, each entry said as a sentence; admins only."""

from flask import Blueprint, abort, request

from .audit import action_name, describe
from .auth import admin_required, require_secretariat
from .extensions import db
from .htmx import render
from .models import AuditEntry

bp = Blueprint("audit", __name__, url_prefix="/secretariat")
bp.before_request(require_secretariat)

PAGE_SIZE = 50
MAX_PAGE = 100_000  # five million entries; a larger page number is no page at all (and would overflow SQL's OFFSET)


@bp.get("/audit")
@admin_required
def log():
    """Who did what and when, newest first; only admins read it."""
    codes = db.session.scalars(db.select(AuditEntry.action).distinct()).all()
    actions = sorted(((code, action_name(code)) for code in codes), key=lambda item: item[1].casefold())
    action = request.args.get("action", "")
    page = max(request.args.get("page", 1, type=int), 1)
    if page > MAX_PAGE:
        abort(404)
    query = db.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    unknown_action = bool(action) and action not in codes
    if action and not unknown_action:
        query = query.where(AuditEntry.action == action)
    entries = db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
    status = 400 if unknown_action else 404 if page > 1 and not entries.items else 200
    return render("audit/log.html", block="entries", status=status,
                  entries=entries, described=describe(entries.items), actions=actions,
                  action="" if unknown_action else action, unknown_action=action if unknown_action else None)
