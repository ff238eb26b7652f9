"""Discovering the analysable items of any survey definition."""

import pytest

from analysis.items import (
    IMPORTANCE,
    SATISFACTION,
    LikertItem,
    ServicePair,
    choice_codes,
    discover_items,
    grid_role,
    is_likert,
    na_codes,
    service_keys,
)
from surveys.definition import Section
from tests.analysis.builders import choices, default_like_survey, grid, likert, page, question, survey


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (("1", "2", "3", "4", "5"), True),
        (("1", "2", "3", "4", "5", "na"), True),
        (("5", "4", "3", "2", "1", "dont_know", "no_opinion"), True),  # descending, two NA codes
        (("na", "1", "2", "3", "4", "5"), True),  # the NA code may come first
        (("1", "2", "3", "4"), False),  # four points
        (("0", "1", "2", "3", "4"), False),
        (("1", "2", "3", "4", "5", "6"), False),  # six numeric codes
        (("1", "3", "2", "4", "5"), False),  # not in order
        (("yes", "no"), False),
    ],
)
def test_likert_is_exactly_one_to_five_plus_na_codes(codes, expected):
    assert is_likert(question("q", "select_one", *codes)) is expected


def test_likert_needs_a_plain_select_one():
    assert not is_likert(question("q", "select_multiple", "1", "2", "3", "4", "5"))
    assert not is_likert(question("q", "select_one", "1", "2", "3", "4", "5", or_other=True))


def test_na_codes_are_the_non_numeric_codes():
    assert na_codes(likert("q", na=("not_used", "dont_know"))) == ("not_used", "dont_know")
    assert na_codes(likert("q", na=())) == ()


@pytest.mark.parametrize(
    ("grid_name", "list_name", "role"),
    [
        ("satisfaction", "scale", SATISFACTION),
        ("services_importance", "scale", IMPORTANCE),
        ("q7", "imp5", IMPORTANCE),  # the grid's name says nothing: the choice list decides
        ("q8", "SAT5", SATISFACTION),
        ("sat-services", "imp5", SATISFACTION),  # the grid's name comes first
        ("impact_statements", "agr5", None),  # "impact" is not "imp"
        ("sat_imp", "scale", None),  # both: no role
        ("statements", "agr5", None),
    ],
)
def test_grid_role_from_grid_name_then_list_name(grid_name, list_name, role):
    assert (
        grid_role(grid(grid_name, likert("x_a", list_name=list_name), likert("x_b", list_name=list_name)))
        == role
    )


def test_service_keys_drop_the_shared_start_and_end():
    assert service_keys(grid("g", likert("sat_website"), likert("sat_events"))) == {
        "sat_website": "website",
        "sat_events": "events",
    }
    assert service_keys(grid("g", likert("q4_web_imp"), likert("q4_news_imp"))) == {
        "q4_web_imp": "web",
        "q4_news_imp": "news",
    }
    assert service_keys(grid("g", likert("svc_sat_peer_exchange"), likert("svc_sat_gcg"))) == {
        "svc_sat_peer_exchange": "peer_exchange",
        "svc_sat_gcg": "gcg",
    }
    # one question: its role word goes
    assert service_keys(grid("g", likert("imp_website"))) == {"imp_website": "website"}


