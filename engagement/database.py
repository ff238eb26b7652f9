"""SQLite tuned for many partners saving at once, and write transactions that take the lock up front."""

import contextvars
import fcntl
import os
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from typing import TypeVar

from sqlalchemy import bindparam, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from .extensions import db

T = TypeVar("T")
# How long a write waits for another writer's lock before the statement fails and run_write retries.
BUSY_TIMEOUT_MS = 10000
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


class DatabaseBusy(RuntimeError):
    """The database stayed locked or unreachable after retries; the caller shows a "could not save" state."""


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__.startswith("psycopg"):
        # Without a lock timeout a write stuck behind a lock would wait until gunicorn kills the worker.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {int(BUSY_TIMEOUT_MS)}")
        dbapi_connection.commit()
        return
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # Let SQLAlchemy's "begin" event below issue BEGIN itself, so a write can ask for BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a power cut may lose the last transactions, never corrupt the file (see README).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(conn):
    if conn.dialect.name != "sqlite":
        return
    # A deferred transaction that reads then writes gets SQLITE_BUSY at once when another writer went first;
    # IMMEDIATE waits for the lock (busy_timeout) before reading anything. Sent on the DB-API connection (every
    # partner request begins one or two transactions), so its errors are wrapped here as SQLAlchemy would.
    statement = "BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN"
    raw = conn.connection
    _driver_call(conn.dialect, raw, lambda: raw.dbapi_connection.execute(statement), statement,
                 invalidate=conn.invalidate)


def _is_transient(error: DBAPIError) -> bool:
    text = str(error.orig).lower() if error.orig is not None else str(error).lower()
    return error.connection_invalidated or any(
        s in text for s in ("database is locked", "database table is locked", "could not serialize",
                            "deadlock detected", "lock timeout", "server closed the connection", "connection refused",
                            "terminating connection")
    )


def _forked() -> None:
    global _process
    _process += 1


# Which process this is, counted up in a forked child: what a connection or a lock file opened before a fork must
# not be used by (gunicorn loads the app, then forks its workers). Cheaper than os.getpid(), a system call, which
# every partner request would make twice.
_process = 0
os.register_at_fork(after_in_child=_forked)


class WriterQueue:
    """The writers of one SQLite file, on this machine, wait for their turn here rather than in SQLite.

    SQLite's busy handler polls for the write lock, sleeping 1, 2, 5, 10 ... up to 100 ms between tries, so under a
    rush a writer sleeps on long after the lock is free and later writers overtake it: that is the tail of the
    deadline-day latency. Here a thread lock queues the threads of a worker and an flock() on a file beside the
    database queues the workers; both wake the next writer as soon as the lock is released, and the kernel drops
    the flock of a killed worker. Writers from elsewhere (the sqlite3 shell, a backup) still meet SQLite's own
    busy timeout.
    """

    def __init__(self, database_path: str):
        self.path = database_path + "-writers.lock"
        self._threads = threading.RLock()
        self._depth = 0
        self._file = None
        self._process = None

    @contextmanager
    def turn(self):
        with self._threads:
            if self._depth == 0:
                fcntl.flock(self._lock_file(), fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._file, fcntl.LOCK_UN)

    def _lock_file(self):
        if self._process != _process:  # a forked worker opens its own file description (flock is per description)
            self._file = open(self.path, "a+b")  # noqa: SIM115 (kept open for the life of the process)
            self._process = _process
        return self._file


_writer_queues: dict[str, WriterQueue] = {}
_writer_queues_lock = threading.Lock()


class SQLiteFile:
    """What the partner fast path keeps per SQLite file: its writers' queue and one DB-API connection per thread.

    A `driver_transaction` took a connection from SQLAlchemy's pool and gave it back (reset, events, queue locks):
    that cost as much as the statements of an autosave. A gthread worker's threads live as long as the worker, so
    each keeps its own connection, configured by the engine's connect event and detached from the pool.
    """

    def __init__(self, engine: Engine, path: str):
        self.engine = weakref.proxy(engine)  # the file state must not keep a disposed app's engine alive
        with _writer_queues_lock:
            self.queue = _writer_queues.setdefault(path, WriterQueue(path))
        self._threads = threading.local()

    def connection(self):
        """This thread's connection (a new one after a fork or once it was found broken)."""
        threads = self._threads
        raw = getattr(threads, "raw", None)
        if raw is None or threads.process != _process or not raw.is_valid:
            raw = self.engine.raw_connection()
            raw.detach()
            threads.raw, threads.process = raw, _process
        return raw


