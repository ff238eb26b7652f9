"""Shared by the load test and the speed benchmark: a database with N invitations made through the app's own
functions, gunicorn started on a free 127.0.0.1 port, and a small asyncio HTTP client that keeps per-tab cookies.

Nothing here talks to anything but 127.0.0.1.
"""

import asyncio
import os
import re
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECRET_KEY = "benchmark-secret-key-" + "x" * 32
ADMIN = ("bench-admin@alliance87.example", "bench-admin-password-2026")
POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')
CATEGORIES = [
    "government_pathfinder",
    "government",
    "workers",
    "employers",
    "civil_society",
    "academia",
    "un",
    "survivor",
    "igo",
    "business",
    "funder",
    "other",
]
REGIONS = ["africa", "americas", "arab_states", "asia_pacific", "europe_central_asia", "global"]


def gunicorn_settings() -> dict:
    """The settings gunicorn.conf.py gives in this environment (WEB_CONCURRENCY, GUNICORN_THREADS, the CPUs)."""
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


@dataclass
class Database:
    """Where the benchmark's data lives, and how to throw it away."""

    url: str  # as DATABASE_URL for gunicorn (postgresql:// or sqlite:///)
    sqlalchemy_url: str
    path: Path | None = None  # the SQLite file
    drop: callable = field(default=lambda: None)


def fresh_database(kind: str, workdir: Path) -> Database:
    """An empty SQLite file in workdir, or a new database on the PostgreSQL server of DATABASE_URL (or the local one)."""
    if kind == "sqlite":
        path = workdir / f"bench-{secrets.token_hex(4)}.sqlite"
        url = f"sqlite:///{path}"

        def drop():
            for suffix in ("", "-wal", "-shm", "-writers.lock"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return Database(url=url, sqlalchemy_url=url, path=path, drop=drop)
    if kind != "postgresql":
        raise ValueError(f"unknown database {kind!r}: sqlite or postgresql")
    from sqlalchemy import create_engine, text

    base = os.environ.get("DATABASE_URL", "")
    base = base if base.startswith("postgres") else POSTGRES_DEFAULT
    base = base.replace("postgresql://", "postgresql+psycopg://", 1).replace(
        "postgres://", "postgresql+psycopg://", 1
    )
    name = f"bench_{secrets.token_hex(5)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    head = base.rpartition("/")[0]

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = f"{head}/{name}"
    return Database(
        url=url.replace("postgresql+psycopg://", "postgresql://", 1), sqlalchemy_url=url, drop=drop
    )


def make_app(database: Database, **overrides):
    from wsgi import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database.sqlalchemy_url,
            "SECRET_KEY": SECRET_KEY,
            "RATELIMIT_ENABLED": False,
            **overrides,
        }
    )


@dataclass
class Invited:
    """One invited partner as the simulated browser knows it."""

    token: str
    invitation_id: int
    partner: dict  # what the registry knows, under the names the form uses


@dataclass
class Setup:
    round_id: int
    invited: list[Invited]
    definition: object  # surveys.definition.SurveyDefinition


