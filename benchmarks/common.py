"""Shared by the load test and the speed benchmark: a database with N invitations made through the app's own
functions, gunicorn started on a free 127.0.0.1 port, and a small asyncio HTTP client that keeps per-tab cookies.

Nothing here talks to anything but 127.0.0.1.
"""

import asyncio
import json
import os
import re
import resource
import runpy
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECRET_KEY = "benchmark-secret-key-" + "x" * 32
ADMIN = ("bench-admin@alliance87.example", "bench-admin-password-2026")
POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')
CATEGORIES = ["government_pathfinder", "government", "workers", "employers", "civil_society", "academia", "un",
              "survivor", "igo", "business", "funder", "other"]
REGIONS = ["africa", "americas", "arab_states", "asia_pacific", "europe_central_asia", "global"]


def gunicorn_settings(root: Path = ROOT) -> dict:
    """The settings a checkout's gunicorn.conf.py gives in this environment (WEB_CONCURRENCY, GUNICORN_THREADS, the
    CPUs)."""
    return runpy.run_path(str(root / "gunicorn.conf.py"))


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


def prepare_round(database: Database, partners: int, extra_rows: list[dict] | None = None,
                  extra_choices: list[dict] | None = None) -> Setup:
    """Create the tables, the default survey (with `extra_rows` added at its end), `partners` organisations with one
    contact each, an open round and a secretariat admin, all through the app's own functions."""
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
        content = DEFAULT_SURVEY_FILE.read_bytes()
        if extra_rows:
            import yaml

            document = yaml.safe_load(content)
            document["survey"] += extra_rows
            document["choices"] += extra_choices or []
            content = yaml.safe_dump(document, allow_unicode=True).encode()
        version, _definition = import_survey(content, DEFAULT_SURVEY_FILE.name)
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
    """gunicorn with the project's gunicorn.conf.py on a free 127.0.0.1 port; its workers can be listed and killed.

    `root` is the checkout it serves (another one's code runs with this interpreter, its root first on the path);
    `config` a gunicorn configuration file other than the checkout's own (see `reporting_config`); `python` and
    `health` serve another project (peer.py: the peer's virtualenv, a page that answers 200)."""

    def __init__(
        self,
        database: Database,
        workers: int,
        app_module: str = "wsgi:app",
        threads: int | None = None,
        extra_args: list[str] | None = None,
        env: dict | None = None,
        log: Path | None = None,
        root: Path = ROOT,
        config: Path | None = None,
        python: str = sys.executable,
        health: str = "/healthz",
    ):
        self.root = root
        self.health = health
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "DATABASE_URL": database.url,
            "SECRET_KEY": SECRET_KEY,
            "WEB_CONCURRENCY": str(workers),
            "PYTHONPATH": str(root),
        }
        if threads:
            environment["GUNICORN_THREADS"] = str(threads)
        environment.update(env or {})
        self.log_path = log or Path(f"/tmp/bench-gunicorn-{self.port}.log")
        self.command = [
            python,
            "-m",
            "gunicorn",
            "-c",
            str(config or root / "gunicorn.conf.py"),
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
            self.command, cwd=self.root, env=self.environment, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + wait
        import urllib.request

        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + self.health, timeout=2) as answer:
                    if answer.status == 200 and len(self.workers()) >= int(
                        self.environment["WEB_CONCURRENCY"]
                    ):
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer {self.health} within {wait} s; see {self.log_path}")

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


# A checkout driven from outside: prepared by its own code, then used only over HTTP. The benchmarks read forms,
# autosave targets and URLs from the pages served, so they hold whatever the partner pages' code looks like inside.

