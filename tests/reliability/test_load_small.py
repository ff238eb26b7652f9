"""The load test in small (20 partners, 2 gunicorn workers) on the database the suite runs on: nothing acknowledged
is lost or doubled, every submission counts once, no 5xx reaches a partner, also with a worker SIGKILLed part-way
(that run's survey ends with a calculation, an image upload, a cascade and a repeat whose entries are added and
autosaved, checked too)."""

import os

import pytest

from benchmarks.load import run_load

DATABASE = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"


def _check(report):
    assert report.ok, "\n".join(report.lines())
    assert report.submitted == report.partners
    assert report.checked_answers > report.partners * 20
    assert report.races > 0, "no two-tab race happened: the run proves less than it claims"


@pytest.mark.slow
def test_small_load_keeps_every_acknowledged_answer(tmp_path):
    report = run_load(partners=20, workers=2, database=DATABASE, time_limit=240, workdir=tmp_path, seed=5)
    _check(report)
    assert report.statuses.get(503, 0) == 0 and report.statuses.get(500, 0) == 0


@pytest.mark.slow
def test_small_load_survives_a_killed_worker(tmp_path):
    report = run_load(
        partners=20, workers=2, database=DATABASE, kill_worker=True, time_limit=240, workdir=tmp_path, seed=6,
        capture=True,
    )
    _check(report)
    # A calculation and an upload survive like any other answer: every submitted total equals what it reads, every
    # uploaded file has one record, of the name the answer holds, with its bytes in the store.
    assert report.uploads_checked > report.partners // 2 and report.calculations_checked == report.partners
    # A cascade and a repeat too: every district is one of its country's; every response holds each entry its
    # partner was told was added, once, with the last answer acknowledged for it (an entry added again by a retried
    # add is counted, and only such an entry may be extra).
    assert report.cascades_checked > report.partners // 2
    assert report.entries_checked >= report.partners
    assert report.killed_pid is not None
    assert report.acknowledged_before_kill > 0
    assert report.workers_after == 2