_sqlite_files: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def sqlite_file(engine: Engine) -> SQLiteFile | None:
    """The engine's SQLite file state; None for PostgreSQL (row locks, a pool that replaces dropped connections)
    and for in-memory databases (one shared connection)."""
    try:
        return _sqlite_files[engine]
    except KeyError:
        pass
    url = engine.url
    state = None
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:"):
        state = SQLiteFile(engine, os.path.abspath(url.database))
    return _sqlite_files.setdefault(engine, state)


def writer_queue() -> WriterQueue | None:
    """The queue of the app's SQLite file; None for PostgreSQL and in-memory databases."""
    state = sqlite_file(db.engine)
    return state.queue if state is not None else None


@contextmanager
def write_transaction():
    """Run a block as one write transaction that holds SQLite's write lock from its first statement."""
    if db.session().in_transaction():
        db.session.commit()
    queue = writer_queue()
    with queue.turn() if queue is not None else nullcontext():
        token = _write_intent.set(True)
        try:
            yield db.session
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        finally:
            _write_intent.reset(token)


def run_write(work: Callable[[], T], attempts: int = 4, driver: bool = False) -> T:
    """Run work() in a write transaction, retrying when the database is briefly locked or the connection dropped.

    With `driver`, work made only of DriverStatements runs in a `driver_transaction` instead of the session's.
    """
    delay = 0.05
    for attempt in range(1, attempts + 1):
        try:
            with driver_transaction(write=True) if driver else write_transaction():
                return work()
        except (OperationalError, DBAPIError) as error:
            if not _is_transient(error) or attempt == attempts:
                if _is_transient(error):
                    raise DatabaseBusy(str(error.orig)) from error
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


# The connection of the driver transaction (or single read) running in this context, with its dialect.
_driver_connection: contextvars.ContextVar = contextvars.ContextVar("driver_connection", default=None)


def _session_in_transaction() -> bool:
    """Whether this request's ORM session has a transaction open (without creating the session to ask)."""
    return db.session.registry.has() and db.session().in_transaction()


@contextmanager
def driver_transaction(write: bool = False):
    """A transaction of DriverStatements on a DB-API connection (see SQLiteFile), without the ORM session.

    Every partner request reads its link and answers, and every autosave writes an answer: the session's own
    transaction (its snapshot, identity map, connection objects) cost more than the statements. A read joins the
    session's transaction when one is open (it may hold writes not committed yet); a write commits it first and,
    on SQLite, takes the writers' queue and BEGIN IMMEDIATE like `write_transaction`.
    """
    session_open = _session_in_transaction()
    if session_open and not write:
        yield
        return
    if session_open:
        db.session.commit()
    engine = db.engine
    dialect = engine.dialect
    state = sqlite_file(engine)
    queue = state.queue if write and state is not None else None
    # This thread's own connection, unless it is already in a driver transaction (then a pooled one, as for
    # PostgreSQL): taken before the writers' queue and kept after it, so the lock is held for the statements alone
    # (a holder that needs the GIL between statements waits for the other threads of its worker).
    own = state is not None and _driver_connection.get() is None
    raw = state.connection() if own else engine.raw_connection()
    try:
        with queue.turn() if queue is not None else nullcontext():
            try:
                if dialect.name == "sqlite":
                    _driver_call(dialect, raw, lambda: raw.dbapi_connection.execute(
                        "BEGIN IMMEDIATE" if write else "BEGIN"))
                token = _driver_connection.set((raw, dialect))
                try:
                    yield
                finally:
                    _driver_connection.reset(token)
                _driver_call(dialect, raw, raw.commit)
            except BaseException:
                if raw.is_valid:
                    raw.rollback()
                raise
    finally:
        if not own:
            raw.close()


def _driver_call(dialect, raw, call, statement: str = "", cursor=None, invalidate=None):
    """Run a DB-API call, its errors wrapped as SQLAlchemy's (so `run_write` knows a locked database or a
    dropped connection), a connection found dropped invalidated so the pool replaces it (through the session's
    Connection, `invalidate`, when the call ran on it)."""
    try:
        return call()
    except dialect.loaded_dbapi.Error as error:
        disconnected = dialect.is_disconnect(error, raw.dbapi_connection, cursor)
        if disconnected:
            (invalidate or raw.invalidate)(error)
        raise DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error, hide_parameters=True,
                                  connection_invalidated=disconnected) from error