REPORT_CODE = '''import os, runpy, sys

globals().update({{k: v for k, v in runpy.run_path({config!r}).items() if not k.startswith("__")}})
_checkout_post_worker_init = globals().get("post_worker_init")


def post_worker_init(worker):
    """Say where this worker imported the app's packages from (a baseline must serve its own code)."""
    modules = ", ".join(f"{{name}}={{sys.modules[name].__file__}}" for name in ("engagement", "wsgi") if name in sys.modules)
    print(f"benchmark: worker {{os.getpid()}} serves {{modules}}", file=sys.stderr, flush=True)
    if _checkout_post_worker_init:
        _checkout_post_worker_init(worker)
'''
SERVED_FROM = re.compile(r"benchmark: worker \d+ serves engagement=([^\s,]+)")


def reporting_config(root: Path, out: Path) -> Path:
    """A gunicorn configuration file: the checkout's own, plus a hook that logs where each worker imported
    `engagement` from (read back with `served_from`)."""
    out.write_text(REPORT_CODE.format(config=str(root / "gunicorn.conf.py")))
    return out


def served_from(server: "Server") -> set[str]:
    """The `engagement/__init__.py` files the server's workers imported, from its log."""
    return set(SERVED_FROM.findall(server.log_text()))


def prepare_checkout(root: Path, database_path: Path, partners: int) -> dict:
    """A round of `partners` invitations in a new SQLite file, made by the checkout's own benchmarks/common.py in a
    subprocess (its root first on the path): {"round_id", "links" (paths of the personal links, from the
    `invitations export` command), "code" (where its packages were imported from)}."""
    environment = {**os.environ, "PYTHONPATH": str(root), "SECRET_KEY": SECRET_KEY}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("prepare.py")), str(database_path), str(partners)],
        cwd=root, env=environment, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"preparing {root} failed:\n{done.stdout}\n{done.stderr}")
    prepared = json.loads(done.stdout.strip().splitlines()[-1])
    imported = Path(prepared["code"]["engagement"]).resolve()
    if not imported.is_relative_to(root.resolve()):
        raise RuntimeError(f"preparing {root} imported engagement from {imported}")
    return prepared


def survey_file(root: Path) -> Path:
    """The checkout's default survey (the YAML XLSForm every benchmark round uses)."""
    path = root / "surveys" / "default_survey.yaml"
    if path.exists():
        return path
    found = [p for p in root.rglob("default_survey.yaml") if ".venv" not in p.parts and "node_modules" not in p.parts]
    if not found:
        raise FileNotFoundError(f"no default_survey.yaml in {root}")
    return found[0]


def referenced_names(root: Path) -> set[str]:
    """Names of questions that some condition, constraint or calculation of the default survey reads (`${name}`):
    saving one of them may show or hide others."""
    return set(re.findall(r"\$\{(\w+)\}", survey_file(root).read_text(encoding="utf-8")))


def survey_pages(root: Path) -> list[tuple[str, list[str]]]:
    """The default survey's pages (its top-level groups) and the names of the questions on each, in order."""
    import yaml

    rows = yaml.safe_load(survey_file(root).read_text(encoding="utf-8"))["survey"]
    pages, depth = [], 0
    for row in rows:
        kind = str(row.get("type", "")).strip()
        if kind in ("begin_group", "begin group"):
            if depth == 0:
                pages.append((row["name"], []))
            depth += 1
        elif kind in ("end_group", "end group"):
            depth -= 1
        elif depth > 0 and row.get("name") and kind not in ("note", "calculate"):
            pages[-1][1].append(row["name"])
    return pages


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Form:
    """A form as served: where it goes, its controls and buttons."""

    action: str
    method: str
    controls: list[dict] = field(default_factory=list)  # tag, type, name, value, checked, options
    buttons: list[dict] = field(default_factory=list)  # name, value, class

    def fields(self) -> list[tuple[str, str]]:
        """What the form sends untouched: hidden and text values, checked boxes, selected options."""
        sent = []
        for control in self.controls:
            name, kind = control["name"], control["type"]
            if not name or kind in ("submit", "button", "reset", "file"):
                continue
            if kind in ("radio", "checkbox"):
                if control["checked"]:
                    sent.append((name, control["value"]))
            elif control["tag"] == "select":
                chosen = [value for value, selected in control["options"] if selected]
                sent.append((name, chosen[0] if chosen else (control["options"] or [("", False)])[0][0]))
            else:
                sent.append((name, control["value"]))
        return sent

    def primary(self) -> dict | None:
        return next((b for b in self.buttons if "primary" in b["class"].split()), None)


