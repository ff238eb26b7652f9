"""Coding the open answers in the database: the codebook of a question, a round's comments, what coders saved.

Writes are plain functions run by the caller inside one unit of work (engagement.database.run_write).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engagement.models import utcnow
from surveys.models import Answer, Invitation, Response, Round, SurveyVersion

from .coding import CODE_COLUMNS, DEMO_CODEBOOK, THEME_COLUMNS, CodingData, in_blind_sample, proposals
from .models import FIRST, SECOND, CommentCode, CommentReview, Theme


@dataclass
class Comment:
    """A respondent's answer to a free-text question, as a coder sees it."""

    response_id: int
    text: str
    language: str


def survey_of(session: Session, round_id: int) -> int:
    """The survey a round belongs to: its codebooks are shared by every round (and version) of that survey."""
    return session.scalar(select(SurveyVersion.survey_id).join(Round, Round.survey_version_id == SurveyVersion.id)
                          .where(Round.id == round_id))


def codebook(session: Session, survey_id: int, question: str) -> list[Theme]:
    return list(session.scalars(select(Theme).where(Theme.survey_id == survey_id, Theme.question == question)
                                .order_by(Theme.name)))


def theme_in_use(session: Session, theme_id: int) -> int:
    """How many comments (in any round) carry the theme."""
    return session.scalar(select(func.count(func.distinct(CommentCode.response_id)))
                          .where(CommentCode.theme_id == theme_id)) or 0


