"""What analysts keep about a round: the codebook of themes and the themes ticked per comment (coding the open
answers), and the key findings as they edited them."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engagement.extensions import db
from engagement.models import utcnow

FIRST = "first"  # the analyst who codes every comment
SECOND = "second"  # a colleague coding a blind sample, for the agreement (kappa) in the methods annex
CODERS = (FIRST, SECOND)


class Theme(db.Model):
    """A theme of a free-text question's codebook, shared by every round of the same survey."""

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("survey_id", "question", "name", name="uq_theme_survey_question_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    question: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(Text, default="")  # one rule per line or comma: any language
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def keyword_list(self) -> list[str]:
        return [k.strip() for k in self.keywords.replace("\n", ",").split(",") if k.strip()]


class CommentCode(db.Model):
    """One theme ticked for one comment (a response's answer to a free-text question) by one coder."""

    __tablename__ = "comment_codes"
    __table_args__ = (UniqueConstraint("response_id", "question", "theme_id", "coder",
                                       name="uq_comment_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(100))
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"), index=True)
    coder: Mapped[str] = mapped_column(String(10), default=FIRST)


class CommentReview(db.Model):
    """A coder has saved their reading of a comment (even with no theme), and whether it may be quoted."""

    __tablename__ = "comment_reviews"
    __table_args__ = (UniqueConstraint("response_id", "question", "coder", name="uq_comment_review"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(100))
    coder: Mapped[str] = mapped_column(String(10), default=FIRST)
    quotable: Mapped[bool] = mapped_column(default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


FINDINGS_MAX_LENGTH = 4000  # about one page: the summary the Global Coordinating Group reads first


class KeyFindingsEdit(db.Model):
    """The key findings of a round as an analyst rewrote them, with a fingerprint of the figures they were read from."""

    __tablename__ = "key_findings_edits"
    __table_args__ = (UniqueConstraint("round_id", "language", "compare_round_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(Text)
    compare_round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"), nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # findings.findings_fingerprint when edited
    edited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)


def edited_findings(round_id: int, language: str, compare_id: int | None) -> KeyFindingsEdit | None:
    """The analysts' text for this round and language, when it was written against the same comparison round."""
    return db.session.scalar(db.select(KeyFindingsEdit).filter_by(round_id=round_id, language=language,
                                                                  compare_round_id=compare_id))