@dataclass
class Page:
    """What the benchmarks read from a served page: its forms, the elements that autosave (hx-post) with the
    controls inside each, and the headers htmx adds to requests (hx-headers: the CSRF header)."""

    forms: list[Form] = field(default_factory=list)
    autosaves: list[dict] = field(default_factory=list)  # url, controls
    headers: dict = field(default_factory=dict)

    def main_form(self) -> Form:
        """The form of the page's primary button (start, save and continue, submit)."""
        for form in self.forms:
            if form.primary() is not None:
                return form
        raise LookupError("no form with a primary button on this page")


class _PageReader(HTMLParser):
    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url = url  # form actions and hx-post URLs are relative to it, as a browser reads them
        self.page = Page()
        self.stack: list[tuple[str, str | None]] = []  # (tag, "form" | "autosave" | None)
        self.select: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        role = None
        if tag == "form":
            self.page.forms.append(Form(action=path_of(urljoin(self.url, a.get("action") or self.url)),
                                        method=a.get("method", "get").lower()))
            role = "form"
        if "hx-post" in a:
            self.page.autosaves.append({"url": path_of(urljoin(self.url, a["hx-post"])), "controls": []})
            role = role or "autosave"
        if "hx-headers" in a:
            try:
                self.page.headers.update(json.loads(a["hx-headers"]))
            except ValueError:
                pass
        in_form = any(r == "form" for _t, r in self.stack) or tag == "form"
        in_autosave = any(r == "autosave" for _t, r in self.stack) or role == "autosave"
        control = None
        if tag in ("input", "select", "textarea"):
            kind = a.get("type", "text").lower() if tag == "input" else tag
            control = {"tag": tag, "type": kind, "name": a.get("name", ""), "value": a.get("value", ""),
                       "checked": "checked" in a, "options": [], "class": a.get("class", "")}
            if tag == "select":
                self.select = control
            if kind == "submit":
                control = None
                if in_form:
                    self.page.forms[-1].buttons.append(
                        {"name": a.get("name", ""), "value": a.get("value", ""), "class": a.get("class", "")})
        elif tag == "option" and self.select is not None:
            self.select["options"].append((a.get("value", ""), "selected" in a))
        elif tag == "button" and in_form and a.get("type", "submit").lower() == "submit" and "form" not in a:
            self.page.forms[-1].buttons.append(
                {"name": a.get("name", ""), "value": a.get("value", ""), "class": a.get("class", "")})
        if control is not None:
            if in_form and "form" not in a:
                self.page.forms[-1].controls.append(control)
            if in_autosave:
                self.page.autosaves[-1]["controls"].append(control)
        if tag not in VOID:
            self.stack.append((tag, role))

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        if any(t == tag for t, _r in self.stack):
            while self.stack and self.stack.pop()[0] != tag:
                pass


def read_page(html: str, url: str) -> Page:
    """The forms, autosave targets and htmx headers of the page served at `url` (a path)."""
    reader = _PageReader(url)
    reader.feed(html)
    reader.close()
    return reader.page


