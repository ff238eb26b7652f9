"""Stored times read back as aware UTC datetimes, whichever database gave them (no Flask here)."""

from datetime import UTC, datetime


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime; None stays None (SQLite gives them back naive, in UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
