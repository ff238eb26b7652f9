"""The partner's survey page against a peer's: the same 11 questions served by django-survey-and-report.

    python benchmarks/peer.py                              # about 3 minutes, plus a minute to install the peer
    python benchmarks/peer.py --seconds 2 --rounds 2       # smoke run
    python benchmarks/peer.py --venv /tmp/peer-venv        # keep the peer's virtualenv there and reuse it next time

The peer is django-survey-and-report 1.5.0 (PyPI), never a dependency of this project: it is installed with pinned
Django and gunicorn into a virtualenv of its own (a temporary folder unless --venv says where), and served from a
minimal Django project written into a temporary folder: DEBUG off, SQLite in WAL mode with synchronous=NORMAL (as
this project's), Django's default middleware, the `survey` app and the contrib apps it needs. Its survey holds the
questions of the last page of this project's default survey (surveys/default_survey.yaml, read here), in English,
as one category shown on one page (`Survey.BY_CATEGORY`, `/survey/<id>/`), anonymously (`need_logged_user` off).
How our question types are mapped to the peer's is printed with every run (`mapping`).

Both sides run under gunicorn with this project's gunicorn.conf.py (so the same gthread workers and threads, one
SO_REUSEPORT socket per worker, max_requests off): the peer from its virtualenv, this project (`wsgi:app`) with a
round prepared by benchmarks/common.py and 64 partners who started their survey from their link, each opening the
last page. Before timing, both pages are fetched and checked to show all the questions (a 404 or an error page
would make the ratio meaningless), and weighed: bytes of the HTML, and with the stylesheets, scripts and icons it
links to. wrk (16 connections, one thread) then alternates runs of the two pages, back to back, the order swapped
every round. The target: this project's page serves at least 8 times the peer's requests per second (the median
of the per-round ratios).
"""

import argparse
import importlib.metadata
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import yaml

from benchmarks.common import (
    ROOT,
    Database,
    Server,
    balanced,
    gunicorn_settings,
    lua_requests,
    median,
    pair_ratio,
    prepare_checkout,
    run_wrk,
    start_survey,
    survey_file,
    survey_pages,
)

PEER = "django-survey-and-report==1.5.0"
# Django 5.2 is the LTS that pip picks for the peer on Python 3.11 (Django 6 needs 3.12); gunicorn as ours.
PINS = ["Django==5.2.19", f"gunicorn=={importlib.metadata.version('gunicorn')}"]
TARGET = 8.0
LANGUAGE = "English (en)"
SEPARATOR = "|"  # the peer's CHOICES_SEPARATOR: our choice labels hold commas

SETTINGS = '''"""Settings of the peer benchmark's minimal Django project (written by benchmarks/peer.py)."""
from pathlib import Path

import survey

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "peer-benchmark-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "survey",
]
MIDDLEWARE = [  # django-admin startproject's
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "peersite.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
WSGI_APPLICATION = "peersite.wsgi.application"
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": @DATABASE@,
    # WAL and synchronous=NORMAL, as this project's SQLite; each new connection runs it (Django 5.1+).
    "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LANGUAGE_CODE = "en"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"
LOGIN_URL = "/admin/login/"
# What the survey app reads from the settings (survey/settings.py, survey/models/survey.py).
CHOICES_SEPARATOR = @SEPARATOR@
USER_DID_NOT_ANSWER = "Left blank"
TEX_CONFIGURATION_FILE = Path(survey.__file__).parent / "doc" / "example_conf.yaml"
SURVEY_DEFAULT_PIE_COLOR = "red!50"
EXCEL_COMPATIBLE_CSV = False
DEFAULT_SURVEY_PUBLISHING_DURATION = 7
'''

URLS = '''"""The survey app under /survey/; static files through Django's static view, only so that the benchmark can
weigh the page with its assets (the timed requests are the page alone)."""
from django.conf import settings
from django.urls import include, path, re_path
from django.views.static import serve

urlpatterns = [
    path("survey/", include("survey.urls")),
    re_path(r"^static/(?P<path>.*)$", serve, {"document_root": settings.STATIC_ROOT}),
]
'''

WSGI = '''import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersite.settings")
application = get_wsgi_application()
'''

CREATE = '''"""Create the benchmark's survey from the spec given as JSON; print its id and its questions' ids."""
import json
import sys
from datetime import timedelta

import django

django.setup()
from django.utils import timezone  # noqa: E402
from survey.models import Category, Question, Survey  # noqa: E402

spec = json.load(open(sys.argv[1], encoding="utf-8"))
today = timezone.now().date()
survey = Survey.objects.create(
    name=spec["title"], description=spec["description"], is_published=True, need_logged_user=False,
    editable_answers=True, display_method=Survey.BY_CATEGORY, publish_date=today,
    expire_date=today + timedelta(days=365))
category = Category.objects.create(name=spec["page"], survey=survey, order=0, description=spec["page_hint"])
ids = []
for order, question in enumerate(spec["questions"], start=1):
    ids.append(Question.objects.create(
        text=question["text"], order=order, required=question["required"], category=category, survey=survey,
        type=question["type"], choices=question["choices"] or None).pk)
print(json.dumps({"survey": survey.pk, "questions": ids}))
'''


