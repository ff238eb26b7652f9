"""The product app plus two baseline routes for benchmarks/speed.py; never imported by the product.

(z) GET /bench/hello: a bare Flask route returning a short string, through the same app, middleware and headers.
(y) POST /bench/insert: one raw INSERT through sqlite3 into the same database file, with the app's PRAGMAs.
"""

import sqlite3
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engagement.extensions import csrf
from wsgi import create_app

TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_insert (id INTEGER PRIMARY KEY, value TEXT NOT NULL, at REAL NOT NULL)"
)


def create_bench_app():
    app = create_app()
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if getattr(local, "connection", None) is None:
            local.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
                local.connection.execute(f"PRAGMA {pragma}")
        return local.connection

    @app.get("/bench/hello")
    def bench_hello():
        """(z): the cost of Flask and the app's middleware alone."""
        return "Hello, partner"

    @app.post("/bench/insert")
    @csrf.exempt
    def bench_insert():
        """(y): the cost of one committed SQLite write, without the ORM."""
        connection().execute("INSERT INTO bench_insert (value, at) VALUES (?, ?)", ("answer", time.time()))
        return "saved"

    return app


app = create_bench_app()
