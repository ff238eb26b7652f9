"""Fixtures shared by the analysis tests: a report cache emptied around each test, and the demo's two rounds."""

import pytest

from analysis import routes as analysis_routes
from surveys.demo import load_demo, load_demo_history
from tests.conftest import saved_database


@pytest.fixture(autouse=True)
def fresh_cache():
    analysis_routes._report_cache.clear()
    yield
    analysis_routes._report_cache.clear()


@pytest.fixture
def rounds(app):
    """This year's demo round and last year's, as `flask demo` leaves them."""
    def build():
        round_, _invitations = load_demo()
        return round_.id, load_demo_history(round_).id

    return saved_database(app, "demo-with-history", build)
