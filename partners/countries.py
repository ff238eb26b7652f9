"""Countries as the registry keeps them (ISO 3166-1 alpha-2) and the ILO region each one belongs to.

Regions follow the ILO's five regions, not the UN's continents: the Arab States are the ILO's list (the North
African Arab countries are in Africa), Israel, Türkiye, Cyprus, the Caucasus and Central Asia are in Europe and
Central Asia, Iran and Afghanistan in Asia and the Pacific. Territories follow their geography (UN M49 sub-region).
An organisation without a country is Global.
"""

import gettext
import unicodedata
from functools import lru_cache

import pycountry

GLOBAL = "global"
REGIONS = ("africa", "americas", "arab_states", "asia_pacific", "europe_central_asia", GLOBAL)

REGION_COUNTRIES: dict[str, tuple[str, ...]] = {
    "africa": ("AO", "BF", "BI", "BJ", "BW", "CD", "CF", "CG", "CI", "CM", "CV", "DJ", "DZ", "EG", "EH", "ER", "ET", "GA", "GH", "GM", "GN", "GQ", "GW", "KE", "KM", "LR", "LS", "LY", "MA", "MG", "ML", "MR", "MU", "MW", "MZ", "NA", "NE", "NG", "RW", "SC", "SD", "SL", "SN", "SO", "SS", "ST", "SZ", "TD", "TG", "TN", "TZ", "UG", "ZA", "ZM", "ZW", "IO", "RE", "SH", "TF", "YT"),
    "americas": ("AG", "AR", "BB", "BO", "BR", "BS", "BZ", "CA", "CL", "CO", "CR", "CU", "DM", "DO", "EC", "GD", "GT", "GY", "HN", "HT", "JM", "KN", "LC", "MX", "NI", "PA", "PE", "PY", "SR", "SV", "TT", "US", "UY", "VC", "VE", "AI", "AW", "BL", "BM", "BQ", "BV", "CW", "FK", "GF", "GL", "GP", "GS", "KY", "MF", "MQ", "MS", "PM", "PR", "SX", "TC", "VG", "VI"),
    "arab_states": ("AE", "BH", "IQ", "JO", "KW", "LB", "OM", "PS", "QA", "SA", "SY", "YE"),
    "asia_pacific": ("AF", "AU", "BD", "BN", "BT", "CN", "FJ", "FM", "ID", "IN", "IR", "JP", "KH", "KI", "KP", "KR", "LA", "LK", "MH", "MM", "MN", "MV", "MY", "NP", "NR", "NZ", "PG", "PH", "PK", "PW", "SB", "SG", "TH", "TL", "TO", "TV", "VN", "VU", "WS", "AS", "CC", "CK", "CX", "GU", "HK", "HM", "MO", "MP", "NC", "NF", "NU", "PF", "PN", "TK", "TW", "UM", "WF"),
    "europe_central_asia": ("AD", "AL", "AM", "AT", "AZ", "BA", "BE", "BG", "BY", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GE", "GR", "HR", "HU", "IE", "IL", "IS", "IT", "KG", "KZ", "LI", "LT", "LU", "LV", "MC", "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "RU", "SE", "SI", "SK", "SM", "TJ", "TM", "TR", "UA", "UZ", "VA", "AX", "FO", "GG", "GI", "IM", "JE", "SJ"),
    # Antarctica belongs to no region.
    GLOBAL: ("AQ",),
}

COUNTRY_REGION: dict[str, str] = {code: region for region, codes in REGION_COUNTRIES.items() for code in codes}

# Names people write that ISO does not list (English, French, Spanish usage).
ALIASES = {
    "ivory coast": "CI", "cote divoire": "CI", "uk": "GB", "great britain": "GB", "england": "GB",
    "usa": "US", "us": "US", "united states of america": "US", "etats-unis": "US", "eeuu": "US", "ee. uu.": "US",
    "turkey": "TR", "turquie": "TR", "turquia": "TR", "russia": "RU", "russie": "RU", "rusia": "RU",
    "vietnam": "VN", "czech republic": "CZ", "swaziland": "SZ", "cape verde": "CV", "palestine": "PS",
    "drc": "CD", "dr congo": "CD", "rdc": "CD", "democratic republic of the congo": "CD",
    "republic of the congo": "CG", "congo-brazzaville": "CG", "congo-kinshasa": "CD", "macedonia": "MK",
    "burma": "MM", "the gambia": "GM", "holy see": "VA", "vatican": "VA", "south korea": "KR", "north korea": "KP",
    "korea": "KR", "laos": "LA", "syria": "SY", "iran": "IR", "tanzania": "TZ", "bolivia": "BO",
    "venezuela": "VE", "moldova": "MD", "micronesia": "FM", "brunei": "BN", "uae": "AE", "emirates": "AE",
    "the netherlands": "NL", "holland": "NL", "east timor": "TL", "timor leste": "TL",
}


def match_key(text: str) -> str:
    """Casefold, drop accents and apostrophes, so 'Côte d’Ivoire' and "cote d'ivoire" meet (names people write
    are compared this way: countries, categories, regions, Action Groups)."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace("'", "").replace("\u2019", "").replace("`", "").split())


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Every spelling we accept -> alpha-2: ISO codes and names in English, French and Spanish, and aliases."""
    names: dict[str, str] = {}
    translations = [_translation(language) for language in ("fr", "es")]
    heads: dict[str, set[str]] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        spellings = {country.alpha_2, country.alpha_3, country.name,
                     getattr(country, "common_name", ""), getattr(country, "official_name", "")}
        for english in [s for s in spellings if s]:
            spellings.update(translation.gettext(english) for translation in translations)
        for spelling in filter(None, spellings):
            names.setdefault(match_key(spelling), code)
            # "Bolivia, Plurinational State of" is also written "Bolivia".
            heads.setdefault(match_key(spelling.split(",")[0]), set()).add(code)
    for head, codes in heads.items():
        if len(codes) == 1:
            names.setdefault(head, codes.pop())
    for alias, code in ALIASES.items():
        names[match_key(alias)] = code
    return names


def country_code(text: str | None) -> str | None:
    """The alpha-2 code for a code or a name (English, French or Spanish); None if blank; KeyError if unknown."""
    if text is None or not text.strip():
        return None
    code = _names().get(match_key(text))
    if code is None:
        raise KeyError(text)
    return code


def region_for(country: str | None) -> str:
    """The ILO region of an alpha-2 code; Global when there is no country."""
    if not country:
        return GLOBAL
    return COUNTRY_REGION[country]


def country_name(code: str | None, language: str = "en") -> str:
    """The short name for display and export, in English or in French or Spanish ('' for none)."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    english = getattr(country, "common_name", None) or country.name
    return _translation(language).gettext(english) if language != "en" else english


@lru_cache(maxsize=4)
def _translation(language: str):
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


@lru_cache(maxsize=1)
def country_names() -> tuple[str, ...]:
    """Every country's display name, sorted, for the form's suggestions."""
    return tuple(sorted((country_name(c.alpha_2) for c in pycountry.countries), key=match_key))
