"""Small survey definitions built straight from the dataclasses, for the analysis tests."""

from surveys.definition import Choice, Grid, Page, Question, SurveyDefinition
from surveys.expressions import parse

SCORES = ("1", "2", "3", "4", "5")


def choices(*codes: str) -> list[Choice]:
    return [Choice(code, {"en": code.replace("_", " ")}) for code in codes]


def likert(name: str, list_name: str = "sat5", na: tuple[str, ...] = ("na",), **options) -> Question:
    return Question(
        name, "select_one", {"en": name}, list_name=list_name, choices=choices(*SCORES, *na), **options
    )


def question(name: str, type_: str, *codes: str, **options) -> Question:
    return Question(
        name,
        type_,
        {"en": name},
        list_name=f"{name}_list" if codes else None,
        choices=choices(*codes),
        **options,
    )


def grid(name: str, *questions: Question) -> Grid:
    for q in questions:
        q.grid = name
    return Grid(name, {"en": name}, questions=list(questions))


def page(name: str, *items) -> Page:
    built = Page(name, {"en": name}, items=list(items))
    for q in built.questions():
        q.page = name
    return built


def survey(*pages: Page, form_id: str = "test_survey") -> SurveyDefinition:
    return SurveyDefinition(form_id, {"en": form_id}, "1", "en", ["en"], list(pages))


USE_CODES = ("not_aware", "aware_not_used", "used_occasionally", "used_regularly")
SERVICES = ("website", "newsletter", "events")


def default_like_survey() -> SurveyDefinition:
    """The default survey in miniature: profile, engagement, services (use, satisfaction, importance, rank), overall."""
    used = "selected(${{use_{0}}}, 'used_occasionally') or selected(${{use_{0}}}, 'used_regularly')"
    return survey(
        page(
            "profile",
            question("category", "select_one", "government", "civil_society", "un"),
            question("roadmap_stage", "select_one", "interest", "workshop", "adopted", "dont_know"),
        ),
        page(
            "engagement",
            question("reasons", "select_multiple", "evidence", "networking", "advocacy", or_other=True),
            likert("expectations_met", list_name="met5", na=("no_clear_expectations",)),
        ),
        page(
            "services",
            grid("service_use", *(question(f"use_{s}", "select_one", *USE_CODES) for s in SERVICES)),
            grid(
                "satisfaction",
                *(
                    likert(f"sat_{s}", relevant=parse(used.format(s)), relevant_source=used.format(s))
                    for s in SERVICES
                ),
            ),
            grid("importance", *(likert(f"imp_{s}", list_name="imp5", na=("no_opinion",)) for s in SERVICES)),
            question("priorities", "rank", *SERVICES),
            question("missing_service", "text"),
        ),
        page(
            "overall",
            question("recommend", "range", parameters={"start": "0", "end": "10", "step": "1"}),
            question("years", "integer"),
            question("why", "text"),
        ),
        form_id="engagement_default",
    )
