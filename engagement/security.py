"""Security headers on every response, the client's real address behind a proxy, and a warning for per-process limits."""

import logging

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                    ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
                    ("Cross-Origin-Opener-Policy", "same-origin"))


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
        # One pass over the response's headers, not one per header set (every partner request, autosaves included).
        present = {name.lower(): value for name, value in headers.items()}
        headers.extend((name, value) for name, value in SECURITY_HEADERS if name.lower() not in present)
        if (request.is_secure or app.config.get("PRODUCTION")) and "strict-transport-security" not in present:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        page = "text/html" in present.get("content-type", "")
        download = "attachment" in present.get("content-disposition", "")
        if (page or download) and not present.get("cache-control"):
            # Answers, invitation pages and every download (names, emails, answers, personal links) must not be
            # kept by the browser's disk cache or a shared cache.
            headers["Cache-Control"] = "no-store"
        return response
