"""Rate-limit counters in a SQLite file, shared by every gunicorn worker of one machine, for when there is no Redis.

Flask-Limiter's memory storage counts per process: with 4 workers a limit of 5 would let 20 attempts through. Redis
(`RATELIMIT_STORAGE_URI=redis://...`) is the choice for several servers; this storage (`sqlitefile:///path`) is
the default for one machine, so a newcomer's `make demo` is right without installing anything. Only the fixed-window
strategy (Flask-Limiter's default) is supported. The file is separate from the application database so a rate-limit
write never waits on, or holds, the lock that partners' answers need.
"""

import os
import sqlite3
import threading
import time

from limits.storage import Storage

_SCHEMA = "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL)"


class SQLiteFileStorage(Storage):
    """A limits storage over one SQLite file: `sqlitefile:///absolute/path/rate-limits.sqlite`."""

    STORAGE_SCHEME = "sqlitefile"

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self.path = (uri or "").removeprefix("sqlitefile://") or ":memory:"
        self._local = threading.local()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        """One connection per process and thread: a connection opened before gunicorn forks must not be shared."""
        connection = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            directory = os.path.dirname(self.path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(_SCHEMA)
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count a hit atomically across processes (BEGIN IMMEDIATE takes the write lock before reading)."""
        connection = self._connection()
        now = time.time()
        connection.execute("BEGIN IMMEDIATE")
        try:
            row = connection.execute("SELECT count, expires_at FROM counters WHERE key = ?", (key,)).fetchone()
            if row is None or row[1] <= now:
                count, expires_at = amount, now + expiry
            else:
                count, expires_at = row[0] + amount, row[1]
            connection.execute("INSERT OR REPLACE INTO counters (key, count, expires_at) VALUES (?, ?, ?)",
                               (key, count, expires_at))
            connection.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return count

    def get(self, key: str) -> int:
        row = self._connection().execute(
            "SELECT count FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._connection().execute(
            "SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())).fetchone()
        return row[0] if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        count = self._connection().execute("DELETE FROM counters").rowcount
        return count

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))
