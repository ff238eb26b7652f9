"""Speed of the partner's pages, against the same pages of a baseline commit and against reference routes, all
measured in the same run on one gunicorn configuration.

    python benchmarks/speed.py --baseline 9eca3a1   # about 9 minutes; tables, and the raw figures in /tmp/speed.json
    python benchmarks/speed.py                      # no baseline: the current code alone (about 7 minutes)
    python benchmarks/speed.py --seconds 2 --rounds 2 --partners 200 --submits 64 --baseline 9eca3a1  # smoke run
    python benchmarks/speed.py --profile            # also profiles the survey page and the autosave (pyinstrument)
    python benchmarks/speed.py --cpu-only           # only the in-process CPU per request (no wrk)
    python benchmarks/speed.py --only Aa --baseline 9eca3a1  # alternating runs of a few kinds: a/A, the page ratio

Each checkout is prepared by its own code: `benchmarks/prepare.py` runs in a subprocess with the checkout's root
first on the path, makes a round of --partners invitations in a fresh SQLite file with that checkout's
`benchmarks/common.py` and lists the personal links with its `invitations export` command. Everything after that
is HTTP: partners open their link and press the welcome page's button, and the requests timed (the first page, an
autosave with the CSRF header and the fields its question sends) are read from the pages served, so this file
knows nothing of either checkout's internals.

--baseline REV checks REV out into a temporary `git worktree` outside the repository (htmx copied from this
checkout, translations compiled), and serves it with this checkout's virtualenv, its root first on the path (the
log line of each worker saying where it imported `engagement` from is checked). Both gunicorns use their own
checkout's gunicorn.conf.py with max_requests off.

wrk, in its own process with one thread, drives alternating short runs at 16 connections of:
  (z) GET /bench/hello, a bare Flask route          (y) POST /bench/insert, one raw sqlite3 INSERT
  (a) GET a survey page (64 partners' first page)   (b) POST an autosave (htmx, CSRF header, a changed value)
  (c) GET the round dashboard fragment (HX-Request, signed in)
  (A) and (B): (a) and (b) on the baseline's server, each run back to back with its current twin, in alternating
  order (a A, then A a...), so that both meet the same machine load.
Then (b) again at 64 connections. Then 64 concurrent writers (asyncio, raw keep-alive HTTP/1.1 connections: httpx
would take half a core from the server) submit responses that partners completed page by page (the page forms,
no JavaScript), the submit POST timed, while a reader times survey pages: first with each writer's review GET made
beforehand, so that only writes run concurrently (the target), then with writers that read the review page before
each submit; finally a sqlite3 connection holds the write lock while survey pages are read.

Before the servers start, the same requests run in process (Flask test client) and their CPU time per request is
printed: on a shared machine, other processes' load inflates wrk's figures but not this one.

Figures: requests/s, p50/p95/p99 (from wrk's own histogram), the current/baseline ratio per round (median, min and
max over rounds), the CPU time the server and the load generator used per request, 503s and "database is locked"
in the server log.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.bench_app import TABLE
from benchmarks.common import (
    ADMIN,
    ROOT,
    Database,
    RawConnection,
    Server,
    answer_survey,
    autosave_targets,
    balanced,
    csrf_from,
    gunicorn_settings,
    lua_requests,
    make_app,
    median,
    pair_ratio,
    percentile,
    prepare_checkout,
    read_page,
    referenced_names,
    reporting_config,
    run_wrk,
    served_from,
    start_survey,
    wait_until_idle,
)

KINDS = {
    "z": "(z) bare route",
    "y": "(y) raw INSERT",
    "a": "(a) survey page",
    "b": "(b) autosave",
    "c": "(c) dashboard fragment",
    "A": "(A) survey page, baseline",
    "B": "(B) autosave, baseline",
}
TWINS = {"A": "a", "B": "b"}  # a baseline kind and the current kind it is compared with
ROUND_ORDERS = ("zaybc", "azbyc")
ROUND_ORDERS_WITH_BASELINE = ("zaAybBc", "AazBbyc")


@dataclass
class Side:
    """One checkout under test: its code, database, server, partners and wrk scripts."""

    name: str  # "current" or "baseline"
    root: Path
    database: Database
    prepared: dict
    server: Server | None = None
    sessions: "Sessions | None" = None
    scripts: dict = field(default_factory=dict)


def sqlite_database(path: Path) -> Database:
    url = f"sqlite:///{path}"

    def drop():
        for suffix in ("", "-wal", "-shm", "-writers.lock"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    return Database(url=url, sqlalchemy_url=url, path=path, drop=drop)


@contextmanager
def baseline_checkout(rev: str):
    """REV checked out into a temporary git worktree outside the repository, with what running it needs that git
    does not hold (htmx, copied from this checkout; compiled translations); removed afterwards.
    Yields (root, full commit id)."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
                            capture_output=True, text=True, check=True).stdout.strip()
    parent = Path(tempfile.mkdtemp(prefix="speed-baseline-"))
    root = parent / "checkout"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(root), commit],
                   capture_output=True, text=True, check=True)
    try:
        htmx = ROOT / "static" / "vendor" / "htmx.min.js"
        if not htmx.exists():
            raise SystemExit(f"{htmx} is missing: run `make setup` in this checkout first")
        (root / "static" / "vendor").mkdir(parents=True, exist_ok=True)
        if not (root / "static" / "vendor" / "htmx.min.js").exists():
            shutil.copy2(htmx, root / "static" / "vendor" / "htmx.min.js")
        pybabel = Path(sys.executable).with_name("pybabel")
        command = [str(pybabel)] if pybabel.exists() else [sys.executable, "-m", "babel.messages.frontend"]
        if (root / "translations").is_dir():
            subprocess.run([*command, "compile", "-f", "-d", "translations"], cwd=root, capture_output=True,
                           check=True)
        yield root, commit
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(root)],
                       capture_output=True, check=False)
        shutil.rmtree(parent, ignore_errors=True)