def comments(session: Session, round_id: int, question: str, coder: str = FIRST) -> list[Comment]:
    """The round's non-empty answers to the question, oldest response first; the second coder gets the sample."""
    rows = session.execute(
        select(Answer.response_id, Answer.value, Response.language)
        .join(Response, Response.id == Answer.response_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .where(Invitation.round_id == round_id, Answer.question == question, func.trim(Answer.value) != "")
        .order_by(Answer.response_id)).all()
    found = [Comment(r, v, lang) for r, v, lang in rows]
    if coder == SECOND:
        found = [c for c in found if in_blind_sample(c.response_id, question)]
    return found


def reviews(session: Session, response_ids: list[int], question: str, coder: str) -> dict[int, tuple[set, bool]]:
    """For each comment a coder saved: the themes ticked and whether it is quotable."""
    saved = {r.response_id: (set(), r.quotable) for r in session.scalars(
        select(CommentReview).where(CommentReview.response_id.in_(response_ids), CommentReview.question == question,
                                    CommentReview.coder == coder))}
    for response_id, theme_id in session.execute(
            select(CommentCode.response_id, CommentCode.theme_id).where(
                CommentCode.response_id.in_(response_ids), CommentCode.question == question,
                CommentCode.coder == coder)):
        saved.setdefault(response_id, (set(), False))[0].add(theme_id)
    return saved


def save_review(session: Session, response_id: int, question: str, theme_ids: set[int], quotable: bool,
                coder: str, user_id: int | None) -> None:
    """Replace a coder's themes for a comment and mark it saved (inside the caller's unit of work)."""
    session.execute(delete(CommentCode).where(CommentCode.response_id == response_id,
                                              CommentCode.question == question, CommentCode.coder == coder))
    session.add_all(CommentCode(response_id=response_id, question=question, theme_id=t, coder=coder)
                    for t in sorted(theme_ids))
    review = session.scalar(select(CommentReview).where(CommentReview.response_id == response_id,
                                                        CommentReview.question == question,
                                                        CommentReview.coder == coder))
    if review is None:
        review = CommentReview(response_id=response_id, question=question, coder=coder)
        session.add(review)
    review.quotable = quotable and coder == FIRST
    review.user_id = user_id
    review.updated_at = utcnow()


def coding_stamp(session: Session, round_id: int) -> tuple:
    """What changes when the themes of a round's report must change: codes saved, themes added, renamed, deleted."""
    saved = session.execute(select(func.max(CommentReview.updated_at), func.count(CommentReview.id))).one()
    codes = session.scalar(select(func.count(CommentCode.id)))
    themes = session.execute(select(Theme.id, Theme.name).where(Theme.survey_id == survey_of(session, round_id))
                             .order_by(Theme.id)).all()
    return (str(saved[0]), saved[1], codes, tuple(tuple(t) for t in themes))


def delete_theme(session: Session, theme: Theme, reassign_to: Theme | None) -> None:
    """Delete a theme; its comments move to ``reassign_to`` (kept once) or lose the theme."""
    if reassign_to is not None:
        codes = session.scalars(select(CommentCode).where(CommentCode.theme_id == theme.id)).all()
        for code in codes:
            exists = session.scalar(select(CommentCode.id).where(
                CommentCode.response_id == code.response_id, CommentCode.question == code.question,
                CommentCode.coder == code.coder, CommentCode.theme_id == reassign_to.id))
            if exists is None:
                session.add(CommentCode(response_id=code.response_id, question=code.question,
                                        theme_id=reassign_to.id, coder=code.coder))
    session.execute(delete(CommentCode).where(CommentCode.theme_id == theme.id))
    session.delete(theme)


def load_coding(session: Session, round_id: int) -> CodingData:
    """A round's codes as frames for the report and the exports."""
    survey_id = survey_of(session, round_id)
    round_ = session.get(Round, round_id)
    themes = pd.DataFrame(session.execute(select(Theme.id, Theme.question, Theme.name)
                                          .where(Theme.survey_id == survey_id).order_by(Theme.question, Theme.name))
                          .all(), columns=THEME_COLUMNS)
    in_round = select(Response.id).join(Invitation).where(Invitation.round_id == round_id)
    codes = session.execute(select(CommentCode.response_id, CommentCode.question, CommentCode.theme_id,
                                   CommentCode.coder).where(CommentCode.response_id.in_(in_round))).all()
    frame = pd.DataFrame(codes, columns=[*CODE_COLUMNS, "coder"])
    marks = session.execute(select(CommentReview.response_id, CommentReview.question, CommentReview.coder,
                                   CommentReview.quotable).where(CommentReview.response_id.in_(in_round))).all()
    return CodingData(
        themes=themes,
        codes=frame.loc[frame["coder"] == FIRST, CODE_COLUMNS].reset_index(drop=True),
        second_codes=frame.loc[frame["coder"] == SECOND, CODE_COLUMNS].reset_index(drop=True),
        quotable={(r, q) for r, q, c, quotable in marks if quotable and c == FIRST},
        reviewed={(r, q) for r, q, c, _quotable in marks if c == FIRST},
        second_reviewed={(r, q) for r, q, c, _quotable in marks if c == SECOND},
        round_open=round_ is not None and round_.status == "open",
    )


def seed_demo_codes(session: Session, round_id: int, limit: int | None = None) -> int:
    """For the demo: the default survey's codebook, and the keyword proposals confirmed for the round's comments
    (as an analyst would have done), the first two comments of each theme quotable; returns the comments coded.

    Runs inside the caller's unit of work. Questions the survey does not have are skipped.
    """
    survey_id = survey_of(session, round_id)
    coded = 0
    for question, entries in DEMO_CODEBOOK.items():
        found = comments(session, round_id, question)
        if not found:
            continue
        existing = {t.name: t for t in codebook(session, survey_id, question)}
        for name, description, keywords in entries:
            if name not in existing:
                existing[name] = Theme(survey_id=survey_id, question=question, name=name, description=description,
                                       keywords=keywords)
                session.add(existing[name])
        session.flush()
        rules = [(t.id, t.keyword_list()) for t in existing.values()]
        quotes: dict[int, int] = {}
        for comment in found[:limit]:
            themes = {theme_id for theme_id, _keyword in proposals(comment.text, rules)}
            if not themes:
                continue  # left for the analyst: the report counts it as not yet coded
            quotable = any(quotes.get(t, 0) < 2 for t in themes)
            for t in themes:
                quotes[t] = quotes.get(t, 0) + 1
            save_review(session, comment.response_id, question, themes, quotable, FIRST, None)
            coded += 1
    return coded


def theme_names(session: Session, round_id: int) -> dict[tuple[int, str], list[str]]:
    """The first coder's themes of each comment of a round, by name: what the exports write."""
    in_round = select(Response.id).join(Invitation).where(Invitation.round_id == round_id)
    found: dict[tuple[int, str], list[str]] = {}
    for response_id, question, name in session.execute(
            select(CommentCode.response_id, CommentCode.question, Theme.name)
            .join(Theme, Theme.id == CommentCode.theme_id)
            .where(CommentCode.response_id.in_(in_round), CommentCode.coder == FIRST)
            .order_by(CommentCode.response_id, CommentCode.question, Theme.name)):
        found.setdefault((response_id, question), []).append(name)
    return found
