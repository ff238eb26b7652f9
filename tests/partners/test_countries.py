"""Countries and ILO regions: every ISO country has exactly one region, and people's spellings are understood."""

import pycountry
import pytest

from partners.countries import COUNTRY_REGION, REGION_COUNTRIES, country_code, country_name, region_for


def test_every_iso_country_has_exactly_one_region():
    codes = [code for codes in REGION_COUNTRIES.values() for code in codes]
    assert len(codes) == len(set(codes))
    assert set(codes) == {country.alpha_2 for country in pycountry.countries}


def test_arab_states_are_the_ilo_list_and_north_africa_is_africa():
    assert set(REGION_COUNTRIES["arab_states"]) == {"BH", "IQ", "JO", "KW", "LB", "OM", "QA", "SA", "SY", "AE", "YE", "PS"}
    for code in ["DZ", "EG", "LY", "MA", "TN", "SD", "MR"]:
        assert COUNTRY_REGION[code] == "africa"
    assert {COUNTRY_REGION[c] for c in ["IL", "TR", "CY", "KZ", "UZ", "GE", "AM", "AZ", "RU"]} == {"europe_central_asia"}
    assert {COUNTRY_REGION[c] for c in ["IR", "AF", "IN", "CN", "FJ", "AU"]} == {"asia_pacific"}
    assert {COUNTRY_REGION[c] for c in ["US", "CA", "BR", "MX", "HT"]} == {"americas"}


@pytest.mark.parametrize(("text", "code"), [
    ("Côte d'Ivoire", "CI"), ("cote d’ivoire", "CI"), ("CI", "CI"), ("civ", "CI"), ("Ivory Coast", "CI"),
    ("Bolivia", "BO"), ("Bolivia, Plurinational State of", "BO"), (" ghana ", "GH"), ("Pérou", "PE"),
    ("México", "MX"), ("Sénégal", "SN"), ("Estados Unidos", "US"), ("USA", "US"), ("Congo", "CG"),
    ("Congo, The Democratic Republic of the", "CD"), ("Türkiye", "TR"), ("Turkey", "TR"), ("Liban", "LB"),
])
def test_names_and_codes_are_understood(text, code):
    assert country_code(text) == code


def test_blank_is_global_and_unknown_is_refused():
    assert country_code("") is None and country_code(None) is None
    assert region_for(None) == "global"
    with pytest.raises(KeyError):
        country_code("Atlantis")


def test_every_display_name_reads_back_as_its_country():
    for country in pycountry.countries:
        assert country_code(country_name(country.alpha_2)) == country.alpha_2