def path_of(url: str) -> str:
    """The path and query of a URL or of a Location header (absolute or not)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def submit_form(client, form: Form, data: list[tuple[str, str]] | None = None, headers: dict | None = None):
    """POST a form as a browser would (its untouched fields unless `data` is given, plus its primary button)."""
    sent = list(form.fields() if data is None else data)
    button = form.primary()
    if button and button["name"]:
        sent.append((button["name"], button["value"]))
    return post_form(client, form.action, sent, headers)


def post_form(client, url: str, fields: list[tuple[str, str]], headers: dict | None = None):
    """POST URL-encoded fields (repeated names kept) with an httpx.Client or a Flask test client."""
    body = urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    if hasattr(client, "application"):  # Flask's test client
        return client.post(url, data=body, headers=headers)
    return client.post(url, content=body, headers=headers, follow_redirects=False)


def start_survey(client, link: str) -> str:
    """Open a personal link and press the welcome page's button; the path of the first page it leads to. `client`
    is an httpx.Client or a Flask test client (each keeps the tab's cookies)."""
    answer = submit_form(client, read_page(_text(client.get(link)), path_of(link)).main_form())
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"starting the survey of {link} answered {answer.status_code}")
    return path_of(answer.headers["Location"])


def _text(answer) -> str:
    return answer.text if hasattr(answer, "text") else answer.get_data(as_text=True)


def answer_choices(form: Form, rng) -> list[tuple[str, str]]:
    """The form filled in as a partner in a hurry would: answers already there are kept; each unanswered choice
    question gets one choice at random (never "other", which asks for a text); texts and rankings stay empty."""
    sent, groups = [], {}
    for control in form.controls:
        if control["type"] in ("radio", "checkbox") and control["name"]:
            groups.setdefault(control["name"], []).append(control)
    for name, controls in groups.items():
        checked = [c["value"] for c in controls if c["checked"]]
        values = [c["value"] for c in controls if c["value"] != "other"]
        sent += [(name, value) for value in checked] or ([(name, rng.choice(values))] if values else [])
    for control in form.controls:
        if not control["name"] or control["type"] in ("radio", "checkbox", "submit", "button"):
            continue
        if control["tag"] == "select" and "[" not in control["name"]:  # a ranking's selects are name[choice]
            chosen = [value for value, selected in control["options"] if selected and value]
            values = [value for value, _selected in control["options"] if value and value != "other"]
            sent.append((control["name"], chosen[0] if chosen else rng.choice(values) if values else ""))
        elif control["tag"] != "select":
            sent.append((control["name"], control["value"]))
    return sent


def answer_survey(client, link: str, rng, most_pages: int = 40) -> str:
    """Start the survey of a personal link and answer page after page with the page form (no JavaScript), until
    the survey leads to a page without one (the review); the path of that page. A page answered 422 (questions
    that appeared, a required one missed) is filled in again as served."""
    location = start_survey(client, link)
    for _step in range(most_pages):
        html = _text(client.get(location))
        for _attempt in range(5):
            page = read_page(html, location)
            forms = [form for form in page.forms if form.primary() and form.primary()["name"]]
            if not forms:  # no "save and continue/review" form: the review page
                return location
            answer = submit_form(client, forms[0], answer_choices(forms[0], rng))
            if answer.status_code in (302, 303):
                location = path_of(answer.headers["Location"])
                break
            if answer.status_code != 422:
                raise RuntimeError(f"saving {location} answered {answer.status_code}")
            html = _text(answer)
        else:
            raise RuntimeError(f"{location} kept answering 422")
    raise RuntimeError(f"{link}: no review page after {most_pages} pages")


def autosave_targets(page: Page, skip: set[str]) -> list[dict]:
    """The page's questions that autosave and are answered by choosing (radio buttons or a drop-down), skipping
    the names in `skip`: {"url", "name", "values", "fields"}. "fields" is what htmx sends besides the answer: the
    values of the enclosing form (its form token among them), as served."""
    form = page.main_form()
    targets = []
    for element in page.autosaves:
        choices = [c for c in element["controls"] if c["type"] == "radio" and c["name"]]
        names = {c["name"] for c in choices}
        if len(names) != 1 or names & skip:
            continue
        name = names.pop()
        values = [c["value"] for c in choices if c["value"] != "other"]
        fields = [(field, value) for field, value in form.fields() if field != name]
        targets.append({"url": element["url"], "name": name, "values": values, "fields": fields})
    return targets


