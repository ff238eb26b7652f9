"""Time and memory of the full collective analysis report against the same aggregates as plain SQL GROUP BY.

    python benchmarks/report.py generate 10000 /tmp/report-10k.sqlite   # the demo round + 10,000 synthetic responses
    python benchmarks/report.py measure /tmp/report-10k.sqlite           # one table: report vs SQL, in subprocesses
    python benchmarks/report.py all 1000 10000                            # both sizes, generated in /tmp

Responses come from synthetic/responses.py (valid answers that respect the survey's relevance), bulk-inserted
with one executemany per table and batch. Each measurement runs in a fresh subprocess, so ru_maxrss is that run's
peak resident memory: `report` loads the round (analysis.loader.load_round) and builds the whole report
(analysis.report.builder.build_report, charts included; "CPU" is the process time of that work, which a loaded machine
inflates less than the wall-clock time); `report-traced` repeats it under tracemalloc for the peak of
Python allocations (slower: its time is not the one reported); `sql` runs the report's aggregates as GROUP BY queries
on the same database: counts per question and answer code (every Likert, choice, NPS and use table), the same by
partner category and by region (heat maps, breakdowns), and invitations by status per category and region (response
rates). The SQL side returns counts only; turning them into percentages, intervals and charts is the report's extra.
"""

import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import answers_grouped_sql

SQL = {
    "answers by question and code": answers_grouped_sql(),
    "answers by category, question and code": answers_grouped_sql("o.category"),
    "answers by region, question and code": answers_grouped_sql("o.region"),
    "invitations by category, region and status": """
        SELECT o.category, o.region, r.status, count(*), count(DISTINCT o.id) FROM invitations i
        JOIN contacts c ON i.contact_id = c.id JOIN organisations o ON c.organisation_id = o.id
        LEFT JOIN responses r ON r.invitation_id = i.id
        WHERE i.round_id = :round GROUP BY o.category, o.region, r.status""",
}


def app_for(path: str):
    from wsgi import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "benchmark-" + "x" * 32,
                       "RATELIMIT_ENABLED": False})


def generate(count: int, path: str) -> None:
    from engagement.extensions import db
    from surveys.demo import load_demo
    from surveys.versions import definition_for
    from synthetic.responses import fill_round

    if os.path.exists(path):
        os.remove(path)
    app = app_for(path)
    with app.app_context():
        db.create_all()
        round_, _invitations = load_demo()
        begin = time.perf_counter()
        written = fill_round(round_.id, definition_for(round_.survey_version), count, submitted_share=0.9)
        print(f"{count:,} responses, {written:,} answers ({written / count:.0f} per response) in {path}, "
              f"{time.perf_counter() - begin:.1f} s")


def run(kind: str, path: str) -> dict:
    """One measurement in this process (called in a fresh subprocess by `measure`)."""
    from engagement.extensions import db

    app = app_for(path)
    with app.app_context(), app.test_request_context("/"):
        from analysis.loader import load_round
        from analysis.report.builder import build_report
        from surveys.models import Round

        round_id = db.session.scalar(db.select(Round.id).order_by(Round.id))
        if kind == "sql":
            from sqlalchemy import text

            begin, cpu = time.perf_counter(), time.process_time()
            rows = sum(len(db.session.execute(text(q), {"round": round_id}).all()) for q in SQL.values())
            return {"seconds": time.perf_counter() - begin, "cpu_seconds": time.process_time() - cpu, "rows": rows,
                    "maxrss_mb": _maxrss_mb()}
        traced = kind == "report-traced"
        if traced:
            tracemalloc.start()
        begin, cpu = time.perf_counter(), time.process_time()
        data = load_round(db.session, round_id)
        loaded = time.perf_counter()
        report = build_report(data)
        built = time.perf_counter()
        result = {"seconds": built - begin, "cpu_seconds": time.process_time() - cpu, "load_seconds": loaded - begin,
                  "build_seconds": built - loaded,
                  "answers": len(data.answers), "responses": len(data.respondents),
                  "sections": len(report.sections), "maxrss_mb": _maxrss_mb()}
        if traced:
            result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        return result


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def subprocess_run(kind: str, path: str) -> dict:
    output = subprocess.run([sys.executable, __file__, "run", kind, path], check=True, capture_output=True,
                            text=True, cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure(path: str, repeats: int = 3) -> dict:
    """Best of `repeats` for the times (a shared machine is noisy), the traced peak from one extra run."""
    load_before = os.getloadavg()[0]
    reports, sqls = [], []
    for _ in range(repeats):  # interleaved, so both sides see the same machine load
        reports.append(subprocess_run("report", path))
        sqls.append(subprocess_run("sql", path))
    report = min(reports, key=lambda r: r["seconds"])
    sql = min(sqls, key=lambda r: r["seconds"])
    traced = subprocess_run("report-traced", path)
    line = (f"{report['responses']:>8,} responses {report['answers']:>10,} answers | report {report['seconds']:6.2f} s "
            f"(load {report['load_seconds']:.2f} + build {report['build_seconds']:.2f}; CPU {report['cpu_seconds']:.2f} s)"
            f", peak RSS {report['maxrss_mb']:.0f} MB, Python peak {traced['traced_peak_mb']:.0f} MB | SQL GROUP BY "
            f"{sql['seconds']:.2f} s (CPU {sql['cpu_seconds']:.2f} s), peak RSS {sql['maxrss_mb']:.0f} MB | ratio "
            f"{report['seconds'] / sql['seconds']:.1f}x | load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    print(line, flush=True)
    return {"report": report, "sql": sql, "traced": traced}


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["help"]
    if command == "generate":
        generate(int(args[0]), args[1])
    elif command == "measure":
        measure(args[0])
    elif command == "run":
        print(json.dumps(run(args[0], args[1])))
    elif command == "all":
        for size in [int(a) for a in args] or [1000, 10000]:
            target = f"/tmp/report-bench-{size}.sqlite"
            if not os.path.exists(target):
                generate(size, target)
            measure(target)
    else:
        raise SystemExit(__doc__)
