"""Configuration read from the environment once, so every deployment differs only in its variables."""

import os
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-only-not-secret"


class ConfigurationError(RuntimeError):
    """The configuration cannot be used in production; the message says why."""


def _bool(value: str | bool | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):  # tests and tools pass {"PRODUCTION": True}
        return value
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the app's configuration from the environment, then apply overrides (tests pass a mapping)."""
    env = os.environ
    overrides = overrides or {}
    production = _bool(overrides.get("PRODUCTION", env.get("ENGAGEMENT_PRODUCTION")))
    database_url = env.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'engagement.sqlite'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    config = {
        "PRODUCTION": production,
        "SECRET_KEY": env.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A survey left open overnight must still save: the CSRF token lives as long as the session cookie.
        "WTF_CSRF_TIME_LIMIT": None,
        # Flask-WTF's strict HTTPS check wants a Referer, which browsers never send under Referrer-Policy:
        # no-referrer (kept so invitation links never leak): it would refuse every form. The token, SameSite=Lax
        # cookies and HSTS stay.
        "WTF_CSRF_SSL_STRICT": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 5 * 1024 * 1024)),
        "BABEL_DEFAULT_LOCALE": "en",
        "LANGUAGES": ["en", "fr", "es"],
        # Counters shared by every worker: Redis when configured, else a SQLite file beside the database (one
        # machine). memory:// counts per process, so with several workers a limit would be several times too high.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or env.get("REDIS_URL")
        or f"sqlitefile://{Path(instance_path).resolve() / 'rate-limits.sqlite'}",
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX", "engagement"),  # several apps may share one Redis
        # Separate counters: sign-in attempts per account and address together (someone typing a colleague's email
        # locks only their own address out), per account from every address (a ceiling for guesses spread over
        # many addresses, out of reach of any one address: 25/hour < 50/hour), per address; failed link look-ups
        # per address.
        "SIGN_IN_LIMIT_PER_ACCOUNT_AND_ADDRESS": env.get("SIGN_IN_LIMIT_PER_ACCOUNT_AND_ADDRESS", "10/minute;25/hour"),
        "SIGN_IN_LIMIT_PER_ACCOUNT": env.get("SIGN_IN_LIMIT_PER_ACCOUNT", "50/hour"),
        "SIGN_IN_LIMIT_PER_ADDRESS": env.get("SIGN_IN_LIMIT_PER_ADDRESS", "20/minute"),
        "TOKEN_LOOKUP_LIMIT": env.get("TOKEN_LOOKUP_LIMIT", "30/minute"),
        # "Forgot your password?": per address, and per email typed (a mailbox is not flooded with reset links).
        "PASSWORD_RESET_LIMIT_PER_ADDRESS": env.get("PASSWORD_RESET_LIMIT_PER_ADDRESS", "5/15 minutes;20/day"),
        "PASSWORD_RESET_LIMIT_PER_ACCOUNT": env.get("PASSWORD_RESET_LIMIT_PER_ACCOUNT", "3/hour"),
        # How long a reset link and a colleague's invitation work.
        "PASSWORD_RESET_MINUTES": int(env.get("PASSWORD_RESET_MINUTES", "60")),
        "STAFF_INVITATION_DAYS": int(env.get("STAFF_INVITATION_DAYS", "7")),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted; 0 trusts none, so a client
        # cannot forge its address to dodge the per-address limits. Behind one nginx, set TRUSTED_PROXIES=1.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000"),
        "SECRETARIAT_EMAIL": env.get("SECRETARIAT_EMAIL", "secretariat@alliance87.example"),
        "MAIL_SENDER": env.get("MAIL_SENDER", "Alliance 8.7 Secretariat <secretariat@alliance87.example>"),
        "SMTP_HOST": env.get("SMTP_HOST", ""),
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_SECURITY": env.get("SMTP_SECURITY", "none"),  # none, starttls or tls
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_TIMEOUT": int(env.get("SMTP_TIMEOUT", "30")),
        # A page's sending run stops after this long and the page asks for the next run (a proxy would give up on a
        # request that mails hundreds of partners through a slow server); the CLI has no limit.
        "MAIL_SEND_SECONDS": float(env.get("MAIL_SEND_SECONDS", "20")),
        # A reminder waits this long after a contact's invitation or last reminder, unless the sender forces it.
        "REMINDER_GAP_DAYS": float(env.get("REMINDER_GAP_DAYS", "3")),
        "OUTBOX_DIR": env.get("OUTBOX_DIR", str(Path(instance_path) / "outbox")),
        # Partners' uploaded files: a folder of the instance, or an S3-compatible bucket when UPLOADS_BUCKET is set.
        "UPLOADS_DIR": env.get("UPLOADS_DIR", str(Path(instance_path) / "uploads")),
        "UPLOADS_BUCKET": env.get("UPLOADS_BUCKET", ""),
        "UPLOADS_ENDPOINT_URL": env.get("UPLOADS_ENDPOINT_URL", ""),
        "UPLOADS_REGION": env.get("UPLOADS_REGION", ""),
        # One uploaded file's limit, and the body of an upload request (the file and a few form fields).
        "UPLOAD_MAX_BYTES": int(env.get("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)),
        "SUPPRESSION_THRESHOLD": int(env.get("SUPPRESSION_THRESHOLD", "5")),
        "COMPRESS_ALGORITHM": ["gzip"],
        "COMPRESS_MIN_SIZE": 1024,
        "COMPRESS_STREAMS": False,  # streamed exports must start at once and keep memory flat
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/csv", "application/javascript", "text/javascript",
                               "image/svg+xml", "application/json"],
        "SEND_FILE_MAX_AGE_DEFAULT": 3600,
    }
    config.update(overrides)
    # A pooled PostgreSQL connection may have been dropped by the server or a proxy: test it before use. A SQLite
    # file does not go away, and the test would cost a statement per transaction (two per autosave).
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                      {"pool_pre_ping": not str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite")})
    if config["PRODUCTION"]:
        check_production(config)
    return config


def check_production(config: dict) -> None:
    """Refuse to serve partners with a key anyone can read in this repository."""
    key = config.get("SECRET_KEY") or ""
    if not key or key == DEFAULT_SECRET_KEY:
        raise ConfigurationError(
            "SECRET_KEY is missing or is the development default: set SECRET_KEY to a long random value "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))') before starting in production. "
            "Invitation links are derived from it, so keep it stable and secret."
        )
    if len(key) < 32:
        raise ConfigurationError("SECRET_KEY is shorter than 32 characters: use a long random value in production.")
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        raise ConfigurationError(
            "RATELIMIT_STORAGE_URI is memory://, which counts per worker process: with several gunicorn workers the "
            "sign-in and invitation-link limits would be several times too high. Set RATELIMIT_STORAGE_URI to a "
            "Redis URL (redis://host:6379/0), or leave it unset on a single server to use a shared SQLite file."
        )
