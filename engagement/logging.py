"""Structured request logs with a request id; paths are logged without invitation tokens, bodies never."""

import json
import logging
import re
import secrets
import time

from flask import Flask, g, request

_TOKEN_IN_PATH = re.compile(r"/s/[^/?]+")
logger = logging.getLogger("engagement.requests")


def redact_path(path: str) -> str:
    return _TOKEN_IN_PATH.sub("/s/<token>", path)


def init_request_logging(app: Flask) -> None:
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    # Werkzeug's own access log prints full URLs, tokens included.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    @app.before_request
    def start_timer():
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(8)
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if app.config.get("REQUEST_LOG", True) and not app.testing:
            logger.info(json.dumps({
                "request_id": g.get("request_id"),
                "method": request.method,
                "path": redact_path(request.path),
                "status": response.status_code,
                "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
                "htmx": request.headers.get("HX-Request") == "true",
            }))
        return response