def test_discover_items_of_the_default_survey():
    items = discover_items(default_like_survey())
    assert items.likert_names() == [
        "expectations_met", "sat_website", "sat_newsletter", "sat_events", "imp_website", "imp_newsletter",
        "imp_events",
    ]  # fmt: skip
    assert items.likert[0] == LikertItem("expectations_met", None, ("no_clear_expectations",))
    assert items.likert[1] == LikertItem("sat_website", "satisfaction", ("na",))
    assert items.likert_grids == {
        "satisfaction": ["sat_website", "sat_newsletter", "sat_events"],
        "importance": ["imp_website", "imp_newsletter", "imp_events"],
    }
    assert items.grid_roles == {"satisfaction": SATISFACTION, "importance": IMPORTANCE}
    assert items.pairs == [
        ServicePair("website", "imp_website", "sat_website"),
        ServicePair("newsletter", "imp_newsletter", "sat_newsletter"),
        ServicePair("events", "imp_events", "sat_events"),
    ]
    assert items.service_use == {"service_use": ["use_website", "use_newsletter", "use_events"]}
    assert items.services["use_events"] == "events"
    assert items.rankings == ["priorities"]
    assert items.nps == ["recommend"]
    assert items.numeric == ["years"]
    assert items.multiple_choice == ["reasons"]
    assert items.single_choice == ["category", "roadmap_stage"]  # the use grid is not single choice
    assert items.free_text == ["missing_service", "why"]


def test_discover_items_of_another_survey():
    # names that share nothing with the default survey; grids inside a section; a Likert grid with no role;
    # a range that is not 0-10; a note
    other = survey(
        page(
            "training",
            Section(
                "ratings",
                items=[
                    grid(
                        "q1_imp_grid", likert("q1_imp_training", list_name="agree"), likert("q1_imp_funding")
                    ),
                    grid(
                        "q2_grid",
                        likert("q2_sat_training", list_name="sat5"),
                        likert("q2_sat_funding", list_name="sat5"),
                    ),
                ],
            ),
            grid("statements", likert("st_clear", list_name="agr5"), likert("st_useful", list_name="agr5")),
            question("intro", "note"),
            question("hours", "range", parameters={"start": "1", "end": "5"}),
            question("mood", "select_one", "good", "bad"),
        )
    )
    items = discover_items(other)
    # q1_imp_grid by its name; q2_grid by its list "sat5"; statements neither
    assert items.grid_roles == {"q1_imp_grid": IMPORTANCE, "q2_grid": SATISFACTION}
    assert items.pairs == [
        ServicePair("training", "q1_imp_training", "q2_sat_training"),
        ServicePair("funding", "q1_imp_funding", "q2_sat_funding"),
    ]
    assert items.numeric == ["hours"] and items.nps == [] and items.single_choice == ["mood"]
    assert set(items.likert_grids) == {"q1_imp_grid", "q2_grid", "statements"}
    assert items.services["st_clear"] == "clear"
    assert "intro" not in items.single_choice + items.free_text


def test_pairs_found_through_the_choice_list_names():
    other = survey(
        page(
            "ratings",
            grid("q1", likert("q1_training", list_name="imp5"), likert("q1_funding", list_name="imp5")),
            grid("q2", likert("q2_funding", list_name="sat5"), likert("q2_training", list_name="sat5")),
        )
    )
    items = discover_items(other)
    assert items.grid_roles == {"q1": IMPORTANCE, "q2": SATISFACTION}
    assert items.pairs == [
        ServicePair("training", "q1_training", "q2_training"),
        ServicePair("funding", "q1_funding", "q2_funding"),
    ]


def test_a_service_use_grid_needs_not_aware_and_a_used_code():
    survey_ = survey(
        page(
            "p",
            grid(
                "funnel",
                question("u_a", "select_one", "not_aware", "aware", "used"),
                question("u_b", "select_one", "not_aware", "aware", "used"),
            ),
            grid("awareness", question("k_a", "select_one", "not_aware", "aware")),
        )
    )
    items = discover_items(survey_)
    assert items.service_use == {"funnel": ["u_a", "u_b"]}
    assert items.single_choice == ["k_a"]


def test_choice_codes_add_other_when_asked():
    assert choice_codes(question("q", "select_multiple", "a", "b", or_other=True)) == ["a", "b", "other"]
    assert choice_codes(question("q", "select_multiple", "a", "b")) == ["a", "b"]
    assert [c.name for c in choices("x", "other")] == ["x", "other"]
    assert choice_codes(question("q", "select_multiple", "a", "other", or_other=True)) == ["a", "other"]
