"""The exports measured as a user gets them: over HTTP from one gunicorn worker, against SQL GROUP BY on the same DB.

    python benchmarks/export_http.py run 10000 100000:csv        # sizes, each optionally :formats (csv,long,xlsx)
    python benchmarks/export_http.py generate 10000              # only build (or rebuild) the database

Databases: benchmarks/results/export-http-N.sqlite (gitignored), built once and reused by later runs. Each holds the
default survey, a warm-up round of 20 responses and a benchmark round of N responses, one organisation and contact
per response, 90 % submitted with an answer to every answerable question (about 100 answers each) and 10 % in
progress with the first half answered (their visibility is evaluated on export, as for real partial responses),
bulk-inserted with sqlite3 executemany (no ORM per row), and a secretariat admin made with the app's create_user.

For each size and format: a fresh gunicorn (the project's gunicorn.conf.py, 1 gthread worker, 127.0.0.1, free port);
sign in through GET/POST /sign-in with the CSRF token; download the warm-up round's export once (imports, survey
definition cache, SQLite connection), then stream the benchmark round's export with httpx and record the time to
the response headers, to the first body byte, to the first response row (CSV), the total, the bytes, the worker's
CPU time and its VmRSS from /proc/<pid>/status sampled every 50 ms by a thread: before (after the warm-up), peak
during, halfway through the download (flat memory: halfway is already near the peak), after (0.5 s after the
last byte). "growth" is peak minus before; "from cold" is peak minus the RSS right
after sign-in (warm-up included). Before the servers start, the same process times plain SQL on the same file: the
GROUP BY aggregates (answers per question and value; the same per partner category) and a bare read of the rows the
export reads (answers in response order, fetched and dropped), the floor for any export.
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (
    ADMIN,
    CATEGORIES,
    REGIONS,
    Database,
    answers_grouped_sql,
    cpu_seconds,
    csrf_from,
    gunicorn_settings,
    running,
)
from benchmarks.exports import random_value

RESULTS = ROOT / "benchmarks" / "results"
FORMATS = {"csv": "export.csv", "long": "export-long.csv", "xlsx": "export.xlsx"}
WARM_UP = 20  # responses in the warm-up round
BATCH = 1000  # responses per transaction while generating
POOL = 256  # stored values drawn per question, picked from at random (fast; still varied)
SAMPLE_SECONDS = 0.05
STAMP = "2026-11-01 09:00:00.000000"  # SQLAlchemy's SQLite DATETIME text
SUBMITTED_STAMP = "2026-11-01 09:15:00.000000"
SQL = {
    "answers by question and value": answers_grouped_sql(),
    "answers by category, question and value": answers_grouped_sql("o.category"),
}
# The rows the exports read (analysis.loader.answer_rows), fetched and dropped.
READ = """
    SELECT response_id, question, value FROM answers
    WHERE response_id IN (SELECT r.id FROM responses r JOIN invitations i ON r.invitation_id = i.id
                          WHERE i.round_id = :round)
    ORDER BY response_id, question"""


def database_path(count: int) -> Path:
    return RESULTS / f"export-http-{count}.sqlite"


def generate(count: int, path: Path) -> Path:
    """Build the database in a temporary file and rename it when complete, so an interrupted run is not reused."""
    from engagement.auth import create_user
    from engagement.extensions import db
    from surveys.models import Round
    from surveys.versions import DEFAULT_SURVEY_FILE, import_survey
    from wsgi import create_app

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for suffix in ("", "-wal", "-shm", "-writers.lock"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    begin = time.perf_counter()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{partial}",
            "SECRET_KEY": "benchmark-" + "x" * 32,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        version, definition = import_survey(DEFAULT_SURVEY_FILE.read_bytes(), DEFAULT_SURVEY_FILE.name)
        rounds = [
            Round(survey_version=version, name=name, status="open", closes_on=date(2030, 1, 1))
            for name in ("Warm-up round", f"Benchmark round of {count:,} responses")
        ]
        db.session.add_all(rounds)
        create_user(*ADMIN, "admin")
        db.session.commit()
        round_ids = [r.id for r in rounds]
        questions = [q for q in definition.questions() if q.answerable]
        db.session.remove()
        db.engine.dispose()

    rng = random.Random(87)
    pools = []
    for question in questions:
        pool = [random_value(question, rng) for _ in range(POOL)]
        pools.append((question.name, [value or None for value in pool]))
    half = len(pools) // 2
    connection = sqlite3.connect(partial, isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-262144")  # 256 MB
    answers = 0
    plan = [(round_ids[0], 1, WARM_UP), (round_ids[1], WARM_UP + 1, WARM_UP + count)]
    for round_id, first_id, last_id in plan:
        for first in range(first_id, last_id + 1, BATCH):
            ids = range(first, min(first + BATCH - 1, last_id) + 1)
            submitted = {i: rng.random() < 0.9 for i in ids}
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO organisations (id, name, category, country, region, pathfinder, action_groups,"
                " gcg_member, active, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, 1, ?, ?)",
                [
                    (
                        i,
                        f"Organisation {i:06d}",
                        rng.choice(CATEGORIES),
                        rng.choice(REGIONS),
                        rng.random() < 0.2,
                        "rule_of_law" if i % 3 else "supply_chains migration",
                        i % 4 == 0,
                        STAMP,
                        STAMP,
                    )
                    for i in ids
                ],
            )
            connection.executemany(
                "INSERT INTO contacts (id, organisation_id, name, email, language, active, created_at)"
                " VALUES (?, ?, ?, ?, 'en', 1, ?)",
                [(i, i, f"Contact {i}", f"c{i}@bench.example", STAMP) for i in ids],
            )
            connection.executemany(
                "INSERT INTO invitations (id, round_id, contact_id, salt, token_hash, created_at, invited_at,"
                " reminder_count) VALUES (?, ?, ?, '', ?, ?, ?, 0)",
                [(i, round_id, i, f"{i:064x}", STAMP, STAMP) for i in ids],
            )
            connection.executemany(
                "INSERT INTO responses (id, invitation_id, status, language, current_page, started_at, updated_at,"
                " submitted_at) VALUES (?, ?, ?, 'en', '', ?, ?, ?)",
                [
                    (
                        i,
                        i,
                        "submitted" if submitted[i] else "in_progress",
                        STAMP,
                        STAMP,
                        SUBMITTED_STAMP if submitted[i] else None,
                    )
                    for i in ids
                ],
            )
            rows = []
            choice = rng.choice
            for i in ids:
                for name, pool in pools if submitted[i] else pools[:half]:
                    value = choice(pool)
                    if value is not None:
                        rows.append((i, name, value, STAMP))
            connection.executemany(
                "INSERT INTO answers (response_id, question, value, updated_at) VALUES (?, ?, ?, ?)", rows
            )
            connection.execute("COMMIT")
            answers += len(rows)
    connection.execute("ANALYZE")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    for suffix in ("-wal", "-shm", "-writers.lock"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    partial.rename(path)
    print(
        f"generated {count:,} responses, {answers:,} answers ({answers / (count + WARM_UP):.0f} per response) "
        f"in {path} ({path.stat().st_size / 2**20:,.0f} MiB, {time.perf_counter() - begin:.0f} s)",
        flush=True,
    )
    return path


def database_for(count: int) -> Path:
    path = database_path(count)
    return path if path.exists() else generate(count, path)


def round_ids(path: Path) -> tuple[int, int, int]:
    """(warm-up round, benchmark round, responses in the benchmark round)."""
    with sqlite3.connect(path) as connection:
        warm, big = [r[0] for r in connection.execute("SELECT id FROM rounds ORDER BY id")]
        responses = connection.execute(
            "SELECT count(*) FROM responses r JOIN invitations i ON r.invitation_id = i.id WHERE i.round_id = ?",
            (big,),
        ).fetchone()[0]
    return warm, big, responses


def sql_baseline(path: Path, round_id: int, repeats: int = 3) -> dict:
    """Best of `repeats` for each query, on a connection of its own (the file is in the OS cache by then)."""
    results = {}
    with sqlite3.connect(path) as connection:
        answers = connection.execute(
            READ.replace("response_id, question, value", "count(*)", 1).replace(
                "ORDER BY response_id, question", ""
            ),
            {"round": round_id},
        ).fetchone()[0]
        results["answers"] = answers
        for name, query in SQL.items():
            times = []
            for _ in range(repeats):
                begin = time.perf_counter()
                rows = connection.execute(query, {"round": round_id}).fetchall()
                times.append(time.perf_counter() - begin)
            results[name] = {"seconds": min(times), "rows": len(rows)}
        times = []
        for _ in range(repeats):
            begin = time.perf_counter()
            cursor = connection.execute(READ, {"round": round_id})
            while cursor.fetchmany(20_000):
                pass
            times.append(time.perf_counter() - begin)
        results["read answers in export order"] = {"seconds": min(times), "rows": answers}
    results["group by seconds"] = sum(results[name]["seconds"] for name in SQL)
    return results


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class Sampler(threading.Thread):
    """The worker's VmRSS every SAMPLE_SECONDS until stopped; `peak` is the highest seen."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.done = pid, [], threading.Event()

    def run(self):
        while not self.done.is_set():
            self.samples.append(vm_rss_mb(self.pid))
            self.done.wait(SAMPLE_SECONDS)

    def stop(self) -> float:
        self.done.set()
        self.join()
        self.samples.append(vm_rss_mb(self.pid))
        return max(self.samples)


