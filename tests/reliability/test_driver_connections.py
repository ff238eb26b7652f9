"""On SQLite, partner requests' driver transactions run on one DB-API connection per thread instead of a pool round
trip; each thread keeps its own, a nested transaction gets another, a failed one is rolled back and a broken one
replaced. On PostgreSQL they keep using the pool (which tests and replaces dropped connections)."""

import threading

import pytest

from engagement.database import DriverStatement, driver_transaction, run_write, sqlite_file
from engagement.extensions import db

_INSERT = DriverStatement(lambda dialect: db.text("INSERT INTO probe (id) VALUES (:id)"))
_COUNT = DriverStatement(lambda dialect: db.text("SELECT count(*) FROM probe"))


@pytest.fixture
def probe(app):
    with app.app_context():
        db.session.execute(db.text("CREATE TABLE probe (id INTEGER)"))
        db.session.commit()
        yield
        db.session.remove()


def _connection_of_a_transaction():
    with driver_transaction():
        _COUNT.rows({})
        return db.engine.dialect.name, _current_dbapi_connection()


def _current_dbapi_connection():
    from engagement.database import _driver_connection

    return _driver_connection.get()[0].dbapi_connection


def test_a_thread_keeps_its_connection_and_threads_do_not_share_one(app, probe):
    dialect, first = _connection_of_a_transaction()
    _dialect, second = _connection_of_a_transaction()
    other = []
    thread = threading.Thread(target=lambda: app.app_context().push() or other.append(_connection_of_a_transaction()))
    thread.start()
    thread.join(10)
    if dialect == "postgresql":
        assert sqlite_file(db.engine) is None
        assert db.engine.pool.checkedout() == 0  # each transaction gave its pooled connection back
        return
    assert second is first
    assert other[0][1] is not first


def test_a_nested_transaction_gets_its_own_connection_and_both_commit(app, probe):
    with driver_transaction():
        outer = _current_dbapi_connection()
        run_write(lambda: _INSERT.rowcount({"id": 1}), driver=True)
        with driver_transaction():
            assert _current_dbapi_connection() is not outer
    with driver_transaction():
        assert _COUNT.rows({}) == [(1,)]


def test_a_failed_write_is_rolled_back_and_the_connection_serves_the_next_one(app, probe):
    with pytest.raises(RuntimeError), driver_transaction(write=True):
        _INSERT.rowcount({"id": 1})
        raise RuntimeError("the request failed after its first statement")
    run_write(lambda: _INSERT.rowcount({"id": 2}), driver=True)
    with driver_transaction():
        assert _COUNT.rows({}) == [(1,)]


def test_a_broken_connection_is_replaced(app, probe):
    _dialect, first = _connection_of_a_transaction()
    state = sqlite_file(db.engine)
    if state is None:  # PostgreSQL: the pool's pre-ping, see test_connections_dropped_by_the_database_...
        return
    state.connection().invalidate()  # as _driver_call does when the driver reports a lost connection
    _dialect, second = _connection_of_a_transaction()
    assert second is not first
    run_write(lambda: _INSERT.rowcount({"id": 3}), driver=True)
    with driver_transaction():
        assert _COUNT.rows({}) == [(1,)]


def test_a_statement_read_alone_sees_each_commit_and_leaves_no_transaction_open(app, probe):
    run_write(lambda: _INSERT.rowcount({"id": 1}), driver=True)
    assert _COUNT.rows_alone({}) == [(1,)]
    state = sqlite_file(db.engine)
    if state is None:  # PostgreSQL: rows_alone is rows in a driver_transaction, which gives its connection back
        assert db.engine.pool.checkedout() == 0
        return
    own = state.connection().dbapi_connection
    assert not own.in_transaction  # no snapshot held: the next read, and other writers, see the file as it is now
    run_write(lambda: _INSERT.rowcount({"id": 2}), driver=True)
    assert _COUNT.rows_alone({}) == [(2,)]


def test_a_statement_read_alone_joins_the_sessions_open_transaction(app, probe):
    db.session.execute(db.text("INSERT INTO probe (id) VALUES (7)"))  # not committed
    assert _COUNT.rows_alone({}) == [(1,)]
    db.session.rollback()
    assert _COUNT.rows_alone({}) == [(0,)]
