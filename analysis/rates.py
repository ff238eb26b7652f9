"""Who answered a round: response rates (completion, inclusive, organisational), which responses in progress count
as partial, and the 1/k weights that count every organisation once (DOMAIN.md, "The collective analysis").

``invitations`` and ``answers`` are the frames of analysis.frames.RoundData; ``by`` is None, a column name or a
list of them (the group columns come first in the output).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.items import discover_items
from surveys.definition import SurveyDefinition

By = str | Sequence[str] | None


def group_columns(by: By) -> list[str]:
    """The group columns a ``by`` argument names, as a list."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def organisation_weights(respondents: pd.DataFrame) -> pd.Series:
    """1/k per response, k the number of respondents from the same organisation (1 without an organisation)."""
    k = respondents.groupby("organisation_id")["response_id"].transform("size").fillna(1)
    return pd.Series(1.0 / k.to_numpy(), index=respondents["response_id"].to_numpy(), name="weight")


def partial_responses(
    answers: pd.DataFrame,
    definition: SurveyDefinition,
    *,
    profile_page: str | None = None,
    items: Sequence[str] | None = None,
    share: float = 0.5,
) -> pd.Series:
    """Which responses count as partial: answered the profile and at least ``share`` of the items shown to them.

    The profile is the first page (or ``profile_page``); answering it means at least one answer on it. The items are
    ``items`` if given, else the questions of the grids on the services page (the first page whose name contains
    "service" and holds a grid, as in the default survey), else every Likert item of the survey. An item counts as
    shown when it has no relevance condition of its own or of an enclosing group, or when it was answered: the
    answers cannot tell a conditional item that was skipped from one that was hidden. A response with no item shown
    is not partial. Returns a boolean Series indexed by response_id over every response in ``answers``; apply it
    to in-progress responses (``response_rates`` does).
    """
    page = definition.page(profile_page) if profile_page else definition.pages[0]
    profile = {q.name for q in page.questions() if q.answerable}
    names = list(items) if items is not None else _service_items(definition)
    conditional = {
        n
        for n in names
        if (q := definition.question(n)) is not None and (q.relevant is not None or q.conditions)
    }
    asked = answers[answers["question"].isin([*profile, *names])]
    answered = asked[asked["value"].fillna("") != ""]
    ids = pd.Index(answers["response_id"].unique())
    has_profile = ids.isin(answered.loc[answered["question"].isin(list(profile)), "response_id"])
    on_items = answered[answered["question"].isin(names)]
    n_answered = on_items.groupby("response_id").size().reindex(ids, fill_value=0)
    n_conditional = (
        on_items[on_items["question"].isin(list(conditional))]
        .groupby("response_id")
        .size()
        .reindex(ids, fill_value=0)
    )
    shown = len(names) - len(conditional) + n_conditional
    partial = has_profile & (shown > 0) & (n_answered >= share * shown)
    return pd.Series(partial.to_numpy(), index=ids, name="partial")


def _service_items(definition: SurveyDefinition) -> list[str]:
    for page in definition.pages:
        names = [q.name for q in page.questions() if q.grid and q.answerable]
        if "service" in page.name.lower() and names:
            return names
    return discover_items(definition).likert_names()


def response_rates(invitations: pd.DataFrame, partial=None, by: By = None) -> pd.DataFrame:
    """Completion, inclusive and organisational response rates, overall or per group of ``by``.

    Eligible = invited - ineligible. Complete = submitted (on an eligible invitation); partial = in progress and
    marked partial (``partial``: a boolean Series by response_id, as ``partial_responses`` returns, or a collection of
    response ids). completion_rate = complete / eligible; inclusive_rate = (complete + partial) / eligible;
    organisational_rate = organisations with at least one complete / organisations invited.
    """
    keys = group_columns(by)
    if isinstance(partial, pd.Series):
        partial_ids = partial.index[partial.eq(True)]
    else:
        partial_ids = list(partial or [])
    ineligible = invitations["ineligible"].fillna("").astype(str) != ""
    status = invitations["response_status"]
    complete = ~ineligible & (status == "submitted")
    frame = pd.DataFrame(
        {
            "invited": 1,
            "ineligible": ineligible.astype(int),
            "eligible": (~ineligible).astype(int),
            "started": (~ineligible & status.notna()).astype(int),
            "complete": complete.astype(int),
            "partial": (
                ~ineligible & (status == "in_progress") & invitations["response_id"].isin(list(partial_ids))
            ).astype(int),
            "organisation_id": invitations["organisation_id"],
            "complete_organisation": invitations["organisation_id"].where(complete),
        }
    )
    for key in keys:
        frame[key] = invitations[key]
    grouped = frame.groupby(keys if keys else np.zeros(len(frame), dtype=int), observed=True, sort=True)
    table = grouped[["invited", "ineligible", "eligible", "started", "complete", "partial"]].sum()
    table["organisations"] = grouped["organisation_id"].nunique()
    table["organisations_complete"] = grouped["complete_organisation"].nunique()
    table["completion_rate"] = table["complete"] / table["eligible"].where(table["eligible"] > 0)
    table["inclusive_rate"] = (table["complete"] + table["partial"]) / table["eligible"].where(
        table["eligible"] > 0
    )
    table["organisational_rate"] = table["organisations_complete"] / table["organisations"]
    return table.reset_index() if keys else table.reset_index(drop=True)
