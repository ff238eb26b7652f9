"""Read an XLSForm workbook (.xlsx, .xls) or the native YAML format into a SurveyDefinition.

Reading gives plain sheets (lists of row dicts, JSON-safe, each with its spreadsheet row under "_row"); one
normaliser turns sheets from either format into a definition and reports every problem at once, each naming its
sheet, row and column, so a secretariat can fix a form in one pass. See docs/XLSFORM.md for what is supported.

This module is the public entry; the work is split by role between surveys.xlsform_vocabulary (the words a form may
use), surveys.xlsform_reading (files to sheets, and the errors) and surveys.xlsform_building (sheets to a definition).
"""

from __future__ import annotations

from .definition import SurveyDefinition
from .xlsform_building import build_definition
from .xlsform_reading import Problem, SurveyFileError, read_sheets

__all__ = ["Problem", "SurveyFileError", "build_definition", "load_survey_file", "read_sheets"]


def load_survey_file(path_or_bytes, filename: str, files: dict | None = None) -> tuple[dict, SurveyDefinition]:
    """Read and normalise a form file: the sheets to store, and the definition built from them. `files` holds the
    rows of the choices files uploaded with it (surveys.cascades.read_choice_file), by file name."""
    sheets = read_sheets(path_or_bytes, filename)
    if files:
        sheets["files"] = files
    return sheets, build_definition(sheets)
