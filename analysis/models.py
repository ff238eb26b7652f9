"""What analysts keep about a round's report: the key findings as they edited them, per language."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engagement.extensions import db
from engagement.models import utcnow

FINDINGS_MAX_LENGTH = 4000  # about one page: the summary the Global Coordinating Group reads first


class KeyFindingsEdit(db.Model):
    """The key findings of a round as an analyst rewrote them, with a fingerprint of the figures they were read from."""

    __tablename__ = "key_findings_edits"
    __table_args__ = (UniqueConstraint("round_id", "language", "compare_round_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(Text)
    compare_round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"), nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # findings.findings_fingerprint when edited
    edited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    edited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def edited_findings(round_id: int, language: str, compare_id: int | None) -> KeyFindingsEdit | None:
    """The analysts' text for this round and language, when it was written against the same comparison round."""
    return db.session.scalar(db.select(KeyFindingsEdit).filter_by(round_id=round_id, language=language,
                                                                  compare_round_id=compare_id))