_REQUIRED = object()  # a bind the caller must give a value for


class DriverStatement:
    """A Core statement compiled once per dialect and run on a DB-API cursor: the `driver_transaction`'s, else the
    session's connection's (in its transaction, so `write_transaction` and its BEGIN IMMEDIATE apply).

    For the few statements every partner request runs (the link look-up, the answers, an autosave's writes):
    SQLAlchemy's work per execution (cache key, parameter and result objects, events) cost several times SQLite's
    own. Same SQL, with the same type conversions (the columns' own bind and result processors) and the same errors
    (wrapped as SQLAlchemy's, so `run_write` retries a locked database or a dropped connection).
    """

    def __init__(self, build: Callable):
        self._build = build  # build(dialect_name) -> statement, called once per dialect
        self._compiled: dict[str, tuple] = {}

    def _for(self, dialect) -> tuple:
        """The SQL, how to build its parameters (each bind's name, its value in the statement if it has one, and
        its type's bind processor), whether they are positional, and the result processors."""
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            statement = self._build(dialect.name)
            sql = statement.compile(dialect=dialect)
            names = sql.positiontup if sql.positional else list(sql.binds)
            binds = tuple((name, _REQUIRED if sql.binds[name].required else sql.binds[name].value,
                           sql.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names)
            columns = getattr(statement, "selected_columns", None) or []
            results = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns]
            compiled = self._compiled[dialect.name] = (
                sql.string, binds, sql.positional, results if any(results) else None)
        return compiled

    def _run(self, parameters: dict):
        """Run the statement; the DB-API cursor (for its rows or rowcount) and the result processors."""
        current, invalidate = _driver_connection.get(), None
        if current is None:
            connection = _session_connection()
            dialect, raw, invalidate = connection.dialect, connection.connection, connection.invalidate
        else:
            raw, dialect = current
        text, binds, positional, results = self._for(dialect)
        values = []
        for name, default, process in binds:
            value = parameters.get(name, default)
            if value is _REQUIRED:
                raise KeyError(f"{name} is missing from the parameters of {text!r}")
            values.append(value if process is None else process(value))
        if not positional:
            values = dict(zip((name for name, _default, _process in binds), values, strict=True))
        # The connection's execute (sqlite3 and psycopg both have one) makes the cursor without the pool's wrapper.
        cursor = _driver_call(dialect, raw, lambda: raw.dbapi_connection.execute(text, values), text, None, invalidate)
        return cursor, results

    def rows(self, parameters: dict) -> list[tuple]:
        """The rows of a SELECT, each column converted as SQLAlchemy would."""
        cursor, results = self._run(parameters)
        rows = cursor.fetchall()
        cursor.close()
        if results is None:
            return rows
        return [tuple(value if process is None else process(value) for process, value in zip(results, row,
                                                                                              strict=True))
                for row in rows]

    def rows_alone(self, parameters: dict) -> list[tuple]:
        """The rows of this statement read on its own, outside any transaction of the caller's: one statement is
        one snapshot, so on SQLite it runs on the thread's connection in autocommit, without the BEGIN and COMMIT
        of a `driver_transaction` (a sixth of a partner request's database time). Elsewhere (PostgreSQL, in-memory,
        or when a transaction is open) it runs as `rows` in a `driver_transaction`."""
        if _driver_connection.get() is None and not _session_in_transaction():
            engine = db.engine
            state = sqlite_file(engine)
            if state is not None:
                token = _driver_connection.set((state.connection(), engine.dialect))
                try:
                    return self.rows(parameters)
                finally:
                    _driver_connection.reset(token)
        with driver_transaction():
            return self.rows(parameters)

    def rowcount(self, parameters: dict) -> int:
        cursor = self._run(parameters)[0]
        count = cursor.rowcount
        cursor.close()
        return count


def _session_connection():
    """The session's connection in its current transaction, looked up once per transaction rather than per
    statement (the look-up cost more than a statement)."""
    session = db.session()
    transaction = session.get_transaction()
    known = session.info.get("driver_connection")
    if transaction is not None and known is not None and known[0] is transaction:
        return known[1]
    connection = session.connection()
    session.info["driver_connection"] = (session.get_transaction(), connection)
    return connection


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