def sign_in(client: httpx.Client) -> str:
    """Sign the benchmark's admin in; the session cookie."""
    client.cookies.clear()
    csrf = csrf_from(client.get("/sign-in").text)
    answer = client.post("/sign-in", data={"csrf_token": csrf, "email": ADMIN[0], "password": ADMIN[1]})
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"sign-in answered {answer.status_code}")
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


class Sessions:
    """Partners who started their survey from their link's welcome page (their first page, the headers htmx sends
    from it and the questions on it that autosave), and a signed-in admin."""

    def __init__(self, server: Server, links: list[str], count: int, skip: set[str], admin: bool = True):
        self.partners = []
        with httpx.Client(base_url=server.base, timeout=30) as client:
            for link in links[:count]:
                client.cookies.clear()
                first = start_survey(client, link)
                page = read_page(client.get(first).text, first)
                self.partners.append({
                    "link": link,
                    "page": first,
                    "cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items()),
                    "headers": page.headers,
                    "targets": autosave_targets(page, skip),
                })
            self.admin_cookie = sign_in(client) if admin else ""
        if not all(partner["targets"] for partner in self.partners):
            raise RuntimeError("a first page has no question answered by a choice that autosaves and that no "
                               "condition reads")


def with_cookie(headers: dict, cookie: str) -> dict:
    return {**headers, "Cookie": cookie} if cookie else headers


