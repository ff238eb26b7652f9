"""build_report: the whole collective analysis of a round, its sections in DOMAIN.md's order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from analysis.coding import CodingData
from analysis.frames import RoundData
from analysis.suppression import MIN_CELL

from .blocks import page_section
from .context import ReportContext
from .findings import key_findings
from .model import Filters, Report, Section, _, numbers_for, translation
from .repeats import repeats_section
from .sections import (
    annex_sections,
    change_section,
    fieldwork_section,
    free_text_section,
    funnel_section,
    heat_map_section,
    importance_section,
    nps_section,
    ranking_section,
    satisfaction_section,
    service_satisfaction_grids,
)
from .themes import agreement_block, theme_blocks

ENGAGEMENT_PAGE = "engagement"
ACTION_GROUP_PAGE = "action_groups"
PATHFINDER_PAGE = "pathfinder"
BARRIER_QUESTIONS = ("barriers", "channels", "contribute")


def build_report(
    data: RoundData,
    *,
    filters: Filters | None = None,
    threshold: int = MIN_CELL,
    previous: RoundData | None = None,
    language: str | None = None,
    group_labels: dict[str, dict[str, str]] | None = None,
    gettext: Callable[..., str] | None = None,
    survey_title: str | None = None,
    generated_at: datetime | None = None,
    coding: CodingData | None = None,
    locale: str | None = None,
) -> Report:
    """The whole collective analysis of a round, in DOMAIN.md's order, every published cell suppressed.

    ``locale`` is the language the words are written in (gettext's), whose decimal comma and "45 %" the numbers
    follow; it defaults to ``language``, the language of the survey's labels."""
    with translation(gettext):
        filters = filters or Filters()
        language = language or data.definition.default_language
        # Translators: the unit of a change in percentage points, after the number ("+12 pp").
        numbers = numbers_for(locale or language, _("pp"))
        b = ReportContext(data, filters, threshold, language, group_labels or {}, numbers)
        claimed: set[str] = set()
        sections: list[Section | None] = [fieldwork_section(b)]
        page_claims = {page.name: [q.name for q in page.questions() if q.answerable] for page in b.definition.pages}
        action_groups = page_claims.get(ACTION_GROUP_PAGE, [])
        pathfinder = page_claims.get(PATHFINDER_PAGE, [])
        claimed.update(action_groups, pathfinder)
        funnel = funnel_section(b, claimed)
        satisfaction_grids = service_satisfaction_grids(b, claimed)
        satisfaction = satisfaction_section(b, satisfaction_grids, claimed)
        importance = importance_section(b, claimed)
        ranking = ranking_section(b, claimed)
        heat = heat_map_section(b, satisfaction_grids)
        first_page = b.definition.pages[0].name if len(b.definition.pages) > 1 else None
        profile = page_section(b, "profile", _("Respondent profile"), page_claims.get(first_page, []), claimed,
                               intro=_("As the respondents described their organisations (the registry prefills "
                                       "these answers; partners may correct them)."))
        engagement = page_section(b, "engagement", _("Engagement: reasons, frequency, expectations and level"),
                                  page_claims.get(ENGAGEMENT_PAGE, []), claimed)
        ag = page_section(b, "action-groups", _("Action Group health"), action_groups, set(),
                          intro=_("Statements on the group each member is most active in, and the future members "
                                  "see for each group: this feeds the decision on closing inactive groups."))
        pf = page_section(b, "pathfinder", _("Pathfinder Country support and obstacles"), pathfinder, set())
        barriers = page_section(b, "barriers", _("Barriers, channels and willingness to contribute"),
                                [n for n in BARRIER_QUESTIONS if b.definition.question(n)], claimed)
        nps = nps_section(b, claimed)
        texts = free_text_section(b)
        top_themes = theme_blocks(b, texts, coding)
        claimed.update(b.items.free_text)
        others = page_section(b, "other-questions", _("Other questions"),
                              [q.name for q in b.definition.questions() if q.answerable], claimed)
        sections += [profile, engagement, funnel, satisfaction, importance, ranking, heat, ag, pf, barriers,
                     others, repeats_section(b), nps, texts]
        if previous is not None:
            sections.append(change_section(b, previous))
        annexes = annex_sections(b)
        kappa = agreement_block(coding, b.question_label)
        if kappa is not None:
            next(s for s in annexes if s.key == "methods").blocks.append(kappa)
        sections += annexes
        report = Report(
            round_id=data.round_id,
            round_name=data.name_in(language),
            survey_title=survey_title or b.definition.text(b.definition.title, language),
            filters=filters,
            threshold=threshold,
            language=language,
            respondents=b.n,
            previous_round=previous.name_in(language) if previous is not None else None,
            generated_at=generated_at or datetime.now(UTC),
            sections=[s for s in sections if s is not None],
            suppression=b.log,
            top_themes=top_themes,
            numbers=numbers,
        )
        for section in report.sections:
            for block in section.blocks:
                block.table.numbers = report.numbers
        report.findings = key_findings(report)
        return report
