"""The one UTC helper: stored times come back aware and in UTC, whichever database gave them."""

from datetime import UTC, datetime, timedelta, timezone

from engagement.timestamps import as_utc


def test_as_utc_reads_naive_times_as_utc_and_converts_aware_ones():
    naive = datetime(2026, 11, 25, 13, 40)
    assert as_utc(naive) == naive.replace(tzinfo=UTC) and as_utc(naive).tzinfo is UTC
    paris = datetime(2026, 11, 25, 14, 40, tzinfo=timezone(timedelta(hours=1)))
    assert as_utc(paris) == naive.replace(tzinfo=UTC) and as_utc(paris).tzinfo is UTC
    assert as_utc(None) is None
