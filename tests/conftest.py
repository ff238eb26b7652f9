"""Fixtures shared by every domain's tests: an app on a fresh database, clients, a demo round, signed-in users.

DATABASE_URL decides the database, as in production: unset means a SQLite file per test; a PostgreSQL URL
(as .ci/run sets) gives each test a fresh schema on that server.
"""

import atexit
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, func, select, text

from engagement import auth
from engagement.extensions import db
from engagement.mail import wait_for_background_mail
from engagement.models import User
from surveys.demo import DEMO_ADMIN, DEMO_ANALYST
from tests import factories
from wsgi import create_app

# Argon2 with production costs takes most of a second per hash on a busy machine; tests use the same algorithm
# with the smallest costs so that signing in stays fast.
auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# The Secretariat's accounts of every test: the demo's, so a test that loads the demo signs in the same people.
ACCOUNTS = {"admin": DEMO_ADMIN, "analyst": DEMO_ANALYST}
ADMIN, ANALYST = ACCOUNTS["admin"], ACCOUNTS["analyst"]


def _database_url(tmp_path) -> tuple[str, callable]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp_path / 'test.sqlite'}", lambda: None
    base = url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    name = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    head, _sep, _db = base.rpartition("/")

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"{head}/{name}", drop


class ClosingClient(FlaskClient):
    """Flask's test client, closing what a response leaves open: a static file, a spooled multipart upload."""

    def open(self, *args, buffered=True, **kwargs):
        response = super().open(*args, buffered=buffered, **kwargs)
        response.request.input_stream.close()
        return response


class CompiledTemplates(BytecodeCache):
    """Templates compiled once for the whole session: each test's app has its own Jinja environment, which would
    otherwise compile every template it renders again. A template whose source changed has another checksum."""

    def __init__(self):
        self.codes = {}

    def load_bytecode(self, bucket):
        bucket.code = self.codes.get((bucket.key, bucket.checksum))

    def dump_bytecode(self, bucket):
        self.codes[bucket.key, bucket.checksum] = bucket.code


COMPILED_TEMPLATES = CompiledTemplates()
_SAVED_DIR = Path(tempfile.mkdtemp(prefix="saved-databases-"))
atexit.register(shutil.rmtree, _SAVED_DIR, ignore_errors=True)
_SCHEMA = _SAVED_DIR / "schema.sqlite"


def _make_app(tmp_path, create_tables: bool):
    url, drop = _database_url(tmp_path)
    schema_copied = create_tables and _copy_schema(url)
    application = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "RATELIMIT_ENABLED": False,
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "BASE_URL": "http://localhost",
    })
    application.test_client_class = ClosingClient
    application.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    if create_tables and not schema_copied:
        with application.app_context():
            db.create_all()
            _keep_schema(url)
    return application, drop


def _copy_schema(url: str) -> bool:
    """On SQLite, every test's database after the first starts as a copy of the first one's empty tables (a file
    copy instead of issuing every CREATE TABLE again); True when it did."""
    if not url.startswith("sqlite:///") or not _SCHEMA.exists():
        return False
    shutil.copyfile(_SCHEMA, url.removeprefix("sqlite:///"))
    return True


def _keep_schema(url: str) -> None:
    if url.startswith("sqlite:///") and not _SCHEMA.exists():
        db.session.remove()
        db.engine.dispose()  # every connection closed: WAL checkpointed into the file, which can then be copied
        shutil.copyfile(url.removeprefix("sqlite:///"), _SCHEMA)


def _close(application, drop):
    wait_for_background_mail()  # a reset mail still being written must not outlive its app
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


@pytest.fixture
def app(tmp_path):
    application, drop = _make_app(tmp_path, create_tables=True)
    yield application
    _close(application, drop)


@pytest.fixture
def empty_app(tmp_path):
    """An app whose database has no tables yet: for migrations and `flask demo`."""
    application, drop = _make_app(tmp_path, create_tables=False)
    yield application
    _close(application, drop)


_SAVED: dict[str, tuple[Path, object]] = {}


def _sqlite_file(application) -> Path | None:
    url = application.config["SQLALCHEMY_DATABASE_URI"]
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def _holds_rows() -> bool:
    return any(db.session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables)