# wrk runs, shared by speed.py and peer.py (wrk is Debian's package: apt-get install -y wrk).

LUA_DONE = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %d %d %f %f %f %f %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.status, errors))
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_requests(requests: list[tuple[str, str, dict, str]]) -> str:
    """A wrk script cycling through prepared requests (method, path, headers, body)."""
    rows = []
    for method, path, headers, body in requests:
        header_table = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
        rows.append(
            f"  {{{lua_string(method)}, {lua_string(path)}, {{{header_table}}}, "
            f"{lua_string(body) if body else 'nil'}}},"
        )
    return (
        "local list = {\n" + "\n".join(rows) + "\n}\nlocal i = math.random(#list)\n"
        "request = function()\n  i = i % #list + 1\n  local r = list[i]\n"
        "  return wrk.format(r[1], r[2], r[3], r[4])\nend\n" + LUA_DONE
    )


def wait_until_idle(server: Server, most: float = 10.0) -> None:
    """Wait until the server has finished the previous run's requests: when wrk stops, requests it sent are still
    being served (a dashboard fragment takes up to a second at 16 connections), and their CPU time and competition
    would be counted against the next run."""
    deadline = time.monotonic() + most
    before = tree_cpu_seconds(server.process.pid)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = tree_cpu_seconds(server.process.pid)
        if now - before < 0.004:  # under 2 % of one core: idle
            return
        before = now


def run_wrk(server: Server, script: Path, connections: int, seconds: float, others: tuple = ()) -> dict:
    """One wrk run, on an idle server (and idle `others`); latencies in ms; the CPU time wrk and the server used."""
    for each in (server, *others):
        wait_until_idle(each)
    server_cpu = tree_cpu_seconds(server.process.pid)
    workers_before = workers_cpu_seconds(server.process.pid)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script),
         server.base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = tree_cpu_seconds(server.process.pid) - server_cpu
    workers = [seconds - workers_before.get(worker, 0.0)
               for worker, seconds in workers_cpu_seconds(server.process.pid).items()]
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    requests, duration, p50, p95, p99, worst, bad_status, socket_errors = line.split()[1:]
    requests, duration = int(requests), int(duration) / 1e6
    client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "requests": requests,
        "rps": requests / duration,
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "max": float(worst),
        "non_2xx": int(bad_status),
        "socket_errors": int(socket_errors),
        "server_cpu_ms": 1000 * server_cpu / max(requests, 1),
        "client_cpu_ms": 1000 * client_cpu / max(requests, 1),
        "client_cpu_share": client_cpu / duration,
        # gthread workers keep the connections they accept: when wrk opens its 16 at once, one worker sometimes
        # takes them all and the run measures one process on one core (see balanced()).
        "busiest_worker_share": max(workers, default=0.0) / max(sum(workers), 1e-9),
    }


def balanced(run: dict) -> bool:
    """A run whose connections were spread over the workers. gthread workers keep the connections they accept, and
    when wrk opens its 16 at once one worker sometimes takes them all: such a run measures one process on one of
    the two cores (half the throughput, its threads contending for one GIL), i.e. gunicorn's accept, not the code."""
    return run.get("busiest_worker_share", 0.0) <= 0.75


def pair_ratio(runs: list[dict], baselines: list[dict]) -> tuple[float, int]:
    """The median ratio of requests/s over the rounds where both runs were balanced (all rounds when none was),
    and how many rounds that was."""
    pairs = list(zip(runs, baselines, strict=True))
    kept = [(run, base) for run, base in pairs if balanced(run) and balanced(base)] or pairs
    return statistics.median(run["rps"] / base["rps"] for run, base in kept), len(kept)


def median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)
