"""Exports of a round: responses CSV, long CSV, XLSX; labels, BOM, anonymised, formulas, downloads, CLI."""

import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from analysis import anonymisation, exports
from analysis.exports import Export, prepare
from analysis.loader import iter_responses, respondent_rows, round_and_definition
from engagement.extensions import db
from engagement.models import AuditEntry
from engagement.spreadsheets import FORMULA_STARTS
from tests.analysis.builders import page, question, survey
from tests.analysis.test_loader import FULL, answer, round_with
from tests.conftest import ANALYST, signed_in

META = ["response_id", "round", "organisation", "partner_category", "region", "country", "pathfinder", "language",
        "status", "started_at", "submitted_at"]
QUESTIONS = [
    "colour",
    "colour_other",
    "fruits",
    "fruits/apple",
    "fruits/pear",
    "fruits/cherry",
    "fruits/other",
    "fruits_other",
    "priorities/web",
    "priorities/news",
    "priorities/events",
    "comment",
    "staff",
    "budget",
    "founded",
    "recommend",
    "category",
    "why_red",
]
PARTIAL = {"colour": "red", "why_red": "Passion", "fruits": "pear"}


@pytest.fixture
def answered(app):
    """A round of the every-type survey: submitted in French, in progress, not started."""
    with app.app_context():
        round_, invitations = round_with(3)
        first = answer(invitations[0], FULL, language="fr")
        second = answer(invitations[1], PARTIAL, status="in_progress")
        return round_.id, first.id, second.id


def prepared(round_id: int, format_: str = "csv", anonymised: bool = False, threshold: int = 1, **options) -> Export:
    round_, definition = round_and_definition(db.session, round_id)
    plan = anonymisation.plan(respondent_rows(db.session, round_id), definition, threshold) if anonymised else None
    return prepare(round_.id, round_.name, definition, format_, anonymisation=plan, **options)