def sign_in(client: httpx.Client) -> None:
    page = client.get("/sign-in")
    page.raise_for_status()
    answer = client.post(
        "/sign-in", data={"csrf_token": csrf_from(page.text), "email": ADMIN[0], "password": ADMIN[1]}
    )
    if answer.status_code != 303 or "/sign-in" in answer.headers.get("location", "/sign-in"):
        raise RuntimeError(f"sign-in failed: {answer.status_code} {answer.headers.get('location')}")


def download(client: httpx.Client, round_id: int, format_: str, pid: int | None = None) -> dict:
    """Stream one export to nowhere; times, bytes, and (with pid) the worker's memory and CPU around it."""
    before = vm_rss_mb(pid) if pid else None
    cpu = cpu_seconds(pid) if pid else None
    sampler = Sampler(pid) if pid else None
    if sampler:
        sampler.start()
    first_byte = first_row = None
    size = lines = 0
    begin = time.perf_counter()
    with client.stream("GET", f"/secretariat/rounds/{round_id}/{FORMATS[format_]}") as answer:
        headers = time.perf_counter() - begin
        if answer.status_code != 200:
            raise RuntimeError(f"{format_} export answered {answer.status_code}")
        for chunk in answer.iter_raw():
            if first_byte is None:
                first_byte = time.perf_counter() - begin
            size += len(chunk)
            if first_row is None and format_ != "xlsx":
                lines += chunk.count(b"\n")
                if lines >= 2:  # the header line, then a response (generated answers hold no line breaks)
                    first_row = time.perf_counter() - begin
    total = time.perf_counter() - begin
    result = {
        "format": format_,
        "headers_s": headers,
        "first_byte_s": first_byte,
        "first_row_s": first_row,
        "total_s": total,
        "bytes": size,
    }
    if pid:
        peak = sampler.stop()
        time.sleep(0.5)
        samples = sampler.samples
        result.update(
            before_mb=before,
            peak_mb=peak,
            after_mb=vm_rss_mb(pid),
            growth_mb=peak - before,
            halfway_mb=samples[len(samples) // 2],
            worker_cpu_s=cpu_seconds(pid) - cpu,
            rss_samples_mb=[round(value, 1) for value in samples],
        )
    return result


def measure(path: Path, format_: str) -> dict:
    """One format on a fresh gunicorn: sign in, warm up on the small round, then the benchmark round."""
    warm, big, _responses = round_ids(path)
    database = Database(url=f"sqlite:///{path}", sqlalchemy_url=f"sqlite:///{path}", path=path)
    log = RESULTS / f"gunicorn-{path.stem}-{format_}.log"
    with running(database, 1, env={"RATELIMIT_ENABLED": "0"}, log=log) as server:
        (pid,) = server.workers()
        with httpx.Client(base_url=server.base, timeout=600) as client:
            sign_in(client)
            cold = vm_rss_mb(pid)
            download(client, warm, format_)
            result = download(client, big, format_, pid)
        result["cold_mb"] = cold
        result["from_cold_mb"] = result["peak_mb"] - cold
        result["gunicorn"] = {"pid": pid, "threads": gunicorn_settings()["threads"]}
    return result


def run(plan: list[tuple[int, list[str]]]) -> dict:
    load_before = os.getloadavg()
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "sizes": [],
    }
    for count, formats in plan:
        path = database_for(count)
        _warm, big, responses = round_ids(path)
        sql = sql_baseline(path, big)
        print(
            f"\n{responses:,} responses, {sql['answers']:,} answers, {path.stat().st_size / 2**20:,.0f} MiB; "
            f"SQL GROUP BY {sql['group by seconds']:.2f} s ("
            + ", ".join(f"{name} {sql[name]['seconds']:.2f} s" for name in SQL)
            + f"); bare read of the export's rows {sql['read answers in export order']['seconds']:.2f} s; "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        entry = {
            "responses": responses,
            "answers": sql["answers"],
            "db_mib": path.stat().st_size / 2**20,
            "sql": sql,
            "exports": [],
        }
        for format_ in formats:
            result = measure(path, format_)
            result["load_1min"] = os.getloadavg()[0]
            result["ratio_to_group_by"] = result["total_s"] / sql["group by seconds"]
            entry["exports"].append(result)
            print(row(responses, result), flush=True)
        report["sizes"].append(entry)
    report["load_after"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"export-http-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2))
    print(
        f"\nload average before {load_before[0]:.1f}, after {report['load_after'][0]:.1f} on {os.cpu_count()} CPUs;"
        f" results in {out}"
    )
    return report


HEADER = (
    "responses | format | headers | first byte | first row | total | MiB | worker CPU | RSS before | halfway | peak | "
    "after | growth | from cold | x GROUP BY"
)


def row(responses: int, r: dict) -> str:
    first_row = f"{r['first_row_s'] * 1000:.0f} ms" if r["first_row_s"] is not None else "-"
    return (
        f"{responses:,} | {r['format']} | {r['headers_s'] * 1000:.0f} ms | {r['first_byte_s'] * 1000:.0f} ms | "
        f"{first_row} | {r['total_s']:.2f} s | {r['bytes'] / 2**20:.1f} | {r['worker_cpu_s']:.1f} s | "
        f"{r['before_mb']:.0f} MB | {r['halfway_mb']:.0f} MB | {r['peak_mb']:.0f} MB | {r['after_mb']:.0f} MB | {r['growth_mb']:.1f} MB | "
        f"{r['from_cold_mb']:.1f} MB | {r['ratio_to_group_by']:.1f}x"
    )


def parse_plan(args: list[str]) -> list[tuple[int, list[str]]]:
    plan = []
    for arg in args:
        size, _, formats = arg.partition(":")
        chosen = formats.split(",") if formats else list(FORMATS)
        unknown = set(chosen) - set(FORMATS)
        if unknown:
            raise SystemExit(f"unknown format {', '.join(sorted(unknown))}: csv, long or xlsx")
        plan.append((int(size), chosen))
    return plan


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["run", "generate"])
    parser.add_argument("sizes", nargs="+", help="number of responses, optionally :csv,long,xlsx")
    options = parser.parse_args()
    if options.command == "generate":
        for count, _formats in parse_plan(options.sizes):
            generate(count, database_path(count))
    else:
        print(HEADER)
        run(parse_plan(options.sizes))
