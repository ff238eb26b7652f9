"""Error pages, in the reader's language, registered in one loop; a failed request never leaks a traceback."""

import math
import time

from flask import Flask, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .database import DatabaseBusy
from .extensions import db, limiter
from .htmx import render

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Not allowed"), _l("Your account is not allowed to do this.")),
    404: (_l("Page not found"), _l("There is nothing at this address. Please check the link you were sent.")),
    405: (_l("Not allowed"), _l("This address cannot be used this way.")),
    409: (_l("Already done"), _l("This has been done already.")),
    410: (_l("No longer available"), _l("This survey round has closed. Thank you for your interest.")),
    413: (_l("Too large"), _l("What you sent is too large. Please send a smaller file.")),
    422: (_l("Please check"), _l("Some of what you sent could not be used.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Please wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("Something went wrong on our side. Your earlier answers are safe.")),
    503: (_l("Could not save"), _l("The server is busy and could not save. Please try again in a moment.")),
}


def error_page(status: int, detail: str | None = None, retry_after: int | None = None):
    """The error page (or its message, for htmx); 429 and 503 say when to try again."""
    title, message = MESSAGES.get(status, MESSAGES[500])
    if status == 429 and retry_after and not detail:
        detail = ngettext("Too many attempts in a short time. Please wait %(num)d minute and try again.",
                          "Too many attempts in a short time. Please wait %(num)d minutes and try again.",
                          math.ceil(int(retry_after) / 60))
    response = render("error.html", block="error_message", status=status, title=title, message=detail or message)
    if status == 503:
        retry_after = retry_after or 2
    if retry_after:
        response.headers["Retry-After"] = str(int(retry_after))
    return response


def retry_after(error: HTTPException) -> int:
    """Whole seconds until a refused request would pass: the end of the window of the limit that refused it, from
    the limiter's storage, or what the code that refused said (abort(429, retry_after=...)); else a minute, the
    window of the limits that do not say."""
    told = getattr(error, "retry_after", None)
    if isinstance(told, int) and told > 0:
        return told
    refused = limiter.current_limit
    if refused is not None and refused.breached:
        return max(1, math.ceil(refused.window.reset_time - time.time()))
    return 60


def init_error_handlers(app: Flask) -> None:
    def handle_http(error: HTTPException):
        detail = error.description if getattr(error, "show_detail", False) else None
        return error_page(error.code or 500, detail)

    def too_many(error: HTTPException):
        return error_page(429, retry_after=retry_after(error))

    for code in MESSAGES:
        if code not in (429, 500, 503):
            app.register_error_handler(code, handle_http)
    app.register_error_handler(429, too_many)

    @app.errorhandler(CSRFError)
    def handle_csrf(error):
        return error_page(400, _("This form has expired or was sent from elsewhere. Please reload the page."))

    @app.errorhandler(DatabaseBusy)
    def handle_busy(error):
        db.session.rollback()
        app.logger.warning("database busy on %s %s", request.method, request.path)
        return error_page(503)

    @app.errorhandler(500)
    def handle_500(error):
        db.session.rollback()
        return error_page(500)
