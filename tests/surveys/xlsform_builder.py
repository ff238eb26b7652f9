"""Write small XLSForm workbooks for tests, so no test depends on a form file it did not write."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook


def write_xlsform(path: Path | str, sheets: dict[str, list]) -> Path:
    """Write {sheet name: rows} to an .xlsx file and return its path.

    Rows are dicts (the header is every key, in the order first seen) or lists whose first item is the header.
    A row given as None or {} is left blank, so tests can check that messages count spreadsheet rows.
    """
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        if rows and isinstance(rows[0], list | tuple):
            header, body = list(rows[0]), [list(row) if row else None for row in rows[1:]]
        else:
            header = []
            for row in rows:
                for key in row or {}:
                    if key not in header:
                        header.append(key)
            body = [[row.get(key) for key in header] if row else None for row in rows]
        sheet.append(header)
        for index, values in enumerate(body, start=2):
            for column, value in enumerate(values or [], start=1):
                if value is not None:
                    sheet.cell(row=index, column=column, value=value)
    path = Path(path)
    workbook.save(path)
    return path
