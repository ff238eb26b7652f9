"""Structured request logs with a request id; invitation tokens never reach any log, and bodies (answers) are never
logged."""

import json
import logging
import re
import secrets
import time

from flask import Flask, g, request

# Partners' links (/s/<token>) and the single-use links mailed to staff.
_TOKEN_IN_PATH = re.compile(r"/(s|accept-invitation|reset-password)/[^/?\s\"']+")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
logger = logging.getLogger("engagement.requests")
# Loggers that may print a URL: Flask's own ("Exception on /s/<token>"), the development server's access log and
# gunicorn's error log ("Error handling request /s/<token>").
URL_LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access", "engagement")


def redact_path(path: str) -> str:
    return _TOKEN_IN_PATH.sub(r"/\1/<token>", path)


class RedactTokens(logging.Filter):
    """Rewrites a record's message and traceback so that a personal link never reaches a log file."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_path(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_path(self._formatter.formatException(record.exc_info))
        return True


def _request_id() -> str:
    """The proxy's X-Request-Id when it is a plain id, else a new one; set once per request."""
    if "request_id" not in g:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.match(given) else secrets.token_hex(8)
    return g.request_id


def init_request_logging(app: Flask) -> None:
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    # Werkzeug's own access log prints full URLs; it stays quiet, and whatever it still logs is redacted.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    for name in (*URL_LOGGERS, app.logger.name):
        named = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in named.filters):
            named.addFilter(RedactTokens())

    @app.before_request
    def start_timer():
        _request_id()
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response):
        request_id = _request_id()  # also for requests refused before start_timer ran (CSRF, rate limits)
        response.headers["X-Request-Id"] = request_id
        if app.config.get("REQUEST_LOG", not app.testing):
            started = g.get("started")
            logger.info(json.dumps({
                "request_id": request_id,
                "method": request.method,
                "path": redact_path(request.path),
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                "htmx": bool(request.htmx),
            }))
        return response
