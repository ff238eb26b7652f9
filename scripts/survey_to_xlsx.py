"""Convert a native YAML survey into an .xlsx XLSForm, so the Secretariat can open and edit it in Excel.

Usage: python scripts/survey_to_xlsx.py surveys/default_survey.yaml [-o default_survey.xlsx]

Writes the sheets survey, choices and settings; each sheet's columns come in the order they first appear.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from openpyxl import Workbook
from openpyxl.styles import Font

SHEETS = ("survey", "choices", "settings")


def _rows(value, sheet: str) -> list[dict]:
    """The rows of one sheet: a list of mappings (settings may also be a single mapping)."""
    if value is None:
        return []
    if isinstance(value, dict) and sheet == "settings":
        return [value]
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise ValueError(f"sheet '{sheet}' must be a list of rows (mappings)")
    return value


class _TextLoader(yaml.SafeLoader):
    """YAML that keeps every scalar as written: `yes` stays "yes", `2026.10` stays "2026.10" (as the reader)."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def convert(source: Path, target: Path) -> None:
    """Write the XLSForm workbook for the YAML survey at `source` to `target`."""
    data = yaml.load(source.read_text(encoding="utf-8-sig"), Loader=_TextLoader)
    if not isinstance(data, dict) or "survey" not in data:
        raise ValueError(f"{source}: not a native survey (no 'survey' sheet)")
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in SHEETS:
        rows = _rows(data.get(sheet), sheet)
        if not rows and sheet != "survey":
            continue
        columns: list[str] = []
        for row in rows:
            columns.extend(str(key) for key in row if str(key) not in columns)
        worksheet = workbook.create_sheet(sheet)
        worksheet.append(columns)
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            values = {str(key): value for key, value in row.items()}
            worksheet.append([values.get(column) for column in columns])
        worksheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            letter = worksheet.cell(row=1, column=index).column_letter
            widest = max((len(str(row.get(column) or "")) for row in rows), default=0)
            worksheet.column_dimensions[letter].width = min(max(len(column), widest, 8) + 2, 60)
    workbook.save(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="native survey (.yaml)")
    parser.add_argument("-o", "--output", type=Path, help="the .xlsx to write (default: beside the source)")
    args = parser.parse_args(argv)
    target = args.output or args.source.with_suffix(".xlsx")
    try:
        convert(args.source, target)
    except (OSError, ValueError, yaml.YAMLError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
