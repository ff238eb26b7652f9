"""Recording secretariat actions for the audit log."""

from flask import has_request_context
from flask_login import current_user

from .extensions import db
from .models import AuditEntry


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
