"""Coding the open answers, pure: Cohen's kappa against a hand-computed example, keyword proposals, the blind sample."""

import math

import pandas as pd
import pytest

from analysis.coding import CodingData, agreement, cohen_kappa, fold, in_blind_sample, proposals


def test_kappa_matches_the_hand_computed_example():
    # Ten comments, theme ticked (1) or not (0) by each coder. Observed agreement 8/10 = 0.8; each coder ticked
    # 4 of 10, so chance agreement is 0.4*0.4 + 0.6*0.6 = 0.52; kappa = (0.8 - 0.52) / (1 - 0.52) = 0.58333...
    first = [1, 1, 0, 0, 1, 0, 1, 0, 0, 0]
    second = [1, 0, 0, 0, 1, 0, 1, 1, 0, 0]
    assert math.isclose(cohen_kappa(first, second), 0.28 / 0.48)


def test_kappa_of_perfect_and_of_opposite_coders():
    assert cohen_kappa([1, 0, 1, 0], [1, 0, 1, 0]) == 1.0
    assert cohen_kappa([1, 0, 1, 0], [0, 1, 0, 1]) == -1.0


def test_kappa_is_undefined_without_comments_or_when_both_coders_never_vary():
    assert cohen_kappa([], []) is None
    assert cohen_kappa([0, 0, 0], [0, 0, 0]) is None
    with pytest.raises(ValueError):
        cohen_kappa([1], [1, 0])


def test_agreement_per_theme_over_the_comments_both_coders_saved():
    themes = pd.DataFrame({"theme_id": [1, 2], "question": ["q", "q"], "name": ["Money", "Meetings"]})
    codes = pd.DataFrame({"response_id": [10, 11, 12], "question": ["q"] * 3, "theme_id": [1, 1, 2]})
    second = pd.DataFrame({"response_id": [10, 12], "question": ["q"] * 2, "theme_id": [1, 2]})
    both = {(10, "q"), (11, "q"), (12, "q"), (13, "q")}
    coding = CodingData(themes=themes, codes=codes, second_codes=second, reviewed=both | {(14, "q")},
                        second_reviewed=both)
    money, meetings = agreement(coding)
    # Money: first [1,1,0,0], second [1,0,0,0]: po = .75, pe = .5*.25 + .5*.75 = .5, kappa = .5.
    assert (money.theme, money.comments, money.agreed) == ("Money", 4, 3)
    assert math.isclose(money.kappa, 0.5)
    assert (meetings.agreed, meetings.kappa) == (4, 1.0)


def test_keywords_propose_themes_in_any_language_at_the_start_of_a_word():
    rules = [(1, ["financ", "fund"]), (2, ["réunion", "meeting"]), (3, ["art"])]
    assert proposals("Más información sobre financiación.", rules) == [(1, "financ")]
    assert proposals("Plus de REUNIONS régionales", rules) == [(2, "réunion")]
    assert proposals("Shorter briefings before GCG meetings and funding", rules) == [(1, "fund"), (2, "meeting")]
    assert proposals("a partner", rules) == []  # "art" inside "partner" is not the start of a word
    assert fold("Financiación") == "financiacion"


def test_the_blind_sample_is_fixed_and_about_its_share():
    picked = [in_blind_sample(r, "one_change") for r in range(2000)]
    assert picked == [in_blind_sample(r, "one_change") for r in range(2000)]
    assert 0.15 < sum(picked) / len(picked) < 0.25
