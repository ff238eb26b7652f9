"""Security headers on every response, the client's real address behind a proxy, and a warning for per-process limits."""

import logging

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def init_security_headers(app: Flask) -> None:
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        # Per-address rate limits need the partner's address, not the proxy's; HSTS needs the original scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://") and not app.testing:
        logging.getLogger("engagement").warning(
            "RATELIMIT_STORAGE_URI is memory://: each gunicorn worker counts alone, so with several workers the "
            "sign-in and invitation-link limits are several times too high. Use Redis or leave it unset.")

    @app.after_request
    def add_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure or app.config.get("PRODUCTION"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        page = "text/html" in (response.content_type or "")
        download = "attachment" in headers.get("Content-Disposition", "")
        if (page or download) and not headers.get("Cache-Control"):
            # Answers, invitation pages and every download (names, emails, answers, personal links) must not be
            # kept by the browser's disk cache or a shared cache.
            headers["Cache-Control"] = "no-store"
        return response
