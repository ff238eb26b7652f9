"""The one way to change the database: a unit of work per write transaction, on SQLite tuned for many partners.

Reads go through the session as usual (the ORM, or Core statements on the partner's hot path). Every write runs
inside `write_transaction()` (or `run_write()`, which retries it when the database is briefly busy): it takes
SQLite's write lock up front (BEGIN IMMEDIATE, after the writers' queue), commits once at the end and rolls back on
any error. A write opened inside another fails at once, and changes left in the session outside a unit of work are
refused rather than committed by someone else's transaction.
"""

import contextvars
import fcntl
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from functools import cache, lru_cache
from typing import TypeVar

from flask import g
from sqlalchemy import bindparam, event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from .extensions import db

T = TypeVar("T")
# How long a write waits for another writer's lock before the statement fails and run_write retries.
BUSY_TIMEOUT_MS = 10000
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)
_WRITING = "engagement.writing"  # session.info: a unit of work is open
_WROTE_OUTSIDE = "engagement.wrote_outside"  # session.info: something was written outside a unit of work
_CONNECTION = "engagement_connection"  # flask.g: the request's Core connection


class DatabaseBusy(RuntimeError):
    """The database stayed locked or unreachable after retries; the caller shows a "could not save" state."""


class NestedWrite(RuntimeError):
    """A write transaction was opened inside another one: run the whole change as one unit of work."""


class UncommittedWork(RuntimeError):
    """The session holds changes made outside a unit of work; a write transaction will not commit them."""


