"""The audit log: recording secretariat actions, and the page where admins read them."""

from flask import Blueprint, abort, has_request_context, request
from flask_login import current_user

from .auth import admin_required, require_secretariat
from .extensions import db
from .htmx import render
from .models import AuditEntry

bp = Blueprint("audit", __name__, url_prefix="/secretariat")
bp.before_request(require_secretariat)

PAGE_SIZE = 50
MAX_PAGE = 100_000  # five million entries; a larger page number is no page at all (and would overflow SQL's OFFSET)


def record(action: str, target: str = "", actor: str | None = None, **details) -> AuditEntry:
    """Add an audit entry to the current transaction; the caller commits it with the change it describes."""
    user_id = None
    if actor is None:
        if has_request_context() and current_user.is_authenticated:
            actor, user_id = current_user.email, current_user.id
        else:
            actor = "cli"
    entry = AuditEntry(actor=actor, user_id=user_id, action=action, target=str(target)[:300], details=details)
    db.session.add(entry)
    return entry


@bp.get("/audit")
@admin_required
def log():
    """Who did what and when, newest first; only admins read it."""
    actions = db.session.scalars(db.select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    action = request.args.get("action", "")
    page = max(request.args.get("page", 1, type=int), 1)
    if page > MAX_PAGE:
        abort(404)
    query = db.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    unknown_action = bool(action) and action not in actions
    if action and not unknown_action:
        query = query.where(AuditEntry.action == action)
    entries = db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
    status = 400 if unknown_action else 404 if page > 1 and not entries.items else 200
    return render("audit/log.html", block="entries", status=status,
                  entries=entries, actions=actions, action="" if unknown_action else action,
                  unknown_action=action if unknown_action else None)