def label(row: dict) -> str:
    return str(row.get(f"label::{LANGUAGE}") or row.get("label") or "")


def peer_survey(root: Path) -> tuple[dict, list[str]]:
    """The last page of our default survey as the peer's survey spec, and how each question was mapped."""
    document = yaml.safe_load(survey_file(root).read_text(encoding="utf-8"))
    lists: dict[str, list[tuple[str, str]]] = {}
    for choice in document.get("choices", []):
        lists.setdefault(choice["list_name"], []).append((str(choice["name"]), label(choice)))
    page_name, names = survey_pages(root)[-1]
    rows, inside, depth, page_row, grid = [], False, 0, None, None
    for row in document["survey"]:
        kind = str(row.get("type", "")).strip()
        if kind in ("begin_group", "begin group"):
            depth += 1
            if depth == 1 and row.get("name") == page_name:
                inside, page_row = True, row
            elif inside:
                grid = row
            continue
        if kind in ("end_group", "end group"):
            depth -= 1
            if inside and depth == 0:
                break
            grid = None
            continue
        if inside and row.get("name") in names:
            rows.append((row, grid))
    questions, mapping = [], []
    for row, group in rows:
        kind, _space, rest = str(row["type"]).partition(" ")
        list_name = rest.replace("or_other", "").strip()
        appearance = str(row.get("appearance", ""))
        choices = [text for _name, text in lists.get(list_name, [])]
        if "or_other" in rest:
            choices.append("Other")
        if kind == "select_one":
            peer_type = "select" if "minimal" in appearance else "radio"
        elif kind == "select_multiple":
            peer_type = "select-multiple"
        elif kind == "range":
            bounds = dict(part.split("=") for part in str(row.get("parameters", "")).split())
            start, end, step = int(bounds.get("start", 1)), int(bounds.get("end", 10)), int(bounds.get("step", 1))
            choices, peer_type = [str(n) for n in range(start, end + 1, step)], "radio"
        elif kind == "text":
            peer_type = "text" if "multiline" in appearance else "short-text"
        else:
            peer_type = {"integer": "integer", "decimal": "float", "date": "date"}.get(kind, "short-text")
        if any(SEPARATOR in choice for choice in choices):
            raise ValueError(f"a choice of {row['name']} holds the separator {SEPARATOR!r}")
        questions.append({"name": row["name"], "text": label(row), "type": peer_type,
                          "required": str(row.get("required", "")).lower() in ("yes", "true", "1"),
                          "choices": SEPARATOR.join(choices)})
        notes = []
        if group is not None:
            notes.append(f"a row of the grid {group['name']!r}, asked alone")
        if "or_other" in rest:
            notes.append("'Other' as a choice, without its text field")
        if row.get("hint") or row.get(f"hint::{LANGUAGE}"):
            notes.append("hint dropped")
        if row.get("constraint"):
            notes.append("constraint dropped")
        mapping.append(f"{row['name']}: {row['type']} -> {peer_type}"
                       + (f" ({len(choices)} choices)" if choices else "") + (f"; {', '.join(notes)}" if notes else ""))
    grids = {group["name"]: group for _row, group in rows if group is not None}
    page_hint = " ".join(f"{label(group)} {group.get(f'hint::{LANGUAGE}', '')}".strip() for group in grids.values())
    spec = {"title": str(document["settings"].get("form_title", "Survey")), "description": "",
            "page": label(page_row or {}) or page_name, "page_hint": page_hint, "questions": questions}
    return spec, mapping


def peer_python(venv: Path) -> Path:
    """The peer's virtualenv, created and installed unless it already holds the pinned packages."""
    python = venv / "bin" / "python"
    marker = venv / ".peer-installed"
    wanted = " ".join([PEER, *PINS])
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PEER, *PINS],
                   check=True)
    marker.write_text(wanted)
    print(f"peer: installed {wanted} into {venv} in {time.perf_counter() - started:.0f} s", flush=True)
    return python


