"""The one formula neutraliser: every file a spreadsheet opens is written through it, and read back exactly."""

import pytest

from engagement.spreadsheets import neutralise, unneutralise


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+33 1 23", "'+33 1 23"),
        ("-x", "'-x"),
        ("@me", "'@me"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("Ministry", "Ministry"),
        ("'=x", "''=x"),
        ("'plain", "'plain"),
        ("''-1", "'''-1"),
        ("", ""),
        (None, None),
        (5, 5),
        ("a=b", "a=b"),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected
    if isinstance(value, str):
        assert unneutralise(neutralise(value)) == value