def unzipped(data: bytes) -> tuple[str, str, bytes]:
    """An anonymised export's README text, data file name and data bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        readme, name = archive.namelist()
        assert readme == "README.txt"
        return archive.read(readme).decode("utf-8-sig"), name, archive.read(name)


def export_bytes(round_id: int, format_: str = "csv", **options) -> bytes:
    export = prepared(round_id, format_, **options)
    return b"".join(export.chunks(iter_responses(db.session, round_id, export.definition)))


def read_csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_responses_csv_has_one_row_per_response_in_form_order(app, answered):
    round_id, first, second = answered
    with app.app_context():
        data = export_bytes(round_id)
    frame = read_csv(data)
    assert list(frame.columns) == META + QUESTIONS
    assert len(frame) == 2
    one, two = frame.iloc[0].to_dict(), frame.iloc[1].to_dict()
    assert one == {
        "response_id": str(first),
        "round": "Test round",
        "organisation": "Ministère du Travail – Sénégal",
        "partner_category": "civil_society",
        "region": "africa",
        "country": "SN",
        "pathfinder": "yes",
        "language": "fr",
        "status": "submitted",
        "started_at": "2026-11-20T09:05:07Z",
        "submitted_at": "2026-11-25T13:40:00Z",
        **{name: value for name, value in FULL.items() if name != "priorities"},  # as stored, but the rank:
        "priorities/web": "3", "priorities/news": "1", "priorities/events": "2",  # a column per item, its place
        "fruits/apple": "1", "fruits/pear": "0", "fruits/cherry": "1", "fruits/other": "1",
        "why_red": "",
    }
    assert two["status"] == "partial" and two["submitted_at"] == "" and two["response_id"] == str(second)
    assert (two["colour"], two["why_red"], two["fruits"]) == ("red", "Passion", "pear")
    assert [two[f"fruits/{c}"] for c in ("apple", "pear", "cherry", "other")] == ["0", "1", "0", "0"]
    assert [two[f"priorities/{c}"] for c in ("web", "news", "events")] == ["", "", ""]
    assert two["staff"] == "" and two["organisation"] == "Partner 1" and two["country"] == ""
    assert data.startswith(exports.BOM)  # Excel on Windows reads UTF-8 only with it
    assert "Ministère".encode() in data  # UTF-8, accents intact


LABELLED = [
    "colour",
    "colour_label",
    "colour_other",
    "fruits",
    "fruits_label",
    *QUESTIONS[3:16],
    "category",
    "category_label",
    "why_red",
]


def test_labels_in_french_keep_codes_and_add_labels_and_titled_headers(app, answered):
    round_id, _first, _second = answered
    with app.app_context():
        frame = read_csv(export_bytes(round_id, labels="fr"))
        with pytest.raises(ValueError):
            prepared(round_id, labels="de")
    titles = list(frame.columns[len(META):])
    assert list(frame.columns[: len(META)]) == META
    assert [title.rsplit("[", 1)[1].rstrip("]") for title in titles] == LABELLED
    assert "Pourquoi rouge ? [why_red]" in titles and "Fruits – Cerise [fruits/cherry]" in titles
    frame.columns = META + LABELLED
    one, two = frame.iloc[0], frame.iloc[1]
    assert (one["colour"], one["colour_label"]) == ("other", "Autre")
    assert (one["fruits"], one["fruits_label"]) == ("apple cherry other", "Pomme; Cerise; Autre")
    assert (one["category"], one["category_label"]) == ("yes", "Oui")
    assert one["fruits/cherry"] == "1" and one["priorities/news"] == "1"
    assert (two["colour_label"], two["fruits_label"]) == ("Rouge", "Poire")


def test_bom_by_default_with_opt_out(app, answered):
    round_id, _first, _second = answered
    with app.app_context():
        with_bom = export_bytes(round_id)
        long_with_bom = export_bytes(round_id, "long")
        plain = export_bytes(round_id, bom=False)
    assert with_bom.startswith(b"\xef\xbb\xbf") and long_with_bom.startswith(b"\xef\xbb\xbf")
    assert with_bom[3:] == plain and not plain.startswith(b"\xef\xbb\xbf")
    assert read_csv(with_bom).columns[0] == "response_id"
    assert with_bom.decode("utf-8-sig").startswith("response_id,")


def test_long_csv_has_one_row_per_answer(app, answered):
    round_id, first, second = answered
    with app.app_context():
        frame = read_csv(export_bytes(round_id, "long"))
        french = read_csv(export_bytes(round_id, "long", labels="fr"))
    assert list(frame.columns) == ["response_id", "question", "option", "value", "label"]
    mine = frame[frame["response_id"] == str(first)]
    rows = [tuple(row) for row in mine[["question", "option", "value", "label"]].itertuples(index=False)]
    assert rows == [
        ("colour", "", "other", "Other"),
        ("colour_other", "", "Vert émeraude", ""),
        ("fruits", "apple", "1", "Apple"),
        ("fruits", "cherry", "1", "Cherry"),
        ("fruits", "other", "1", "Other"),
        ("fruits_other", "", "Kiwi", ""),
        ("priorities", "news", "1", "Newsletter"),
        ("priorities", "events", "2", "Events"),
        ("priorities", "web", "3", "Website"),
        ("comment", "", "Très bien, « merci »", ""),
        ("staff", "", "-5", ""),
        ("budget", "", "12.5", ""),
        ("founded", "", "2001-02-03", ""),
        ("recommend", "", "9", ""),
        ("category", "", "yes", "Yes"),
    ]
    theirs = frame[frame["response_id"] == str(second)]
    assert list(theirs["question"]) == ["colour", "fruits", "why_red"]
    assert list(french[french["response_id"] == str(first)]["label"])[:3] == ["Autre", "", "Pomme"]
    assert list(french["value"]) == list(frame["value"])


def test_xlsx_has_responses_and_codebook(app, answered):
    round_id, first, _second = answered
    with app.app_context():
        data = export_bytes(round_id, "xlsx")
        csv_frame = read_csv(export_bytes(round_id))
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["responses", "codebook"]
    rows = list(workbook["responses"].iter_rows(values_only=True))
    assert list(rows[0]) == list(csv_frame.columns)
    one = dict(zip(rows[0], rows[1]))
    assert one["response_id"] == first
    assert one["staff"] == -5 and one["budget"] == 12.5 and one["recommend"] == 9
    assert one["fruits/pear"] == 0 and one["priorities/web"] == 3
    assert (
        one["organisation"] == "Ministère du Travail – Sénégal" and one["comment"] == "Très bien, « merci »"
    )
    assert len(rows) == 3

    codebook = list(workbook["codebook"].iter_rows(values_only=True))
    assert codebook[0] == ("name", "type", "choice", "label::en", "label::fr", "relevant", "columns")
    by_name = {row[0]: row for row in codebook if row[2] is None}
    assert by_name["why_red"][1:6] == ("text", None, "Why red?", "Pourquoi rouge ?", "${colour} = 'red'")
    assert by_name["fruits"][1] == "select_multiple fruit or_other"
    assert by_name["fruits"][6] == "fruits fruits/apple fruits/pear fruits/cherry fruits/other fruits_other"
    assert by_name["priorities"][6] == "priorities/web priorities/news priorities/events"
    assert "intro" not in by_name  # notes hold no answers
    choices = [row for row in codebook if row[0] == "priorities" and row[2]]
    assert choices == [
        ("priorities", None, "web", "Website", "Site web", None, None),
        ("priorities", None, "news", "Newsletter", "Lettre d'information", None, None),
        ("priorities", None, "events", "Events", "Événements", None, None),
    ]


DANGEROUS = {
    "colour": "other",
    "colour_other": '=HYPERLINK("http://evil.example","x")',
    "fruits": "other",
    "fruits_other": "+1+1",
    "comment": "-5",
    "why_red": "@SUM(A1)",
    "staff": "-5",
    "budget": "-0.5",
    "founded": "2001-02-03",
}


def test_formula_injection_is_neutralised_in_csv_and_xlsx(app):
    with app.app_context():
        round_, invitations = round_with(2)
        round_.name = "=Round 1"
        invitations[1].contact.organisation.name = "\tTabbed ministry"
        db.session.commit()
        answer(invitations[0], DANGEROUS)
        answer(invitations[1], {"colour": "red", "why_red": "\rcarriage"})
        csv_frame = read_csv(export_bytes(round_.id))
        long_frame = read_csv(export_bytes(round_.id, "long"))
        workbook = openpyxl.load_workbook(io.BytesIO(export_bytes(round_.id, "xlsx")))
    one, two = csv_frame.iloc[0], csv_frame.iloc[1]
    assert one["round"] == "'=Round 1"
    assert one["colour_other"] == '\'=HYPERLINK("http://evil.example","x")'
    assert one["fruits_other"] == "'+1+1"
    assert one["comment"] == "'-5"  # text that looks like a number is still text
    assert one["staff"] == "-5" and one["budget"] == "-0.5"  # numeric answers are data
    assert two["organisation"] == "'\tTabbed ministry" and two["why_red"] == "'\rcarriage"
    values = set(long_frame["value"])
    assert "'+1+1" in values and "'@SUM(A1)" in values and "-5" in values and "'-5" in values

    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_STARTS), (sheet.title, cell.coordinate)
    rows = list(workbook["responses"].iter_rows(values_only=True))
    one_xlsx = dict(zip(rows[0], rows[1]))
    assert one_xlsx["staff"] == -5 and one_xlsx["budget"] == -0.5 and one_xlsx["comment"] == "'-5"
    assert one_xlsx["round"] == "'=Round 1"


def test_headers_are_neutralised_too(app, answered):
    """Question names cannot start with = in an XLSForm, but a header is neutralised whatever it holds."""
    round_id, _first, _second = answered
    definition = survey(page("p", question("=cmd", "text"), question("-x", "select_multiple", "@a", "b")))
    with app.app_context():
        responses = iter_responses(db.session, round_id, definition)
        header = next(Export(round_id, "Round", definition).rows(responses))
    assert header[-4:] == ["'=cmd", "'-x", "'-x/@a", "'-x/b"]
    assert all(not str(cell).startswith(FORMULA_STARTS) for cell in header)


def test_control_characters_do_not_break_the_workbook(app):
    with app.app_context():
        round_, invitations = round_with(1)
        answer(invitations[0], {"comment": "bell\x07 and escape\x1b end"})
        workbook = openpyxl.load_workbook(io.BytesIO(export_bytes(round_.id, "xlsx")))
        csv_frame = read_csv(export_bytes(round_.id))
    rows = list(workbook["responses"].iter_rows(values_only=True))
    assert dict(zip(rows[0], rows[1]))["comment"] == "bell and escape end"
    assert csv_frame.iloc[0]["comment"] == "bell\x07 and escape\x1b end"


def test_empty_round_exports_headers_only(app):
    with app.app_context():
        round_, _invitations = round_with(2)
        frame = read_csv(export_bytes(round_.id))
        long_frame = read_csv(export_bytes(round_.id, "long"))
        workbook = openpyxl.load_workbook(io.BytesIO(export_bytes(round_.id, "xlsx")))
    assert list(frame.columns) == META + QUESTIONS and frame.empty
    assert long_frame.empty
    assert workbook["responses"].max_row == 1


def test_prepare_refuses_unknown_round_and_format(app, answered):
    round_id, _first, _second = answered
    with app.app_context():
        with pytest.raises(LookupError):
            prepared(999)
        with pytest.raises(ValueError):
            prepared(round_id, "pdf")
        export = prepared(round_id, "long", labels="fr", anonymised=True)
    assert export.filename == f"round-{round_id}-test-round-answers-long-fr-anonymised.zip"
    assert export.mimetype == "application/zip"


# -- downloads ---------------------------------------------------------------------------------------------


def audit_entries(app) -> list[AuditEntry]:
    with app.app_context():
        entries = db.session.scalars(db.select(AuditEntry).filter_by(action="responses.export")).all()
        db.session.remove()
        return entries


@pytest.mark.parametrize(
    "path, format_, filename",
    [
        ("export.csv", "csv", "responses.csv"),
        ("export-long.csv", "long", "answers-long.csv"),
        ("export.xlsx", "xlsx", "responses.xlsx"),
    ],
)
def test_analyst_downloads_a_streamed_export(app, client, answered, path, format_, filename):
    round_id, first, _second = answered
    signed_in(client, "analyst")
    response = client.get(f"/secretariat/rounds/{round_id}/{path}", buffered=False)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="round-{round_id}-test-round-{filename}"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    entries = audit_entries(app)  # committed before the first byte is read
    assert [(e.actor, e.target, e.details["format"]) for e in entries] == [
        (ANALYST[0], f"round {round_id}", format_)
    ]
    data = response.get_data()
    if format_ == "xlsx":
        assert response.mimetype == exports.MIMETYPES["xlsx"]
        rows = list(openpyxl.load_workbook(io.BytesIO(data))["responses"].iter_rows(values_only=True))
        assert rows[1][0] == first
    else:
        assert response.mimetype == "text/csv"
        assert read_csv(data)["response_id"].iloc[0] == str(first)
    response.close()


def test_download_options_from_the_query(app, client, answered):
    round_id, _first, _second = answered
    signed_in(client, "analyst")
    response = client.get(f"/secretariat/rounds/{round_id}/export.csv?labels=fr&bom=0&anonymised=1")
    assert response.mimetype == "application/zip"
    readme, name, data = unzipped(response.get_data())
    assert name.endswith("-responses-fr-anonymised.csv") and not data.startswith(exports.BOM)
    assert "Réponses anonymisées" in readme or "Anonymised" in readme
    frame = read_csv(data)
    assert "organisation" not in frame.columns
    assert response.headers["Content-Disposition"].endswith('-responses-fr-anonymised.zip"')
    assert audit_entries(app)[0].details == {"format": "csv", "name": "Test round", "labels": "fr", "without_bom": True,
                                             "anonymised": True, "threshold": 5}


def test_download_needs_sign_in(app, client, answered):
    round_id, _first, _second = answered
    response = client.get(f"/secretariat/rounds/{round_id}/export.csv")
    assert response.status_code in (302, 303)
    assert "/sign-in" in response.headers["Location"]
    assert audit_entries(app) == []


def test_download_of_unknown_round_or_language(app, client, answered):
    round_id, _first, _second = answered
    signed_in(client, "analyst")
    assert client.get("/secretariat/rounds/999/export.csv").status_code == 404
    bad = client.get(f"/secretariat/rounds/{round_id}/export.xlsx?labels=xx")
    assert bad.status_code == 400
    assert "not in a language of this survey" in bad.get_data(as_text=True)
    assert audit_entries(app) == []


# -- command line ------------------------------------------------------------------------------------------


def test_cli_exports_each_format(app, runner, answered, tmp_path):
    round_id, first, _second = answered
    out = tmp_path / "responses.csv"
    result = runner.invoke(
        args=[
            "responses",
            "export",
            str(round_id),
            "--out",
            str(out),
            "--labels",
            "fr",
            "--no-bom",
            "--anonymised",
        ]
    )
    assert result.exit_code == 0, result.output
    readme, _name, data = unzipped(out.read_bytes())
    assert not data.startswith(exports.BOM) and "Questions removed: colour_other, fruits_other, comment" in readme
    frame = read_csv(data)
    assert "organisation" not in frame.columns and "comment" not in frame.columns
    assert f"Wrote {out}" in result.output

    def export(fmt: str, name: str):
        out = tmp_path / name
        result = runner.invoke(args=["responses", "export", str(round_id), "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        return out

    assert read_csv(export("long", "long.csv").read_bytes())["response_id"].iloc[0] == str(first)
    xlsx_out = export("xlsx", "responses.xlsx")
    assert openpyxl.load_workbook(xlsx_out).sheetnames == ["responses", "codebook"]
    assert [e.actor for e in audit_entries(app)] == ["cli", "cli", "cli"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["999"], "There is no round 999."),
        (["{round}", "--labels", "de"], "labels must be one of the survey's languages: en, fr"),
        (["{round}", "--format", "pdf"], "Invalid value for '--format'"),
    ],
)
def test_cli_refuses_bad_requests(app, runner, answered, tmp_path, args, message):
    round_id, _first, _second = answered
    out = tmp_path / "out.csv"
    result = runner.invoke(
        args=["responses", "export", *[a.format(round=round_id) for a in args], "--out", str(out)]
    )
    assert result.exit_code != 0
    assert message in result.output
    assert not out.exists()
    assert audit_entries(app) == []