def saved_database(application, name: str, build):
    """What `build()` returns, run in an app context, with the test's database as `build` leaves it. On SQLite the
    first test's database is kept and later tests get a copy of that file (still one database each, not shared);
    on PostgreSQL, or when the database already holds rows, `build` runs again. `build` returns plain values (ids,
    tokens): they must hold in the copy too."""
    path = _sqlite_file(application)
    with application.app_context():
        if path is None or _holds_rows():
            return build()
        if name not in _SAVED:
            result = build()
        db.session.remove()
        db.engine.dispose()  # every connection closed: WAL checkpointed into the file, which can then be copied
    saved = _SAVED_DIR / f"{name}.sqlite"
    if name in _SAVED:
        for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(saved, path)
        return _SAVED[name][1]
    shutil.copyfile(path, saved)
    _SAVED[name] = (saved, result)
    return result


class HtmxClient:
    """Wraps Flask's test client: finds the CSRF token in pages it reads and sends it like the browser does."""

    def __init__(self, client):
        self.client = client
        self.csrf = None

    @property
    def application(self):
        return self.client.application

    def _remember(self, response):
        match = CSRF_FIELD.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if match:
            self.csrf = match.group(1)
        return response

    def get(self, url, **kwargs):
        return self._remember(self.client.get(url, **kwargs))

    def post(self, url, data=None, htmx=False, csrf=True, **kwargs):
        data = _multidict(data) if isinstance(data, list) else (data or {})
        headers = dict(kwargs.pop("headers", {}))
        if csrf and self.csrf:
            headers["X-CSRFToken"] = self.csrf
        if htmx:
            headers["HX-Request"] = "true"
        return self._remember(self.client.post(url, data=data, headers=headers, **kwargs))


def _multidict(data):
    from werkzeug.datastructures import MultiDict

    return MultiDict(data)


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """French and Spanish pages need the compiled catalogues, as `make setup` builds them (not committed)."""
    from tests.engagement.test_translations import compile_catalogues

    compile_catalogues()


@pytest.fixture
def client(app):
    return HtmxClient(app.test_client())


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def account(role: str) -> tuple[str, str]:
    """(email, password) of the test account of `role`, created when it does not exist yet (in an app context)."""
    email, password = ACCOUNTS[role]
    if db.session.scalar(db.select(User).filter_by(email=email)) is None:
        factories.user(email, role, password)
    return email, password


def post_sign_in(client: HtmxClient, email: str, password: str, **kwargs):
    """The sign-in form as a browser sends it (opened first, for its CSRF token); returns the response."""
    client.get("/sign-in", **{key: kwargs[key] for key in ("base_url", "environ_base") if key in kwargs})
    return client.post("/sign-in", {"email": email, "password": password}, **kwargs)


def start_survey(client, token: str) -> str:
    """Open a partner's link and press Start, as the partner does: the URL of the first page."""
    client.get(f"/s/{token}")
    response = client.post(f"/s/{token}/start")
    assert response.status_code == 303
    return response.headers["Location"]


def signed_in(client: HtmxClient, role: str = "admin") -> HtmxClient:
    """`client` signed in as the test account of `role`, holding the CSRF token of its renewed session."""
    with client.application.app_context():
        email, password = account(role)
    response = post_sign_in(client, email, password)
    assert response.status_code == 303, response.get_data(as_text=True)
    client.get("/secretariat/")  # the session was renewed at sign-in: pick up its CSRF token
    return client


@pytest.fixture
def accounts(app):
    """Both test accounts, for tests that go through the sign-in form themselves; {role: (email, password)}."""
    with app.app_context():
        return {role: account(role) for role in ACCOUNTS}


@pytest.fixture
def admin(app):
    """A client signed in as the Secretariat's admin."""
    return signed_in(HtmxClient(app.test_client()), "admin")


@pytest.fixture
def analyst(app):
    """A client signed in as an analyst: reads everything, changes nothing."""
    return signed_in(HtmxClient(app.test_client()), "analyst")


# One Chromium for the session, shared by tests/browser and tests/security; a real SMTP server for mail tests.
from tests.browser_support import (  # noqa: F401
    browser,
    demo_links,
    js_page,
    live_server,
    nojs_page,
    partner_phone,
    phone_page,
)
from tests.smtp_server import smtp  # noqa: F401
