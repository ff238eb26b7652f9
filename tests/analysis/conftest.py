"""Fixtures shared by the analysis tests: a report cache emptied around each test, and the demo's two rounds."""

import pytest

from analysis import routes as analysis_routes
from surveys.demo import load_demo, load_demo_history


@pytest.fixture(autouse=True)
def fresh_cache():
    analysis_routes._report_cache.clear()
    yield
    analysis_routes._report_cache.clear()


@pytest.fixture
def rounds(app):
    """This year's demo round and last year's, as `flask demo` leaves them."""
    with app.app_context():
        round_, _invitations = load_demo()
        last = load_demo_history(round_)
        return round_.id, last.id