def scripts(side: Side, workdir: Path, kinds: str, round_id: int | None = None) -> dict[str, Path]:
    """The wrk scripts of the kinds given (z, y, c only exist on the current side's bench_app)."""
    sessions = side.sessions
    rng = random.Random(8)
    saves = []
    for partner in sessions.partners:
        target = partner["targets"][0]
        for _ in range(4):
            body = urlencode([(target["name"], rng.choice(target["values"])), *target["fields"]])
            headers = {**partner["headers"], "HX-Request": "true",
                       "Content-Type": "application/x-www-form-urlencoded"}
            saves.append(("POST", target["url"], with_cookie(headers, partner["cookie"]), body))
    rng.shuffle(saves)
    variants = {
        "z": [("GET", "/bench/hello", {}, "")],
        "y": [("POST", "/bench/insert", {}, "")],
        "a": [("GET", p["page"], with_cookie({}, p["cookie"]), "") for p in sessions.partners],
        "b": saves,
        "c": [("GET", f"/secretariat/rounds/{round_id}/dashboard",
               {"Cookie": sessions.admin_cookie, "HX-Request": "true"}, "")],
    }
    paths = {}
    for name in kinds:
        paths[name] = workdir / f"{side.name}-{name}.lua"
        paths[name].write_text(lua_requests(variants[name]))
    return paths


def answered_partners(server: Server, links: list[str], threads: int = 4) -> list[str]:
    """Partners who answered page after page through the page forms and stopped at the review: their review
    pages' paths."""

    def one(numbered):
        number, link = numbered
        with httpx.Client(base_url=server.base, timeout=60) as client:
            return answer_survey(client, link, random.Random(87 + number))

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, enumerate(links)))


async def writers_and_reader(server: Server, reviews: list, reader_page: dict, concurrency: int,
                             review_first: bool) -> dict:
    """`concurrency` writers submit complete responses from their review pages (the submit POST timed) while one
    reader times survey pages.

    review_first=False: each writer's review GET (its submit form) was made before the timed phase, so only writes
    run concurrently - the issue's "64 concurrent writers". review_first=True: each writer reads the review page
    then submits, as a partner does, so the submits also queue behind 64 page renders.
    """
    queue = list(reviews)
    submit_ms, read_ms, statuses = [], [], {}
    done = asyncio.Event()

    async def review(connection: RawConnection, path: str) -> tuple[str, dict, bytes]:
        connection.cookies.clear()
        _status, _headers, html = await connection.request("GET", path)
        form = read_page(html.decode(), path).main_form()
        return form.action, dict(connection.cookies), urlencode(form.fields()).encode()

    prepared = []
    if not review_first:
        async def prepare():
            connection = RawConnection(server.base)
            try:
                while queue:
                    prepared.append(await review(connection, queue.pop()))
            finally:
                await connection.close()

        await asyncio.gather(*(prepare() for _ in range(8)))

    async def writer():
        # A raw keep-alive connection rather than httpx: with 64 writers httpx took over half a core of this
        # 2-core machine away from the server it measures.
        connection = RawConnection(server.base)
        try:
            while queue or prepared:
                if review_first:
                    action, _cookies, body = await review(connection, queue.pop())
                else:
                    action, cookies, body = prepared.pop()
                    connection.cookies = cookies
                started = time.perf_counter()
                status, _headers, _body = await connection.request(
                    "POST", action, body, {"Content-Type": "application/x-www-form-urlencoded"})
                submit_ms.append(1000 * (time.perf_counter() - started))
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            await connection.close()

    async def reader():
        connection = RawConnection(server.base)
        try:
            while not done.is_set():
                started = time.perf_counter()
                await connection.request("GET", reader_page["page"], headers=with_cookie({}, reader_page["cookie"]))
                connection.cookies.clear()  # the partner's cookie, if any, is the header above
                read_ms.append(1000 * (time.perf_counter() - started))
                await asyncio.sleep(0.05)
        finally:
            await connection.close()

    reading = asyncio.create_task(reader())
    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    done.set()
    await reading
    return {
        "submits": len(submit_ms),
        "seconds": elapsed,
        "statuses": statuses,
        "submit_p50": percentile(submit_ms, 0.5),
        "submit_p95": percentile(submit_ms, 0.95),
        "submit_p99": percentile(submit_ms, 0.99),
        "submit_max": max(submit_ms, default=0),
        "read_p50": percentile(read_ms, 0.5),
        "read_p95": percentile(read_ms, 0.95),
        "read_max": max(read_ms, default=0),
        "reads": len(read_ms),
        "client_cpu_share": (time.process_time() - cpu) / elapsed,
    }


