"""Files partners upload to answer image, photo and file questions: checked (size, type by extension and by content),
kept in the store under a random name, their original name saved as the answer. Nothing here decides who may read a
file: the partner's own link, or a signed-in member of the Secretariat (see the routes)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from engagement.database import run_write
from engagement.extensions import db
from engagement.storage import file_storage

from .definition import Question
from .models import Answer, Response, UploadedFile

# What each accepted extension's content must start with; text types are checked as UTF-8 without NUL bytes.
SIGNATURES = {
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (b"PK\x03\x04",)),
    ".odt": ("application/vnd.oasis.opendocument.text", (b"PK\x03\x04",)),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", (b"PK\x03\x04",)),
    ".csv": ("text/csv", ()),
    ".txt": ("text/plain", ()),
}
IMAGE_DEFAULT = (".png", ".jpg", ".jpeg", ".gif", ".webp")
FILE_DEFAULT = (".pdf", ".png", ".jpg", ".jpeg", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".csv", ".txt")
# A MIME type a form may write in body::accept, and the extensions it stands for.
MIME_EXTENSIONS = {"image/*": IMAGE_DEFAULT, "image/png": (".png",), "image/jpeg": (".jpg", ".jpeg"),
                   "image/gif": (".gif",), "image/webp": (".webp",), "application/pdf": (".pdf",),
                   "text/csv": (".csv",), "text/plain": (".txt",)}


class UploadRefused(ValueError):
    """An upload that changes nothing, with the message the partner reads."""


@dataclass(frozen=True)
class StoredUpload:
    key: str
    file_name: str
    content_type: str
    size: int


def accepted_extensions(question: Question) -> tuple[str, ...]:
    """The form's accepted types (body::accept: '.pdf,.docx' or 'image/*'), limited to those we can check, or a
    safe default list for the question's type."""
    default = IMAGE_DEFAULT if question.type == "image" else FILE_DEFAULT
    written = question.parameters.get("accept", "")
    if not written:
        return default
    found: list[str] = []
    for item in written.replace(";", ",").replace(" ", ",").lower().split(","):
        item = item.strip()
        extensions = MIME_EXTENSIONS.get(item, (item if item.startswith(".") else f".{item}",))
        found += [e for e in extensions if e in SIGNATURES and e not in found]
    return tuple(found) or default


def checked_upload(question: Question, file_name: str, data: bytes) -> StoredUpload:
    """The upload as it will be kept, or UploadRefused: empty, too large, a refused type, or content that is not
    what its extension says."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[-200:]
    if not name or not data:
        raise UploadRefused(_("Choose a file to upload."))
    if len(data) > limit:
        raise UploadRefused(_("This file is too large: %(size)s at most.", size=readable_size(limit)))
    extensions = accepted_extensions(question)
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in extensions:
        raise UploadRefused(_("This type of file is not accepted here. Accepted: %(types)s.",
                              types=", ".join(extensions)))
    content_type, signatures = SIGNATURES[extension]
    if signatures and not data.startswith(signatures):
        raise UploadRefused(_("This file's content does not match its name (%(extension)s). Nothing was saved.",
                              extension=extension))
    if extension == ".webp" and data[8:12] != b"WEBP":
        raise UploadRefused(_("This file's content does not match its name (%(extension)s). Nothing was saved.",
                              extension=extension))
    if not signatures:
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UploadRefused(_("This file's content does not match its name (%(extension)s). Nothing was "
                                  "saved.", extension=extension)) from None
        if b"\x00" in data:
            raise UploadRefused(_("This file's content does not match its name (%(extension)s). Nothing was "
                                  "saved.", extension=extension))
    return StoredUpload(secrets.token_urlsafe(24), name, content_type, len(data))


def readable_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{max(1, size // 1024)} KB"


def uploaded_file(response_id: int, question: str) -> UploadedFile | None:
    return db.session.execute(select(UploadedFile).filter_by(response_id=response_id, question=question)
                              ).scalar_one_or_none()


def keep_upload(response_id: int, question: Question, upload: StoredUpload, data: bytes) -> bool:
    """Store the bytes, then record them and the answer in one unit of work; the replaced file's bytes go once the
    record is committed. False (and the new bytes removed) when the response was submitted meanwhile."""
    store = file_storage()
    store.save(upload.key, data)

    def work():
        response = db.session.get(Response, response_id, with_for_update=True)
        if response is None or response.status != "in_progress":
            return None
        old = uploaded_file(response_id, question.name)
        replaced = old.storage_key if old is not None else None
        if old is not None:
            db.session.delete(old)
            db.session.flush()
        db.session.add(UploadedFile(response_id=response_id, question=question.name, storage_key=upload.key,
                                    file_name=upload.file_name, content_type=upload.content_type,
                                    size=upload.size))
        _set_answer(response_id, question.name, upload.file_name)
        return replaced or ""

    replaced = run_write(work)
    if replaced is None:
        store.delete(upload.key)
        return False
    if replaced:
        store.delete(replaced)
    return True


def remove_upload(response_id: int, question: Question) -> bool:
    """Remove the partner's file and its answer; False when the response was submitted meanwhile. Removing a file
    already gone changes nothing."""

    def work():
        response = db.session.get(Response, response_id, with_for_update=True)
        if response is None or response.status != "in_progress":
            return None
        old = uploaded_file(response_id, question.name)
        if old is None:
            return ""
        db.session.delete(old)
        db.session.execute(Answer.__table__.delete().where(Answer.response_id == response_id,
                                                           Answer.question == question.name))
        return old.storage_key

    removed = run_write(work)
    if removed is None:
        return False
    if removed:
        file_storage().delete(removed)
    return True


def _set_answer(response_id: int, question: str, file_name: str) -> None:
    answer = db.session.execute(select(Answer).filter_by(response_id=response_id, question=question)
                                ).scalar_one_or_none()
    if answer is None:
        db.session.add(Answer(response_id=response_id, question=question, value=file_name))
    else:
        answer.value = file_name


def files_of_responses(response_ids) -> dict[tuple[int, str], UploadedFile]:
    """The uploaded files of some responses, by (response id, question): for exports and the Secretariat."""
    if not response_ids:
        return {}
    rows = db.session.execute(select(UploadedFile).where(UploadedFile.response_id.in_(list(response_ids))))
    return {(f.response_id, f.question): f for f in rows.scalars()}


def download(found: UploadedFile):
    """The file as an attachment (never shown inline: an uploaded file is not trusted as a page)."""
    from io import BytesIO

    from flask import send_file
    from werkzeug.exceptions import NotFound

    from engagement.storage import StoredFileMissing

    try:
        data = file_storage().read(found.storage_key)
    except StoredFileMissing:
        raise NotFound() from None
    response = send_file(BytesIO(data), mimetype=found.content_type, as_attachment=True,
                         download_name=found.file_name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
