"""What an anonymised export leaves out, so that no row can be traced back to an organisation.

- Never written: organisation, contacts, country, free-text answers (text questions and every "other, please
  specify"), and the survey's answers that repeat a registry attribute (a `category` question, a `region` question).
- Timestamps are given to the day; response ids are new random ones that match nothing in the full export.
- The partner groups (category, region, Pathfinder, language) are checked against the report's threshold: a value
  held by fewer respondents is merged into "other"; a column that still has a group under the threshold, alone or
  combined with the other kept columns, is removed whole. So every combination of the kept columns is shared by at
  least `threshold` respondents.

Pure: no Flask, no database. The README that travels with the file says all of this, with what was removed.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from surveys.definition import UPLOAD_TYPES, SurveyDefinition

from .frames import Respondent

GROUPS = ("category", "region", "pathfinder", "language")  # the partner attributes an anonymised export may keep
ALWAYS_REMOVED = ("organisation", "country")
REGISTRY_NAMES = ("organisation", "category", "region", "country", "pathfinder", "language")
OTHER = "other"


def group_values(respondent: Respondent) -> dict[str, str]:
    """A respondent's partner groups as the export writes them."""
    return {
        "category": respondent.category or "",
        "region": respondent.region or "",
        "pathfinder": "yes" if respondent.pathfinder else "no",
        "language": respondent.language or "",
    }


@dataclass
class Anonymisation:
    """The plan of one anonymised export: which groups are kept (and merged), which columns and questions go."""

    threshold: int
    respondents: int
    kept: list[str]  # partner groups written, in GROUPS order
    merged: dict[str, list[str]]  # group -> values merged into "other" because too few respondents held them
    removed_groups: list[str]  # partner groups left out because a group stayed under the threshold
    removed_questions: list[str]  # free text and answers that repeat the registry
    issued: set[str] = field(default_factory=set)  # new response ids handed out so far

    def shown(self, name: str, value: str) -> str:
        """The value of a kept partner group as written (a rare value becomes "other")."""
        return OTHER if value in self.merged.get(name, ()) else value

    def new_id(self) -> str:
        """A random response id, unique in this file, that matches no id of the full export."""
        while True:
            candidate = secrets.token_hex(5)
            if candidate not in self.issued:
                self.issued.add(candidate)
                return candidate

    def readme(self, round_name: str, gettext: Callable[[str], str] = str) -> str:
        """The note that travels with the file: how it was anonymised and what was removed."""
        _ = gettext
        lines = [
            _("Anonymised export of the responses of %(round)s.") % {"round": round_name},
            "",
            _("Removed: organisation, contacts, country and every free-text answer."),
            _("Response ids are new: they match nothing in the full export."),
            _("Dates are given to the day (started_at, submitted_at)."),
            _("Every combination of the partner columns kept is shared by at least %(threshold)s respondents.")
            % {"threshold": self.threshold},
            "",
        ]
        if self.removed_questions:
            lines.append(_("Questions removed: %(names)s") % {"names": ", ".join(self.removed_questions)})
        for name in self.kept:
            if self.merged.get(name):
                lines.append(
                    _("%(column)s: %(values)s merged into \"other\" (fewer than %(threshold)s respondents each)")
                    % {"column": name, "values": ", ".join(self.merged[name]), "threshold": self.threshold}
                )
        if self.removed_groups:
            lines.append(
                _("Partner columns removed (a group would have had fewer than %(threshold)s respondents): %(names)s")
                % {"threshold": self.threshold, "names": ", ".join(self.removed_groups)}
            )
        return "\n".join(lines) + "\n"


def removed_questions(definition: SurveyDefinition) -> list[str]:
    """Columns of answers never written anonymised: free text, "other" texts, answers that repeat the registry."""
    names = []
    for question in definition.questions():
        if not question.answerable:
            continue
        if question.type in ("text", *UPLOAD_TYPES) or question.name in REGISTRY_NAMES:
            names.append(question.name)
        if question.or_other:
            names.append(question.other_name)
    return names


def plan(respondents: Iterable[Respondent], definition: SurveyDefinition, threshold: int) -> Anonymisation:
    """Decide what an anonymised export of these respondents keeps, given the report's threshold."""
    rows = [group_values(r) for r in respondents]
    merged: dict[str, list[str]] = {}
    kept = []
    for name in GROUPS:
        counts = Counter(row[name] for row in rows)
        rare = sorted(value for value, n in counts.items() if n < threshold)
        other = sum(counts[value] for value in rare) + (counts[OTHER] if rare and OTHER not in rare else 0)
        if rare and other < threshold:
            continue  # even merged, the rare values stay a small group
        kept.append(name)
        if rare:
            merged[name] = rare
    while kept:
        combinations = Counter(
            tuple(OTHER if row[n] in merged.get(n, ()) else row[n] for n in kept) for row in rows
        )
        if not combinations or min(combinations.values()) >= threshold:
            break
        distinct = {n: len({row[n] for row in rows}) for n in kept}
        widest = max(reversed(kept), key=lambda n: distinct[n])  # the column with most values goes first
        kept.remove(widest)
    for name in list(merged):
        if name not in kept:
            del merged[name]
    return Anonymisation(
        threshold=threshold,
        respondents=len(rows),
        kept=kept,
        merged=merged,
        removed_groups=[name for name in GROUPS if name not in kept],
        removed_questions=removed_questions(definition),
    )
