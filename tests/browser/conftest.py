"""Every test here drives Chromium: `make test-fast` (-m "not browser") leaves them all out, even in a file that
forgets its `pytestmark`."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.browser)