def peer_project(python: Path, folder: Path, spec: dict) -> dict:
    """Write the Django project, create its tables, collect its static files, create the survey."""
    package = folder / "peersite"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    database = folder / "peer.sqlite"
    (package / "settings.py").write_text(
        SETTINGS.replace("@DATABASE@", repr(str(database))).replace("@SEPARATOR@", repr(SEPARATOR)))
    (package / "urls.py").write_text(URLS)
    (package / "wsgi.py").write_text(WSGI)
    (folder / "create_survey.py").write_text(CREATE)
    (folder / "survey.json").write_text(json.dumps(spec))
    environment = {**os.environ, "PYTHONPATH": str(folder), "DJANGO_SETTINGS_MODULE": "peersite.settings"}

    def run(*command):
        done = subprocess.run([str(python), *command], cwd=folder, env=environment, capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"peer: {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    run("-m", "django", "migrate", "--noinput")
    run("-m", "django", "collectstatic", "--noinput")
    created = json.loads(run("create_survey.py", "survey.json").strip().splitlines()[-1])
    with sqlite3.connect(str(database)) as connection:  # WAL is kept in the file once a connection set it
        journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
    return {**created, "database": database, "journal_mode": journal, "environment": environment}


VERSIONS = ("import importlib.metadata as m; print(' '.join(f'{p} {m.version(p)}' for p in "
            "('django-survey-and-report', 'Django', 'gunicorn')))")
ASSET = re.compile(r'<(?:link|script|img)\b[^>]*?(?:href|src)="(/[^"]+)"')


def weigh(client: httpx.Client, html: str) -> dict:
    """Bytes of the page and of the stylesheets, scripts, icons and images it links to on the same server."""
    assets, missing = 0, []
    paths = sorted(set(ASSET.findall(html)))
    for path in paths:
        answer = client.get(path)
        if answer.status_code == 200:
            assets += len(answer.content)
        else:
            missing.append(f"{path} ({answer.status_code})")
    html_bytes = len(html.encode())
    return {"html": html_bytes, "assets": assets, "asset_count": len(paths), "missing": missing,
            "total": html_bytes + assets}


def ours(workdir: Path, partners: int, workers: int, stack: ExitStack) -> dict:
    """This project serving the last page of the default survey to `partners` partners who started it."""
    database_path = workdir / "ours.sqlite"
    prepared = prepare_checkout(ROOT, database_path, partners)
    url = f"sqlite:///{database_path}"
    database = Database(url=url, sqlalchemy_url=url, path=database_path)
    server = Server(database, workers, app_module="wsgi:app", extra_args=["--max-requests", "0"],
                    env={"RATELIMIT_STORAGE_URI": f"sqlitefile://{workdir / 'rate-limits.sqlite'}"},
                    log=workdir / "gunicorn-ours.log").start()
    stack.callback(server.stop)
    last, names = survey_pages(ROOT)[-1]
    pages = []
    with httpx.Client(base_url=server.base, timeout=30) as client:
        for link in prepared["links"]:
            client.cookies.clear()
            first = start_survey(client, link)
            pages.append((first.rsplit("/", 1)[0] + f"/{last}", "; ".join(f"{k}={v}" for k, v in client.cookies.items())))
        client.cookies.clear()
        answer = client.get(pages[0][0], headers={"Cookie": pages[0][1]} if pages[0][1] else {})
        missing = [name for name in names if f'name="{name}"' not in answer.text]
        if answer.status_code != 200 or missing:
            raise RuntimeError(f"our last page {pages[0][0]} answered {answer.status_code}, missing {missing}")
        weight = weigh(client, answer.text)
    return {"server": server, "requests": [("GET", path, {"Cookie": c} if c else {}, "") for path, c in pages],
            "weight": weight, "questions": len(names), "page": last}


def peer(python: Path, workdir: Path, spec: dict, workers: int, stack: ExitStack) -> dict:
    """The peer serving the same questions anonymously."""
    folder = workdir / "peer"
    project = peer_project(python, folder, spec)
    url = f"/survey/{project['survey']}/"
    database = Database(url=f"sqlite:///{project['database']}", sqlalchemy_url="", path=project["database"])
    server = Server(database, workers, app_module="peersite.wsgi:application", extra_args=["--max-requests", "0"],
                    env={"DJANGO_SETTINGS_MODULE": "peersite.settings"}, log=workdir / "gunicorn-peer.log",
                    root=folder, config=ROOT / "gunicorn.conf.py", python=str(python), health=url).start()
    stack.callback(server.stop)
    with httpx.Client(base_url=server.base, timeout=30) as client:
        answer = client.get(url)
        missing = [pk for pk in project["questions"] if f'name="question_{pk}"' not in answer.text]
        if answer.status_code != 200 or missing or len(project["questions"]) != len(spec["questions"]):
            raise RuntimeError(f"the peer's page {url} answered {answer.status_code}, missing questions {missing}")
        weight = weigh(client, answer.text)
    versions = subprocess.run(
        [str(python), "-c", VERSIONS],
        capture_output=True, text=True, check=True).stdout.strip()
    return {"server": server, "requests": [("GET", url, {}, "")], "weight": weight,
            "questions": len(project["questions"]), "page": url, "versions": versions,
            "journal_mode": project["journal_mode"]}


def spread(values: list[float]) -> str:
    return f"{min(values):.0f} / {statistics.median(values):.0f} / {max(values):.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of (ours, peer), the order swapped each round")
    parser.add_argument("--partners", type=int, default=64, help="partners whose last page is requested in turn")
    parser.add_argument("--venv", default="", help="the peer's virtualenv (kept; reused when it is complete)")
    parser.add_argument("--out", default="/tmp/peer.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk (Debian's package)")
    settings = gunicorn_settings()
    workers, threads = settings["workers"], settings["threads"]
    spec, mapping = peer_survey(ROOT)
    print("mapping of the last page's questions to the peer's types:\n  " + "\n  ".join(mapping), flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="peer-"))
    with ExitStack() as stack:
        venv = Path(args.venv) if args.venv else workdir / "venv"
        python = peer_python(venv)
        side = {"ours": ours(workdir, args.partners, workers, stack),
                "peer": peer(python, workdir, spec, workers, stack)}
        for name, each in side.items():
            each["script"] = workdir / f"{name}.lua"
            each["script"].write_text(lua_requests(each["requests"]))
            each["runs"] = []
        for name, each in side.items():  # warm both
            run_wrk(each["server"], each["script"], 16, 1)
        load_before = os.getloadavg()
        for number in range(args.rounds):
            for name in ("ours", "peer") if number % 2 == 0 else ("peer", "ours"):
                other = side["peer" if name == "ours" else "ours"]["server"]
                side[name]["runs"].append(run_wrk(side[name]["server"], side[name]["script"], 16, args.seconds,
                                                  (other,)))
        load_after = os.getloadavg()
    ratios = [o["rps"] / p["rps"] for o, p in zip(side["ours"]["runs"], side["peer"]["runs"], strict=True)]
    ratio, kept = pair_ratio(side["ours"]["runs"], side["peer"]["runs"])
    print(f"\n{platform.node()} {os.cpu_count()} CPUs; {workers} gthread workers x {threads} threads each side "
          f"(gunicorn.conf.py); load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"peer: {side['peer']['versions']}, SQLite journal_mode={side['peer']['journal_mode']}, anonymous, "
          f"{side['peer']['page']}")
    print(f"ours: wsgi:app, the last page ({side['ours']['page']}) of {len(side['ours']['requests'])} partners "
          f"in turn")
    print(f"\n{'':6}{'questions':>10}{'HTML bytes':>12}{'with assets':>22}{'req/s min/med/max':>22}"
          f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'srv CPU ms':>11}  one worker")
    for name, each in side.items():
        w, runs = each["weight"], each["runs"]
        assets = f"{w['total']:,} ({w['asset_count']} files)"
        print(f"{name:6}{each['questions']:>10}{w['html']:>12,}{assets:>22}{spread([r['rps'] for r in runs]):>22}"
              f"{median(runs, 'p50'):8.1f}{median(runs, 'p95'):8.1f}{median(runs, 'p99'):8.1f}"
              f"{median(runs, 'server_cpu_ms'):11.2f}  {sum(not balanced(r) for r in runs)}/{len(runs)}")
        if w["missing"]:
            print(f"  {name}: assets not served: {', '.join(w['missing'])}")
    errors = sum(r["non_2xx"] + r["socket_errors"] for each in side.values() for r in each["runs"])
    print(f"\nours/peer per round {', '.join(f'{r:.1f}' for r in ratios)}; median {ratio:.1f} over {kept} rounds "
          f"where no worker served all 16 connections; {errors} non-2xx or socket errors")
    met = ratio >= TARGET and errors == 0
    print(("PASS  " if met else "FAIL  ") + f"survey page >= {TARGET:.0f}x the peer's requests/s: {ratio:.1f}x")
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {os.cpu_count()} CPUs, {platform.platform()}",
        "command": " ".join(sys.argv),
        "workers": workers, "threads": threads, "load_average": [load_before, load_after],
        "mapping": mapping, "peer_versions": side["peer"]["versions"],
        "sides": {name: {"page": each["page"], "questions": each["questions"], "weight": each["weight"],
                         "runs": each["runs"]} for name, each in side.items()},
        "ratios": ratios, "ratio": ratio, "rounds_kept": kept, "target": TARGET, "met": met,
    }
    Path(args.out).write_text(json.dumps(results, indent=1, default=str))
    print(f"raw figures in {args.out}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
