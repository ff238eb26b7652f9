"""Time and memory of the exports on a synthetic round of the default survey.

    python benchmarks/exports.py generate 10000 /tmp/bench-10k.sqlite   # a round of 10,000 submitted responses
    python benchmarks/exports.py measure /tmp/bench-10k.sqlite csv       # csv, long or xlsx; one process each

`measure` reports the time to the first chunk, to the first chunk holding responses, the total time, the bytes
written and how much the process's resident memory grew while streaming (sampled at every chunk), so the figure
is what a worker would see.
"""

import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from wsgi import create_app

BATCH = 500  # responses inserted per transaction while generating


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def app_for(path: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "benchmark-" + "x" * 32,
            "RATELIMIT_ENABLED": False,
        }
    )


def random_value(question, rng: random.Random) -> str | None:
    """A valid stored value for a question of the default survey (or None: left unanswered)."""
    names = question.choice_names()
    if question.type == "select_one":
        return rng.choice(names)
    if question.type == "select_multiple":
        return " ".join(n for n in names if rng.random() < 0.3) or names[0]
    if question.type == "rank":
        return " ".join(rng.sample(names, len(names)))
    if question.type == "range":
        start, end, _step = question.range_bounds
        return str(rng.randint(int(start), int(end)))
    if question.type == "integer":
        return str(rng.randint(0, 500))
    if question.type == "decimal":
        return repr(round(rng.uniform(0, 1000), 2))
    if question.type == "date":
        return (date(2020, 1, 1) + timedelta(days=rng.randint(0, 2000))).isoformat()
    if question.type == "text":
        return (
            rng.choice(
                [
                    "",
                    "Plus de réunions régionales, s'il vous plaît.",
                    "More peer exchange",
                    "Más información sobre financiación",
                    "=1+1 should stay text",
                ]
            )
            or None
        )
    return None


def generate(count: int, path: str) -> None:
    from engagement.extensions import db
    from partners.models import Contact, Organisation
    from surveys.models import Answer, Invitation, Response, Round
    from surveys.versions import DEFAULT_SURVEY_FILE, definition_for, import_survey

    if os.path.exists(path):
        os.remove(path)
    app = app_for(path)
    rng = random.Random(87)
    with app.app_context():
        db.create_all()
        version, _definition = import_survey(DEFAULT_SURVEY_FILE.read_bytes(), DEFAULT_SURVEY_FILE.name)
        round_ = Round(
            survey_version=version, name="Benchmark round", status="open", closes_on=date(2030, 1, 1)
        )
        db.session.add(round_)
        db.session.commit()
        definition = definition_for(version)
        questions = [q for q in definition.questions() if q.answerable]
        categories = ["government_pathfinder", "government", "workers", "employers", "un", "civil_society"]
        regions = ["africa", "americas", "arab_states", "asia_pacific", "europe_central_asia", "global"]
        started = datetime(2026, 11, 1, tzinfo=UTC)
        answers_written = 0
        for first in range(0, count, BATCH):
            ids = range(first + 1, min(first + BATCH, count) + 1)
            db.session.execute(
                insert(Organisation),
                [
                    {
                        "id": i,
                        "name": f"Organisation {i}",
                        "category": rng.choice(categories),
                        "region": rng.choice(regions),
                        "country": None,
                        "pathfinder": rng.random() < 0.2,
                        "action_groups": "",
                        "gcg_member": False,
                        "active": True,
                    }
                    for i in ids
                ],
            )
            db.session.execute(
                insert(Contact),
                [
                    {
                        "id": i,
                        "organisation_id": i,
                        "name": f"Contact {i}",
                        "email": f"c{i}@example.org",
                        "language": "en",
                        "active": True,
                    }
                    for i in ids
                ],
            )
            db.session.execute(
                insert(Invitation),
                [
                    {"id": i, "round_id": round_.id, "contact_id": i, "salt": "", "token_hash": f"{i:064x}"}
                    for i in ids
                ],
            )
            db.session.execute(
                insert(Response),
                [
                    {
                        "id": i,
                        "invitation_id": i,
                        "status": "submitted",
                        "language": "en",
                        "started_at": started,
                        "updated_at": started,
                        "submitted_at": started + timedelta(minutes=15),
                    }
                    for i in ids
                ],
            )
            rows = []
            for i in ids:
                for question in questions:
                    value = random_value(question, rng)
                    if value:
                        rows.append(
                            {
                                "response_id": i,
                                "question": question.name,
                                "value": value,
                                "updated_at": started,
                            }
                        )
            db.session.execute(insert(Answer), rows)
            db.session.commit()
            answers_written += len(rows)
        print(f"{count:,} responses, {answers_written:,} answers in {path}")


def measure(path: str, format_: str) -> None:
    from analysis import exports
    from analysis.loader import iter_responses, round_and_definition
    from engagement.extensions import db
    from surveys.models import Round

    app = app_for(path)
    with app.app_context():
        # The latest round: export_http.py's databases hold a small warm-up round before the big one.
        round_id = db.session.scalar(db.select(Round.id).order_by(Round.id.desc()))
        round_and_definition(db.session, round_id)  # parse the definition once, as a warm worker has
        db.session.remove()
        baseline = peak = rss_mb()
        begin, cpu = time.perf_counter(), time.process_time()
        round_, definition = round_and_definition(db.session, round_id)
        export = exports.prepare(round_.id, round_.name, definition, format_)
        first = first_rows = None
        size = 0
        with open(os.devnull, "wb") as sink:
            for chunk in export.chunks(iter_responses(db.session, round_id, definition)):
                now = time.perf_counter() - begin
                if first is None:
                    first = now
                elif first_rows is None:
                    first_rows = now
                sink.write(chunk)
                size += len(chunk)
                peak = max(peak, rss_mb())
        total, cpu = time.perf_counter() - begin, time.process_time() - cpu
    rows_note = f"{first_rows * 1000:.0f} ms" if first_rows is not None else "-"
    print(
        f"{format_}: first chunk {first * 1000:.0f} ms, first responses {rows_note}, total {total:.2f} s (CPU {cpu:.2f} s), "
        f"{size / 2**20:.1f} MiB written, memory growth {peak - baseline:.1f} MiB (baseline {baseline:.0f} MiB)"
    )


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "generate":
        generate(int(args[0]), args[1])
    elif command == "measure":
        measure(args[0], args[1] if len(args) > 1 else "csv")
    else:
        raise SystemExit(__doc__)
