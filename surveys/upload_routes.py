"""The Secretariat's link to a partner's uploaded file: signed-in staff only (analysts too: reading changes nothing)."""

from flask import Blueprint, abort

from engagement.auth import require_secretariat
from engagement.extensions import db

from .models import UploadedFile
from .uploads import download

bp = Blueprint("uploaded_files", __name__, url_prefix="/secretariat/files")
bp.before_request(require_secretariat)


@bp.get("/<int:file_id>")
def staff_download(file_id: int):
    """A partner's file, downloaded by the Secretariat."""
    found = db.session.get(UploadedFile, file_id)
    if found is None:
        abort(404)
    return download(found)