def prepare_round(database: Database, partners: int) -> Setup:
    """Create the tables, the default survey, `partners` organisations with one contact each, an open round and
    a secretariat admin, all through the app's own functions."""
    from engagement.auth import create_user
    from engagement.extensions import db
    from partners.models import Contact, Organisation
    from surveys.invitations import token_for
    from surveys.relevance import partner_attributes
    from surveys.rounds import create_round, open_round
    from surveys.versions import DEFAULT_SURVEY_FILE, definition_for, import_survey

    app = make_app(database)
    with app.app_context():
        db.create_all()
        version, _definition = import_survey(DEFAULT_SURVEY_FILE.read_bytes(), DEFAULT_SURVEY_FILE.name)
        for number in range(partners):
            organisation = Organisation(
                name=f"Benchmark partner {number:05d}",
                category=CATEGORIES[number % len(CATEGORIES)],
                country=None,
                region=REGIONS[number % len(REGIONS)],
                pathfinder=number % 5 == 0,
                action_groups="supply_chains migration" if number % 3 == 0 else "rule_of_law",
                gcg_member=number % 4 == 0,
            )
            organisation.contacts.append(
                Contact(name=f"Contact {number}", email=f"partner{number}@bench.example", language="en")
            )
            db.session.add(organisation)
        create_user(*ADMIN, "admin")
        db.session.flush()
        round_ = create_round(version, "Benchmark round", (datetime.now(UTC) + timedelta(days=30)).date())
        invitations = open_round(round_)
        db.session.commit()
        invited = [
            Invited(
                token=token_for(inv),
                invitation_id=inv.id,
                partner=partner_attributes(inv.contact.organisation),
            )
            for inv in invitations
        ]
        setup = Setup(round_id=round_.id, invited=invited, definition=definition_for(version))
        db.session.remove()
        db.engine.dispose()
    return setup


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with the project's gunicorn.conf.py on a free 127.0.0.1 port; its workers can be listed and killed."""

    def __init__(
        self,
        database: Database,
        workers: int,
        app_module: str = "wsgi:app",
        threads: int | None = None,
        extra_args: list[str] | None = None,
        env: dict | None = None,
        log: Path | None = None,
    ):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "DATABASE_URL": database.url,
            "SECRET_KEY": SECRET_KEY,
            "WEB_CONCURRENCY": str(workers),
            "PYTHONPATH": str(ROOT),
        }
        if threads:
            environment["GUNICORN_THREADS"] = str(threads)
        environment.update(env or {})
        self.log_path = log or Path(f"/tmp/bench-gunicorn-{self.port}.log")
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            *(extra_args or []),
            app_module,
        ]
        self.environment = environment
        self.process: subprocess.Popen | None = None

    def start(self, wait: float = 60) -> "Server":
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - open as long as the server runs
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.environment, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + wait
        import urllib.request

        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as answer:
                    if answer.status == 200 and len(self.workers()) >= int(
                        self.environment["WEB_CONCURRENCY"]
                    ):
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {wait} s; see {self.log_path}")

    def workers(self) -> list[int]:
        """Process ids of the master's current workers."""
        return child_pids(self.process.pid) if self.process is not None else []

    def kill_worker(self) -> int:
        """SIGKILL one worker (the master notices and starts another); returns its pid."""
        pid = self.workers()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


@contextmanager
def running(database: Database, workers: int, **kwargs):
    server = Server(database, workers, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


def answers_grouped_sql(column: str | None = None) -> str:
    """The SQL baseline of the report and export benchmarks: a round's answers counted by question and value, and by
    an organisation column ("o.category", "o.region") when given - what the database alone takes, in the same run."""
    if column is None:
        return """
        SELECT a.question, a.value, count(*) FROM answers a
        JOIN responses r ON a.response_id = r.id JOIN invitations i ON r.invitation_id = i.id
        WHERE i.round_id = :round GROUP BY a.question, a.value"""
    return f"""
        SELECT {column}, a.question, a.value, count(*) FROM answers a
        JOIN responses r ON a.response_id = r.id JOIN invitations i ON r.invitation_id = i.id
        JOIN contacts c ON i.contact_id = c.id JOIN organisations o ON c.organisation_id = o.id
        WHERE i.round_id = :round GROUP BY {column}, a.question, a.value"""


def csrf_from(html: str) -> str | None:
    match = CSRF_FIELD.search(html) or CSRF_HEADER.search(html)
    return match.group(1) if match else None


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its waited-for children, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """The live children of a process (gunicorn's workers); none once it is gone."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live children (gunicorn master + workers)."""
    total = 0.0
    try:
        total += cpu_seconds(pid)
        for child in child_pids(pid):
            total += cpu_seconds(child)
    except OSError:
        pass
    return total


def workers_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time of each live child of a process (gunicorn's workers)."""
    try:
        return {child: cpu_seconds(child) for child in child_pids(pid)}
    except OSError:
        return {}


class RawConnection:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1 on asyncio streams, with its own cookies.

    For the benchmark's 64 concurrent writers: httpx costs a few milliseconds of CPU per request on a large page,
    and on a 2-core machine the load generator would take that CPU from the server it measures.
    """

    def __init__(self, base: str):
        host_port = base.removeprefix("http://")
        self.host, port = host_port.split(":")
        self.port = int(port)
        self.cookies: dict[str, str] = {}
        self._reader = self._writer = None

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        """(status, headers, body); the cookies set by the response are kept for the next request."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = (await self._reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        received: dict[str, str] = {}
        for line in head[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                name, value = name.strip().lower(), value.strip()
                if name == "set-cookie":
                    cookie, _sep, _attributes = value.partition(";")
                    key, _eq, cookie_value = cookie.partition("=")
                    self.cookies[key.strip()] = cookie_value.strip()
                received[name] = value
        if received.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self._reader.readline()).strip().split(b";")[0], 16)
                chunks.append(await self._reader.readexactly(size + 2))
                if size == 0:
                    break
            content = b"".join(chunk[:-2] for chunk in chunks)
        else:
            content = await self._reader.readexactly(int(received.get("content-length", "0")))
        if received.get("connection", "").lower() == "close":
            await self.close()
        return status, received, content

    async def close(self):
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None
