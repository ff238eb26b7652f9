"""The partner registry: organisations and their contacts, kept by the Secretariat."""

from flask import Blueprint

from engagement.auth import require_secretariat

bp = Blueprint("partners", __name__, url_prefix="/partners")
bp.before_request(require_secretariat)

from . import routes  # noqa: F401  (views register themselves on bp)
