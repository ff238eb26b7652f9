"""The Secretariat's link to a partner's uploaded file: signed-in staff only (analysts too: reading changes nothing).
The link names the response and the question, so an export can write it without looking files up."""

from flask import Blueprint, abort, current_app

from engagement.auth import require_secretariat

from .uploads import download, uploaded_file

bp = Blueprint("uploaded_files", __name__, url_prefix="/secretariat/files")
bp.before_request(require_secretariat)


def files_url() -> str:
    """Where exports point staff for a file: <this>/<response id>/<question>."""
    return current_app.config["BASE_URL"].rstrip("/") + bp.url_prefix


@bp.get("/<int:response_id>/<question>")
def staff_download(response_id: int, question: str):
    """A partner's file, downloaded by the Secretariat."""
    found = uploaded_file(response_id, question)
    if found is None:
        abort(404)
    return download(found)
