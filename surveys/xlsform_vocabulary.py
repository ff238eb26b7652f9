"""The XLSForm vocabulary: sheet and column names with their aliases, question types (built, ignored or refused),
yes/no cells, parameters and language columns.

The words a form may use live here, apart from files and from building, so that a new question type or column alias
starts in this module and surveys.xlsform_building gives it its meaning.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SHEETS = ("settings", "survey", "choices", "external_choices")

OTHER_LABELS = {"en": "Other", "fr": "Autre", "es": "Otro", "pt": "Outro", "ar": "أخرى", "ru": "Другое"}

KNOWN_LANGUAGES = {
    "english": "en",
    "anglais": "en",
    "inglés": "en",
    "ingles": "en",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "francés": "fr",
    "frances": "fr",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "espagnol": "es",
    "castellano": "es",
    "portuguese": "pt",
    "português": "pt",
    "portugues": "pt",
    "arabic": "ar",
    "العربية": "ar",
    "arabe": "ar",
    "russian": "ru",
    "русский": "ru",
    "chinese": "zh",
    "中文": "zh",
    "swahili": "sw",
    "kiswahili": "sw",
    "german": "de",
    "deutsch": "de",
    "allemand": "de",
    "alemán": "de",
    "aleman": "de",
    "italian": "it",
    "italiano": "it",
    "dutch": "nl",
    "nederlands": "nl",
    "bengali": "bn",
    "bangla": "bn",
    "nepali": "ne",
    "amharic": "am",
    "hausa": "ha",
}

TEXT_COLUMNS = ("label", "hint", "constraint_message", "required_message", "form_title")
COLUMN_ALIASES = {
    "list name": "list_name",
    "caption": "label",
    "bind:relevant": "relevant",
    "relevance": "relevant",
    "bind:constraint": "constraint",
    "bind:required": "required",
    "bind:calculate": "calculation",
    "bind:readonly": "read_only",
    "readonly": "read_only",
    "control:appearance": "appearance",
    "constraint-msg": "constraint_message",
    "constraint_msg": "constraint_message",
    "constraining_message": "constraint_message",
    "jr:constraintmsg": "constraint_message",
    "bind:jr:constraintmsg": "constraint_message",
    "required-msg": "required_message",
    "required_msg": "required_message",
    "requiredmsg": "required_message",
    "jr:requiredmsg": "required_message",
    "bind:jr:requiredmsg": "required_message",
    "choice-filter": "choice_filter",
    "id_string": "form_id",
    "set_form_id": "form_id",
    "set_form_title": "form_title",
}

SIMPLE_TYPES = {
    "calculate": "calculate",
    "hidden": "calculate",
    "text": "text",
    "string": "text",
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "date": "date",
    "time": "time",
    "datetime": "datetime",
    "acknowledge": "acknowledge",
    "trigger": "acknowledge",
    "note": "note",
    "range": "range",
    "image": "image",
    "photo": "image",
    "file": "file",
    "geopoint": "geopoint",
    "gps": "geopoint",  # the older ODK and Ona spelling
}
PHONE_TYPES = ("phone number", "phonenumber", "phone_number")
METADATA_TYPES = {
    "start",
    "end",
    "today",
    "deviceid",
    "imei",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "instanceid",
    "uri:deviceid",
    "uri:subscriberid",
    "uri:simserial",
    "uri:phonenumber",
    "uri:username",
    "uri:email",
    "start-geopoint",
    "background-audio",
    "caseid",
}
SURVEYCTO_ONLY_TYPES = {"comments", "calculate_here", "text audit", "audio audit", "speed violations count",
                        "speed violations list", "speed violations audit", "sensor_statistic", "sensor_stream"}
UNSUPPORTED_TYPES = {
    "geotrace",
    "geoshape",
    "audio",
    "video",
    "barcode",
    "xml-external",
    "csv-external",
    "osm",
    "add image prompt",
    "add photo prompt",
    "add audio prompt",
    "add video prompt",
    "add file prompt",
    "begin repeat",
    "begin_repeat",
    "begin loop",
    "begin_loop",
    "begin lgroup",
    "begin looped group",
    "end loop",
    "end_loop",
}
UNSUPPORTED_REASONS = {
    "begin repeat": "repeats are not supported",
    "begin_repeat": "repeats are not supported",
}
_SELECT = re.compile(
    r"^(select_one_from_file|select_multiple_from_file|select one from file|select multiple from file"
    r"|select_one_external|select one external|select all that apply from|select one from|select_one"
    r"|select_multiple|select multiple|select all that apply|select one|select1|rank)(?:\s+(.*))?$",
    re.IGNORECASE,
)
_SELECT_KINDS = {
    "select_one": "select_one",
    "select one from": "select_one",
    "select one": "select_one",
    "select1": "select_one",
    "select_multiple": "select_multiple",
    "select multiple": "select_multiple",
    "select all that apply": "select_multiple",
    "select all that apply from": "select_multiple",
    "rank": "rank",
}
_OTHER_SUFFIXES = ("or_other", "or specify other", "or other")
_LANGUAGE_WITH_CODE = re.compile(r"^(.*?)\s*\(\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)\s*\)\s*$")
_PARAMETER = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*([^\s;,]*)")
_YES = {"yes", "true", "true()", "1"}
_NO = {"no", "false", "false()", "0", ""}


@dataclass
class Language:
    """A language of the form: its code, and how messages name it ('French (fr)')."""

    code: str
    display: str


def split_column(header: str) -> tuple[str, str | None]:
    """('label', 'French (fr)') from 'label::French (fr)' or 'label:French (fr)'; ('relevant', None) from
    'bind:relevant'."""
    header = " ".join(header.split())
    if "::" in header:
        base, language = header.split("::", 1)
    else:
        head, _, tail = header.partition(":")
        if tail and head.strip().lower() in TEXT_COLUMNS:
            base, language = head, tail
        else:
            base, language = header, None
    base = base.strip().lower()
    base = COLUMN_ALIASES.get(base, base)
    language = (language or "").strip() or None
    return base, language


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def parse_language(raw: str) -> Language:
    """Code and display name of a language as a form writes it: 'French (fr)', 'english', 'Español', 'fr'."""
    match = _LANGUAGE_WITH_CODE.match(raw)
    if match:
        primary, *subtags = match.group(2).replace("_", "-").split("-")
        code = "-".join([primary.lower(), *subtags])
        name = match.group(1).strip() or code
        return Language(code, f"{name} ({code})")
    name = raw.strip()
    code = KNOWN_LANGUAGES.get(name.lower())
    display_name = name[:1].upper() + name[1:]
    if code is None:
        import pycountry

        found = pycountry.languages.get(name=name)
        if found is not None and hasattr(found, "alpha_2"):
            code = found.alpha_2
        elif re.fullmatch(r"[A-Za-z]{2}", name) and pycountry.languages.get(alpha_2=name.lower()) is not None:
            code = name.lower()
            display_name = pycountry.languages.get(alpha_2=code).name
        else:
            code = _slug(name) or "default"
    return Language(code, f"{display_name} ({code})")


def truth(value: str) -> bool | None:
    """A yes/no cell (required) as True or False; None when it holds anything else."""
    value = value.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    return None


def parse_parameters(text: str) -> dict[str, str]:
    """The parameters cell ('start=1 end=10 step=1', 'top=3') as {name: value}, names in lower case."""
    return {key.lower(): value for key, value in _PARAMETER.findall(text or "")}


def classify(type_text: str, has_label: bool) -> tuple[str, object]:
    """(kind, detail) for a type cell; kind is a question type or begin_group, end_group, begin_repeat,
    end_repeat, metadata, unsupported or unknown."""
    text = " ".join(type_text.split())
    lower = text.lower()
    if lower in ("begin group", "begin_group"):
        return "begin_group", None
    if lower in ("end group", "end_group"):
        return "end_group", None
    if lower in ("end repeat", "end_repeat"):
        return "end_repeat", None
    if lower in ("begin repeat", "begin_repeat"):
        return "begin_repeat", None
    if lower in SIMPLE_TYPES:
        return SIMPLE_TYPES[lower], None
    if lower in PHONE_TYPES:
        return ("text", "phone") if has_label else ("metadata", None)
    if lower in METADATA_TYPES:
        return "metadata", None
    if lower in UNSUPPORTED_TYPES:
        return "unsupported", UNSUPPORTED_REASONS.get(lower, "")
    if lower in SURVEYCTO_ONLY_TYPES:
        return "unsupported", "a SurveyCTO-only type, which other XLSForm tools do not read"
    match = _SELECT.match(text)
    if match:
        keyword = " ".join(match.group(1).lower().split())
        if "file" in keyword or "external" in keyword:  # read as ordinary choices (surveys.cascades)
            kind = "select_multiple" if "multiple" in keyword else "select_one"
            words = (match.group(2) or "").split()
            return kind, (words[0] if words else "", False)
        words = (match.group(2) or "").split()
        list_name = words[0] if words else ""
        rest = " ".join(words[1:]).lower()
        if rest and rest not in _OTHER_SUFFIXES:
            return "unknown", f"unexpected '{' '.join(words[1:])}' after the list name"
        return _SELECT_KINDS[keyword], (list_name, bool(rest))
    return "unknown", None
