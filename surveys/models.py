"""Surveys and their versions, rounds, invitations, responses and answers."""

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engagement.extensions import db
from engagement.models import utcnow
from partners.models import Contact


class Survey(db.Model):
    """A questionnaire known by its XLSForm form_id; each import of the same form_id adds a version."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list["SurveyVersion"]] = relationship(
        back_populates="survey", order_by="SurveyVersion.number"
    )


class SurveyVersion(db.Model):
    """One imported definition, kept as the normalised XLSForm sheets so it can be rebuilt exactly."""

    __tablename__ = "survey_versions"
    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    number: Mapped[int]
    form_version: Mapped[str] = mapped_column(String(100), default="")
    source_name: Mapped[str] = mapped_column(String(300), default="")
    sheets: Mapped[dict] = mapped_column(JSON)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    survey: Mapped[Survey] = relationship(back_populates="versions")


class Round(db.Model):
    """One version of a survey opened to a set of partners for a period."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft, open, closed
    opens_on: Mapped[date | None]
    closes_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The filter the round was opened with (category, region, pathfinder, action_group), for inviting late partners.
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    # The round's name in other languages, {"fr": ..., "es": ...}: partners read it in their own.
    translated_names: Mapped[dict] = mapped_column(JSON, default=dict)

    survey_version: Mapped[SurveyVersion] = relationship()
    invitations: Mapped[list["Invitation"]] = relationship(back_populates="round")

    def name_in(self, language: str) -> str:
        return (self.translated_names or {}).get(language) or self.name


class Invitation(db.Model):
    """One contact's personal link to a round; the link's token is derived from SECRET_KEY and stored hashed."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("round_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    salt: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ineligible: Mapped[str | None] = mapped_column(String(40), nullable=True)  # duplicate, left, bounced
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    invited_at: Mapped[datetime | None]
    last_reminded_at: Mapped[datetime | None]
    reminder_count: Mapped[int] = mapped_column(default=0)

    round: Mapped[Round] = relationship(back_populates="invitations")
    contact: Mapped[Contact] = relationship()
    response: Mapped["Response | None"] = relationship(back_populates="invitation", uselist=False)


class Response(db.Model):
    """A partner's answers to one invitation, in progress or submitted."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="in_progress")  # in_progress, submitted
    language: Mapped[str] = mapped_column(String(2), default="en")
    current_page: Mapped[str] = mapped_column(String(100), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)

    invitation: Mapped[Invitation] = relationship(back_populates="response")
    answers: Mapped[list["Answer"]] = relationship(back_populates="response", order_by="Answer.id")


class Answer(db.Model):
    """One answer: one row per response and question, written by an upsert so a replayed save is harmless.

    Values are text as XLSForm writes them: select_multiple and rank as space-separated codes (rank in order).
    """

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question", name="uq_answer_response_question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    response: Mapped[Response] = relationship(back_populates="answers")


class Preview(db.Model):
    """A survey tried as a kind of partner: by the Secretariat itself, or by a colleague it sent a test link to.

    Its answers live here, as one JSON object, never with real responses: nothing of a preview is counted,
    analysed or exported. Its link works like an invitation's (`/s/<token>`, only the token's hash stored).
    """

    __tablename__ = "previews"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    sent_to: Mapped[str | None] = mapped_column(String(254), nullable=True)  # a colleague's address (test link)
    salt: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(2), default="en")
    partner: Mapped[dict] = mapped_column(JSON, default=dict)  # the partner_* attributes the form may read
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="in_progress")
    current_page: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]

    survey_version: Mapped[SurveyVersion] = relationship()
    round: Mapped[Round | None] = relationship()


class MailText(db.Model):
    """A round's own wording of its invitation or reminder in one language; without one, the default texts go."""

    __tablename__ = "round_mail_texts"
    __table_args__ = (UniqueConstraint("round_id", "kind", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # invitation, reminder
    language: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class ScheduledReminder(db.Model):
    """A date on which `flask rounds remind-due` reminds those who have not submitted; claimed once, then sent."""

    __tablename__ = "round_reminders"
    __table_args__ = (UniqueConstraint("round_id", "send_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    send_on: Mapped[date]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    sent: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
class UploadedFile(db.Model):
    """A file a partner uploaded to answer a question: its bytes live in the store (engagement.storage) under a
    random key; the answer itself holds the file's name as the partner gave it."""

    __tablename__ = "uploaded_files"
    __table_args__ = (UniqueConstraint("response_id", "question", name="uq_uploaded_file_response_question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(100))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    response: Mapped[Response] = relationship()
