"""Writers of one SQLite file take turns in the writer queue (threads of a worker, and workers of a machine) instead
of polling in SQLite's busy handler; a killed worker's turn is given back by the kernel."""

import subprocess
import sys
import threading
import time

import pytest

from engagement.database import WriterQueue, write_transaction, writer_queue
from engagement.extensions import db


def _enters_within(queue: WriterQueue, seconds: float) -> tuple[threading.Event, threading.Event]:
    """Start a thread that takes a turn and holds it until released; returns (entered, release)."""
    entered, release = threading.Event(), threading.Event()

    def take_turn():
        with queue.turn():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=take_turn, daemon=True)
    thread.start()
    _holders.append(thread)
    entered.wait(seconds)
    return entered, release


_holders: list[threading.Thread] = []  # threads that took turns, joined at the end of each test


@pytest.fixture
def queue(tmp_path):
    yield WriterQueue(str(tmp_path / "app.sqlite"))
    while _holders:
        _holders.pop().join(10)


def test_threads_of_one_worker_write_one_at_a_time(queue):
    first, release_first = _enters_within(queue, 5)
    assert first.is_set()
    second, release_second = _enters_within(queue, 0.3)
    assert not second.is_set(), "a second writer got a turn while the first held it"
    release_first.set()
    assert second.wait(5), "the second writer was not woken when the first finished"
    release_second.set()


def test_a_turn_can_be_nested_in_the_same_thread(queue):
    with queue.turn(), queue.turn():
        pass
    entered, release = _enters_within(queue, 5)  # and the turn was fully given back
    assert entered.is_set()
    release.set()


HOLDER = """
import fcntl, sys, time
lock = open(sys.argv[1], "a+b")
fcntl.flock(lock, fcntl.LOCK_EX)
print("holding", flush=True)
time.sleep(60)
"""


def test_workers_queue_across_processes_and_a_killed_worker_gives_its_turn_back(queue):
    with subprocess.Popen([sys.executable, "-c", HOLDER, queue.path], stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout.readline().strip() == "holding"
            entered, release = _enters_within(queue, 0.3)
            assert not entered.is_set(), "a writer got a turn while another process held it"
            holder.kill()  # SIGKILL: no clean-up code runs in the holder
            assert entered.wait(5), "the turn of a killed process was not given back"
            release.set()
        finally:
            holder.kill()


def test_the_app_queues_writes_to_its_sqlite_file_only(app):
    with app.app_context():
        queue = writer_queue()
        if db.engine.dialect.name == "postgresql":
            assert queue is None  # row locks there, and no file beside the database
            return
        assert queue.path == db.engine.url.database + "-writers.lock"
        entered, release = _enters_within(queue, 5)
        assert entered.is_set()
        done = threading.Event()

        def write():
            with app.app_context(), write_transaction():
                db.session.execute(db.text("CREATE TABLE IF NOT EXISTS queued (id INTEGER)"))
            done.set()

        threading.Thread(target=write, daemon=True).start()
        time.sleep(0.3)
        assert not done.is_set(), "write_transaction did not wait for its turn"
        release.set()
        assert done.wait(10)