@event.listens_for(Engine, "connect")
def _configure_connection(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__.startswith("psycopg"):
        # Without a lock timeout a write stuck behind a lock would wait until gunicorn kills the worker.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {int(BUSY_TIMEOUT_MS)}")
        dbapi_connection.commit()
        return
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # SQLAlchemy's recipe: the driver issues no BEGIN of its own, the "begin" event below does (IMMEDIATE for writes).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a power cut may lose the last transactions, never corrupt the file (see README).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
    cursor.close()


@event.listens_for(Session, "after_begin")
def _begin_session(session, transaction, connection):
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        _begin_sqlite(connection)


def _begin_sqlite(connection) -> None:
    """SQLAlchemy's recipe for SQLite: the driver begins nothing, so an ORM session's transaction begins here (one
    snapshot for its reads) and a write's takes the lock up front. A deferred transaction that reads then writes
    gets SQLITE_BUSY at once when another writer went first; IMMEDIATE waits for the lock (busy_timeout) before
    reading anything. A Core connection outside a write (the partner's one-statement read) begins nothing: a
    listener on the engine would cost every statement of every partner request."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


@event.listens_for(Session, "before_flush")
def _note_flush_outside(session, flush_context, instances):
    if not session.info.get(_WRITING):
        session.info[_WROTE_OUTSIDE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement_outside(state):
    if (state.is_insert or state.is_update or state.is_delete) and not state.session.info.get(_WRITING):
        state.session.info[_WROTE_OUTSIDE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_outside_writes(session, transaction):
    if transaction.parent is None:
        session.info.pop(_WROTE_OUTSIDE, None)


class WriterQueue:
    """The writers of one SQLite file, on this machine, wait for their turn here rather than in SQLite.

    SQLite's busy handler polls for the write lock, sleeping up to 100 ms between tries, so under a rush a writer
    sleeps on long after the lock is free and later writers overtake it: that was the tail of the deadline-day
    latency. A thread lock queues the threads of a worker and an flock() on a file beside the database queues the
    workers; both wake the next writer as soon as the lock is released, and the kernel drops the flock of a killed
    worker. The file is opened for each turn (a forked worker never shares a lock with its parent). Writers from
    elsewhere (the sqlite3 shell, a backup) still meet SQLite's own busy timeout.
    """

    def __init__(self, database_path: str):
        self.path = database_path + "-writers.lock"
        self._threads = threading.RLock()
        self._depth = 0
        self._file: int | None = None  # the lock file's descriptor, open during a turn

    @contextmanager
    def turn(self):
        with self._threads:
            if self._depth == 0:
                self._file = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(self._file, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    os.close(self._file)  # which gives the turn back


def writer_queue(engine: Engine | None = None) -> WriterQueue | None:
    """The queue of the engine's SQLite file; None for PostgreSQL (row locks) and in-memory databases."""
    return _writer_queue_of((engine or db.engine).url)


@cache
def _writer_queue_of(url: URL) -> WriterQueue | None:
    """One queue per database file and process: engines on the same file share it."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:"):
        return WriterQueue(os.path.abspath(url.database))
    return None


def request_connection() -> Connection:
    """The request's Core connection (the partner's hot path): its read and its write share one checkout, and the
    write waits for its turn with the connection in hand. Returned to the pool when the app context ends."""
    connection = g.get(_CONNECTION)
    if connection is None:
        connection = db.engine.connect()
        setattr(g, _CONNECTION, connection)
    return connection


def close_request_connection(_error: BaseException | None = None) -> None:
    connection = g.pop(_CONNECTION, None)
    if connection is not None:
        connection.close()


@contextmanager
def write_transaction(core: bool = False):
    """Run a block as one write transaction: committed at its end, rolled back on any error.

    It yields the session, after ending a read transaction still open in it (it holds no writes: those are refused
    below), so the block sees the latest data under the write lock; with `core=True`, the request's Core connection
    (the partner's hot path: a few Core statements without the ORM's bookkeeping).
    """
    session = None if core else db.session()  # the Core path creates no ORM session
    if _write_intent.get() or (not core and session.info.get(_WRITING)):
        raise NestedWrite("A write transaction is already open here: make the whole change one unit of work "
                          "(waiting for a second one would wait for our own lock).")
    if not core and (session.new or session.dirty or session.deleted or session.info.get(_WROTE_OUTSIDE)):
        raise UncommittedWork("The session holds changes made outside a write transaction; make them inside "
                              "write_transaction() instead of relying on someone else's commit.")
    if not core and session.in_transaction():
        session.commit()
    connection = request_connection() if core else None
    if core and connection.in_transaction():
        connection.rollback()  # the request's read: it holds no writes either
    queue = writer_queue()
    with queue.turn() if queue is not None else nullcontext():
        token = _write_intent.set(True)
        try:
            if core:
                with connection.begin():
                    _begin_sqlite(connection)
                    yield connection
                return
            session.info[_WRITING] = True
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.info.pop(_WRITING, None)
        finally:
            _write_intent.reset(token)


def run_write(work: Callable[..., T], attempts: int = 4, core: bool = False) -> T:
    """Run work() in a write transaction (work(connection) with core=True), retrying when the database is briefly
    locked or the connection dropped."""
    delay = 0.05
    for attempt in range(1, attempts + 1):
        try:
            with write_transaction(core) as unit:
                return work(unit) if core else work()
        except (OperationalError, DBAPIError) as error:
            if not _is_transient(error) or attempt == attempts:
                if _is_transient(error):
                    raise DatabaseBusy(str(error.orig)) from error
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _is_transient(error: DBAPIError) -> bool:
    text = str(error.orig).lower() if error.orig is not None else str(error).lower()
    return error.connection_invalidated or any(
        s in text for s in ("database is locked", "database table is locked", "could not serialize",
                            "deadlock detected", "lock timeout", "server closed the connection", "connection refused",
                            "terminating connection")
    )


@lru_cache(maxsize=64)
def upsert_statement(model, dialect: str, columns: tuple, key: tuple, update: tuple):
    """INSERT ... ON CONFLICT (key) DO UPDATE, one statement on both SQLite and PostgreSQL."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(model).values({name: bindparam(name) for name in columns})
    return statement.on_conflict_do_update(
        index_elements=list(key), set_={name: getattr(statement.excluded, name) for name in update}
    )