def read_while_locked(server: Server, database, page: dict, hold: float = 1.5) -> dict:
    """Hold SQLite's write lock from another connection and time survey page reads meanwhile."""
    holder = sqlite3.connect(str(database.path), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO bench_insert (value, at) VALUES ('lock', 0)")
    timings = []
    try:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            end = time.monotonic() + hold
            while time.monotonic() < end:
                started = time.perf_counter()
                status = client.get(page["page"], headers=with_cookie({}, page["cookie"])).status_code
                timings.append((1000 * (time.perf_counter() - started), status))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    ms = [t for t, _status in timings]
    return {
        "reads": len(ms),
        "ok": sum(status == 200 for _t, status in timings),
        "p50": percentile(ms, 0.5),
        "max": max(ms, default=0),
    }


def in_process_tabs(app, links: list[str], skip: set[str]) -> list[tuple]:
    """Partners started in process (Flask test client): (client, first page path, autosave target, headers)."""
    tabs = []
    for link in links:
        client = app.test_client()
        first = start_survey(client, link)
        page = read_page(client.get(first).get_data(as_text=True), first)
        tabs.append((client, first, autosave_targets(page, skip)[0], page.headers))
    return tabs


def in_process_autosave(tab: tuple, value: str):
    client, _first, target, headers = tab
    return client.post(target["url"], data=urlencode([(target["name"], value), *target["fields"]]),
                       headers={**headers, "HX-Request": "true",
                                "Content-Type": "application/x-www-form-urlencoded"})


def profile(database, links: list[str], out: Path) -> None:
    """pyinstrument profiles of 200 survey page GETs and 200 autosaves, in process (Flask test client)."""
    from pyinstrument import Profiler

    app = make_app(database)
    tab = in_process_tabs(app, links[-1:], referenced_names(ROOT))[0]
    values = tab[2]["values"]
    texts = []
    for label, call in (("survey page GET", lambda i: tab[0].get(tab[1])),
                        ("autosave POST", lambda i: in_process_autosave(tab, values[i % len(values)]))):
        for i in range(20):
            call(i)
        profiler = Profiler(interval=0.0002)
        cpu = time.process_time()
        profiler.start()
        for i in range(200):
            call(i)
        profiler.stop()
        cpu_ms = (time.process_time() - cpu) * 5
        texts.append(
            f"== {label}: {cpu_ms:.1f} ms CPU per request (in process, profiler on)\n"
            + profiler.output_text(unicode=False, color=False)
        )
    out.write_text("\n".join(texts))


def cpu_per_request(database, links: list[str], requests: int = 150, rounds: int = 5) -> dict:
    """CPU milliseconds per request in process (Flask test client, rate limits off, no gzip), best of `rounds`
    alternating rounds: the bare route, the first survey page, an autosave. Steadier than wrk on a shared machine,
    since other processes' load does not count."""
    app = make_app(database)
    app.add_url_rule("/bench/hello", "bench_hello", lambda: "Hello, partner")
    tabs = in_process_tabs(app, links[-16:], referenced_names(ROOT))
    rng = random.Random(5)
    calls = {
        "z": lambda i: tabs[i % len(tabs)][0].get("/bench/hello"),
        "a": lambda i: tabs[i % len(tabs)][0].get(tabs[i % len(tabs)][1]),
        "b": lambda i: in_process_autosave(tabs[i % len(tabs)], rng.choice(tabs[i % len(tabs)][2]["values"])),
    }
    best = dict.fromkeys(calls, float("inf"))
    for name, call in calls.items():  # warm caches
        assert call(0).status_code == 200, name
    for _round in range(rounds):
        for name, call in calls.items():
            started = time.process_time()
            for i in range(requests):
                call(i)
            best[name] = min(best[name], 1000 * (time.process_time() - started) / requests)
    return {**best, "autosaved_question": tabs[0][2]["name"]}


def prepare_side(name: str, root: Path, workdir: Path, partners: int) -> Side:
    started = time.perf_counter()
    database = sqlite_database(workdir / f"{name}.sqlite")
    prepared = prepare_checkout(root, database.path, partners)
    with sqlite3.connect(str(database.path)) as connection:
        connection.execute(TABLE)
    print(f"{name}: {len(prepared['links'])} invitations prepared by {prepared['code']['benchmarks.common']} "
          f"in {time.perf_counter() - started:.1f} s", flush=True)
    return Side(name=name, root=root, database=database, prepared=prepared)


def start_server(side: Side, workers: int, workdir: Path) -> Server:
    """gunicorn for one side: its checkout's bench_app (the app plus the two reference routes) or, where a
    checkout has none, its wsgi app; its own gunicorn.conf.py with a hook that logs where it imported from."""
    app_module = "benchmarks.bench_app:app" if (side.root / "benchmarks" / "bench_app.py").exists() else "wsgi:app"
    env = {"RATELIMIT_STORAGE_URI": f"sqlitefile://{workdir / f'{side.name}-rate-limits.sqlite'}",
           "WEB_CONCURRENCY": str(workers)}
    server = Server(
        side.database, workers, app_module=app_module, env=env, extra_args=["--max-requests", "0"],
        log=workdir / f"gunicorn-{side.name}.log", root=side.root,
        config=reporting_config(side.root, workdir / f"gunicorn-{side.name}.conf.py"),
    ).start()
    deadline = time.monotonic() + 10
    while len(served_from(server)) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    files = served_from(server)
    if not files or not all(Path(f).resolve().is_relative_to(side.root.resolve()) for f in files):
        server.stop()
        raise RuntimeError(f"the {side.name} server imported engagement from {files or 'nowhere'}, "
                           f"not from {side.root}")
    print(f"{side.name}: gunicorn on {server.base} serves {app_module}, engagement from {', '.join(files)}",
          flush=True)
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partners", type=int, default=800, help="invitations in the round")
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of z, a, y, b, c (each pair back to back)")
    parser.add_argument("--baseline", metavar="REV", default="",
                        help="also serve REV (e.g. 9eca3a1) from a temporary worktree and compare (a) and (b) with it")
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py)"
    )
    parser.add_argument("--submits", type=int, default=640, help="responses submitted by the 64 writers")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--cpu-only", action="store_true", help="only the in-process CPU per request (about a minute, no wrk)"
    )
    parser.add_argument(
        "--only", default="", help="only alternating runs of these kinds: the second over the first (yb: b/y; Aa with --baseline: a/A)"
    )
    parser.add_argument("--out", default="/tmp/speed.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None and not args.cpu_only:
        sys.exit("wrk is needed: apt-get install -y wrk (Debian's package)")
    if set(args.only) & set("AB") and not args.baseline:
        sys.exit("--only with A or B needs --baseline REV")
    submits = min(args.submits, args.partners - 64 - 16)  # 64 page and autosave partners, 16 in-process tabs
    if submits < 64:
        sys.exit(f"--partners {args.partners} leaves {submits} partners to submit: give at least 144")
    workdir = Path(tempfile.mkdtemp(prefix="speed-"))
    with ExitStack() as cleanup:
        current = prepare_side("current", ROOT, workdir, args.partners)
        cleanup.callback(current.database.drop)
        links = current.prepared["links"]
        if args.profile:
            profile(current.database, links, workdir / "profile.txt")
            print(f"profiles in {workdir / 'profile.txt'}")
        cpu = {} if args.only else cpu_per_request(current.database, links)
        if cpu:
            print_cpu(cpu)
        if args.cpu_only:
            return 0
        sides = [current]
        if args.baseline:
            root, commit = cleanup.enter_context(baseline_checkout(args.baseline))
            baseline = prepare_side("baseline", root, workdir, args.partners)
            cleanup.callback(baseline.database.drop)
            sides.append(baseline)
        settings = gunicorn_settings()
        workers = args.workers or settings["workers"]
        for side in sides:
            side.server = start_server(side, workers, workdir)
            cleanup.callback(side.server.stop)
        results: dict = {
            "machine": f"{platform.node()} {os.cpu_count()} CPUs, {platform.platform()}",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "workers": workers,
            "threads": settings["threads"],
            "command": " ".join(sys.argv),
            "load_average_before": os.getloadavg(),
            "runs": {k: [] for k in ("zyabcAB" if args.baseline else "zyabc")},
            "cpu_in_process": cpu,
            "served_from": {side.name: sorted(served_from(side.server)) for side in sides},
        }
        if args.baseline:
            results["baseline"] = {"rev": args.baseline, "commit": commit,
                                   "prepared_by": baseline.prepared["code"]}
        server_of = {}
        paths = {}
        for side in sides:
            skip = referenced_names(side.root)
            side.sessions = Sessions(side.server, side.prepared["links"], 64, skip, admin=side is current)
            kinds = "zyabc" if side is current else "ab"
            side.scripts = scripts(side, workdir, kinds, side.prepared["round_id"])
            for kind, path in side.scripts.items():
                name = kind if side is current else kind.upper()
                paths[name], server_of[name] = path, side.server
        servers = [side.server for side in sides]

        def run(name: str, connections: int = 16, seconds: float = args.seconds) -> dict:
            others = tuple(s for s in servers if s is not server_of[name])
            return run_wrk(server_of[name], paths[name], connections, seconds, others)

        for name in args.only or paths:  # warm every worker and cache
            run(name, seconds=1)
        if args.only:
            only_these(run, args.only, args.rounds)
            return 0
        orders = ROUND_ORDERS_WITH_BASELINE if args.baseline else ROUND_ORDERS
        for round_number in range(args.rounds):
            # Each compared pair runs back to back, in alternating order (a A, then A a...), so that the two runs
            # of a pair meet the same conditions on a shared machine and neither always goes first.
            for name in orders[round_number % 2]:
                results["runs"][name].append(run(name))
        results["b64"] = run("b", connections=64)
        started = time.perf_counter()
        reviews = answered_partners(current.server, links[64 : 64 + submits])
        print(f"{len(reviews)} partners answered every page through the page forms in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        half = len(reviews) // 2
        reader = current.sessions.partners[0]
        for each in servers:
            wait_until_idle(each)
        results["writers64"] = asyncio.run(
            writers_and_reader(current.server, reviews[:half], reader, 64, review_first=False))
        wait_until_idle(current.server)
        results["writers64_reviewing"] = asyncio.run(
            writers_and_reader(current.server, reviews[half:], reader, 64, review_first=True))
        wait_until_idle(current.server)
        results["read_while_locked"] = read_while_locked(current.server, current.database, reader)
        current.server.stop()
        log = current.server.log_text()
        results["database_is_locked_in_log"] = log.lower().count("database is locked")
        results["database_busy_in_log"] = log.lower().count("database busy")
        results["load_average_after"] = os.getloadavg()
    summarise(results)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(f"raw figures in {args.out}")
    return 0


def only_these(run, kinds: str, rounds: int) -> None:
    """Alternating runs of a few kinds (forward, then backward), each kind's figures per round, and the second
    kind's requests per second over the first's per round with their median taken as the full run takes it
    (`pair_ratio`: `yb` gives b/y, `Aa` the current page over the baseline's)."""
    runs: dict = {name: [] for name in kinds}
    for round_number in range(rounds):
        for name in kinds if round_number % 2 == 0 else kinds[::-1]:
            runs[name].append(run(name))
    for name in kinds:
        print(f"{KINDS[name]}: req/s {[round(r['rps']) for r in runs[name]]}, server CPU ms "
              f"{[round(r['server_cpu_ms'], 3) for r in runs[name]]}, p99 ms {[round(r['p99'], 1) for r in runs[name]]}")
    if len(kinds) >= 2:
        base, measured = kinds[0], kinds[1]
        ratios = [run["rps"] / baseline["rps"] for baseline, run in zip(runs[base], runs[measured], strict=True)]
        ratio, kept = pair_ratio(runs[measured], runs[base])
        print(f"{measured}/{base} per round {[round(r, 3) for r in ratios]}, median {ratio:.3f} "
              f"(over the {kept} rounds where no worker served all 16 connections)")


def print_cpu(cpu: dict) -> None:
    print(
        f"in process, CPU ms/request (best of 5 x 150): (z) bare route {cpu['z']:.2f}, (a) survey page "
        f"{cpu['a']:.2f}, (b) autosave of {cpu['autosaved_question']} {cpu['b']:.2f}; "
        f"a/z {cpu['a'] / cpu['z']:.1f}x, b/z {cpu['b'] / cpu['z']:.1f}x"
    )


def spread(values: list[float]) -> str:
    return f"{min(values):.0f} / {statistics.median(values):.0f} / {max(values):.0f}"


def compare_with_baseline(results: dict) -> list[tuple[str, bool]]:
    """The side-by-side table of (a) and (b) against the baseline, and the checks "at most 25 % fewer requests per
    second" (the median over rounds of current/baseline, each round's pair run back to back)."""
    runs, baseline = results["runs"], results["baseline"]
    label = f"{baseline['rev']} ({baseline['commit'][:10]})"
    print(f"\nAgainst the baseline {label}, the same {len(runs['a'])} rounds, each pair back to back:")
    print(f"{'':18}{'current req/s':>22}{'baseline req/s':>22}{'current/baseline':>26}{'p99 ms':>16}")
    print(f"{'':18}{'min / median / max':>22}{'min / median / max':>22}{'median (min-max), rounds':>26}"
          f"{'cur / base':>16}")
    checks, table = [], {}
    for current, old, name in (("a", "A", "(a) survey page"), ("b", "B", "(b) autosave")):
        ratios = [run["rps"] / base["rps"] for run, base in zip(runs[current], runs[old], strict=True)]
        ratio, kept = pair_ratio(runs[current], runs[old])
        table[current] = {"ratio_median": ratio, "ratio_min": min(ratios), "ratio_max": max(ratios),
                          "ratios": ratios, "rounds_kept": kept,
                          "current_rps": [r["rps"] for r in runs[current]],
                          "baseline_rps": [r["rps"] for r in runs[old]],
                          "current_p99": median(runs[current], "p99"), "baseline_p99": median(runs[old], "p99")}
        ratio_text = f"{ratio:.2f} ({min(ratios):.2f}-{max(ratios):.2f}), {kept}"
        p99_text = f"{table[current]['current_p99']:.1f} / {table[current]['baseline_p99']:.1f}"
        print(f"{name:18}{spread([r['rps'] for r in runs[current]]):>22}{spread([r['rps'] for r in runs[old]]):>22}"
              f"{ratio_text:>26}{p99_text:>16}")
        text = (f"{name}: at most 25 % fewer requests/s than {baseline['rev']}: current/baseline {ratio:.2f} "
                f"(median of {kept} rounds; per round {', '.join(f'{r:.2f}' for r in ratios)})")
        checks.append((text, ratio >= 0.75))
    baseline["comparison"] = table
    return checks


def summarise(results: dict) -> None:
    runs = results["runs"]
    print(
        f"\n{results['machine']}; {results['workers']} gthread workers x {results['threads']} threads; "
        f"{results['date']}; load average before {results['load_average_before'][0]:.1f}, after "
        f"{results['load_average_after'][0]:.1f}"
    )
    print(
        f"{'':30}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'srv CPU ms':>12}{'wrk CPU ms':>12}"
        f"{'non-2xx':>9}  one worker"
    )
    for name in runs:
        print(
            f"{KINDS[name]:30}{median(runs[name], 'rps'):8.0f}{median(runs[name], 'p50'):9.1f}"
            f"{median(runs[name], 'p95'):9.1f}{median(runs[name], 'p99'):9.1f}"
            f"{median(runs[name], 'server_cpu_ms'):12.2f}{median(runs[name], 'client_cpu_ms'):12.3f}"
            f"{sum(r['non_2xx'] for r in runs[name]):9d}"
            f"{sum(not balanced(r) for r in runs[name]):>4}/{len(runs[name])}"
        )
    b64 = results["b64"]
    print(
        f"(b) autosave, 64 connections: {b64['rps']:.0f} req/s, p50 {b64['p50']:.1f}, p95 {b64['p95']:.1f}, "
        f"p99 {b64['p99']:.1f} ms, non-2xx {b64['non_2xx']}"
    )
    checks = compare_with_baseline(results) if "baseline" in results else []
    page_p95 = median(runs["a"], "p95")
    save_p99 = median(runs["b"], "p99")
    w = results["writers64"]
    locked = results["read_while_locked"]
    non_2xx = sum(r["non_2xx"] + r["socket_errors"] for kind in "ab" for r in runs[kind])
    checks += [
        (f"autosave p99 < 100 ms: {save_p99:.1f} ms (16 connections, median of rounds)", save_p99 < 100),
        (
            (f"64 writers: submit p99 < 250 ms: {w['submit_p99']:.1f} ms ({w['submits']} submits in "
             f"{w['seconds']:.1f} s, statuses {w['statuses']})"),
            w["submit_p99"] < 250,
        ),
        (f"survey page p95 < 25 ms: {page_p95:.1f} ms", page_p95 < 25),
        (
            (f"zero 'database is locked': {results['database_is_locked_in_log']} in the log, "
             f"{results['database_busy_in_log']} busy (503); {non_2xx} non-2xx or socket errors in (a) and (b)"),
            results["database_is_locked_in_log"] == 0
            and results["database_busy_in_log"] == 0
            and set(w["statuses"]) <= {303}
            and set(results["writers64_reviewing"]["statuses"]) <= {303}
            and non_2xx == 0,
        ),
        (
            (f"read while the lock is held < 50 ms: max {locked['max']:.1f} ms over {locked['reads']} reads "
             f"(p50 {locked['p50']:.1f}); during the 64 writers max {w['read_max']:.1f} ms, p95 {w['read_p95']:.1f}"),
            locked["max"] < 50 and locked["ok"] == locked["reads"],
        ),
    ]
    print("\nTargets (docs/PERFORMANCE.md):")
    for text, met in checks:
        print(("PASS  " if met else "FAIL  ") + text)
    r = results["writers64_reviewing"]
    print(
        f"64 partners reviewing then submitting (not a target): submit p50 {r['submit_p50']:.1f}, "
        f"p95 {r['submit_p95']:.1f}, p99 {r['submit_p99']:.1f} ms ({r['submits']} submits in {r['seconds']:.1f} s, "
        f"statuses {r['statuses']}); reads meanwhile max {r['read_max']:.1f} ms"
    )
    a_z, a_z_rounds = pair_ratio(runs["a"], runs["z"])
    b_y, b_y_rounds = pair_ratio(runs["b"], runs["y"])
    results["ratios"] = {"a/z": a_z, "b/y": b_y}
    print(
        f"reference (not targets): survey page / bare route {a_z:.2f}, autosave / raw INSERT {b_y:.2f} (medians "
        f"over {a_z_rounds} and {b_y_rounds} rounds where no worker served all 16 connections); 64-writer client "
        f"CPU share {w['client_cpu_share']:.2f}"
    )
    results["targets"] = [{"target": text, "met": met} for text, met in checks]


if __name__ == "__main__":
    sys.exit(main())
