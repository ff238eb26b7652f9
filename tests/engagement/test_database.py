"""One unit of work opens and commits write transactions: nested writes fail at once, work left in the session
outside a unit of work is never committed by someone else's, and nothing else in the application commits."""

import re
from pathlib import Path

import pytest

from engagement.database import NestedWrite, UncommittedWork, run_write, write_transaction
from engagement.extensions import db
from partners.models import Organisation

ROOT = Path(__file__).parents[2]


def org(name: str) -> Organisation:
    return Organisation(name=name, category="academia", region="global")


def organisations(app) -> list[str]:
    """The organisations as another connection sees them (what was committed)."""
    with app.app_context():
        return list(db.session.scalars(db.select(Organisation.name).order_by(Organisation.name)))


def test_a_write_transaction_commits_its_block_and_rolls_back_on_error(app):
    with app.app_context():
        with write_transaction():
            db.session.add(org("Kept"))
        with pytest.raises(ZeroDivisionError), write_transaction():
            db.session.add(org("Dropped"))
            db.session.flush()
            1 / 0  # noqa: B018
    assert organisations(app) == ["Kept"]


def test_a_nested_write_fails_at_once_and_nothing_of_it_is_kept(app):
    with app.app_context():
        with pytest.raises(NestedWrite, match="one unit of work"), write_transaction():
            db.session.add(org("Outer"))
            with write_transaction():
                db.session.add(org("Inner"))
        with pytest.raises(NestedWrite):
            run_write(lambda: run_write(lambda: None))
    assert organisations(app) == []


def test_a_core_unit_of_work_commits_on_its_own_connection_and_refuses_nesting(app):
    table = Organisation.__table__
    with app.app_context():
        with write_transaction(core=True) as connection:
            connection.execute(db.insert(table).values(name="Core", category="academia", region="global"))
        with pytest.raises(ZeroDivisionError), write_transaction(core=True) as connection:
            connection.execute(db.insert(table).values(name="Undone", category="academia", region="global"))
            1 / 0  # noqa: B018
        with pytest.raises(NestedWrite), write_transaction():
            db.session.add(org("Outer"))
            with write_transaction(core=True):
                pass
        with pytest.raises(NestedWrite), write_transaction(core=True), write_transaction():
            pass
        assert run_write(lambda connection: connection.execute(db.select(table.c.name)).scalar(), core=True) == "Core"
    assert organisations(app) == ["Core"]


@pytest.mark.parametrize("outside", ["orm", "core"])
def test_changes_made_outside_a_unit_of_work_are_refused_not_committed(app, outside):
    with app.app_context():
        with write_transaction():
            db.session.add(org("Existing"))
        if outside == "orm":
            db.session.add(org("Stray"))
        else:
            db.session.execute(db.update(Organisation).values(name="Renamed"))
        with pytest.raises(UncommittedWork), write_transaction():
            db.session.add(org("Wanted"))
        db.session.rollback()
    assert organisations(app) == ["Existing"]
    with app.app_context(), write_transaction():  # a clean session writes again
        db.session.add(org("Wanted"))
    assert organisations(app) == ["Existing", "Wanted"]


def test_a_read_before_a_write_does_not_block_it(app):
    """A request reads (a transaction begins), then writes: the read is ended and the write sees the latest data."""
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Organisation.id))) == 0
        assert db.session().in_transaction()
        run_write(lambda: db.session.add(org("After a read")))
    assert organisations(app) == ["After a read"]


def test_only_the_unit_of_work_commits():
    """No route, command or service calls session.commit() itself (tests may, to set up data)."""
    committing = []
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in ("tests", "benchmarks", "synthetic", "migrations", ".venv", "node_modules"):
            continue
        if relative == Path("engagement/database.py"):
            continue
        if re.search(r"session(\(\))?\.commit\(", path.read_text()):
            committing.append(str(relative))
    assert committing == []
