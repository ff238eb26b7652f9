"""What an Excel user meets: BOM on every CSV, a workbook with frozen header, filter, dates and numbers; and an
anonymised export with no identifying field and no partner group under the threshold."""

import io
from collections import Counter
from datetime import UTC, datetime

import openpyxl
import pytest

from analysis.anonymisation import OTHER, plan
from analysis.exports import Export, Number, as_code
from analysis.frames import Respondent
from surveys.definition import Choice
from tests.analysis.builders import page, question, survey
from tests.analysis.test_exports import export_bytes, read_csv, unzipped
from tests.analysis.test_loader import FULL, answer, round_with
from tests.conftest import signed_in


def test_workbook_has_frozen_header_filter_real_dates_and_numbers(app):
    with app.app_context():
        round_, invitations = round_with(2)
        first = answer(invitations[0], FULL, language="fr")
        answer(invitations[1], {"colour": "red"}, status="in_progress")
        data = export_bytes(round_.id, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data))["responses"]
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}3"
    one = {name: cell for name, cell in zip(header, sheet[2])}
    assert one["response_id"].value == first.id and one["response_id"].data_type == "n"
    assert one["started_at"].is_date and one["started_at"].value == datetime(2026, 11, 20, 9, 5, 7)
    assert one["submitted_at"].is_date and one["submitted_at"].value == datetime(2026, 11, 25, 13, 40)
    assert one["founded"].is_date and one["founded"].value == datetime(2001, 2, 3)
    assert one["staff"].value == -5 and one["budget"].value == 12.5 and one["fruits/pear"].data_type == "n"
    two = {name: cell.value for name, cell in zip(header, sheet[3])}
    assert two["started_at"] == datetime(2026, 11, 20, 9, 5, 7) and two["submitted_at"] is None  # in progress


def test_scale_codes_are_numbers_with_a_labelled_column_when_asked():
    scale = question("service", "select_one", "1", "5")
    scale.label = {"en": "Service", "fr": "Service"}
    scale.choices = [Choice("1", {"en": "Very dissatisfied", "fr": "Très insatisfait"}),
                     Choice("5", {"en": "Very satisfied", "fr": "Très satisfait"})]
    definition = survey(page("p", scale))
    definition.languages = ["en", "fr"]
    respondent = Respondent(1, 1, "Org", "government", "global", None, False, "", False, "submitted", "en",
                            datetime(2026, 1, 2, tzinfo=UTC), None)
    coded = list(Export(1, "R", definition).rows([(respondent, {"service": "5"})]))
    labelled = list(Export(1, "R", definition, labels="fr").rows([(respondent, {"service": "5"})]))
    assert coded[0][-1] == "service" and coded[1][-1] == "5" and coded[1][-1].value() == 5  # a number in XLSX
    assert labelled[0][-2:] == ["Service [service]", "Service [service_label]"]
    assert labelled[1][-2:] == ["5", "Très satisfait"] and isinstance(labelled[1][-2], Number)
    assert not isinstance(as_code("007"), Number) and not isinstance(as_code("na"), Number) and as_code(None) is None


@pytest.mark.parametrize("path", ["export.csv", "export-long.csv", "report/suppression-log.csv"])
def test_every_csv_download_starts_with_a_bom_unless_opted_out(app, client, path):
    with app.app_context():
        round_, invitations = round_with(2)
        answer(invitations[0], FULL)
        round_id = round_.id
    signed_in(client, "analyst")
    response = client.get(f"/secretariat/rounds/{round_id}/{path}")
    if response.status_code == 404:
        pytest.fail(f"no such download: {path}")
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    assert not client.get(f"/secretariat/rounds/{round_id}/{path}?bom=0").get_data().startswith(b"\xef\xbb\xbf")


def respondent(rid, category, region="global", pathfinder=False, language="en"):
    return Respondent(rid, rid, f"Org {rid}", category, region, "GH", pathfinder, "", False, "submitted",
                      language, datetime(2026, 1, 2, 3, 4, tzinfo=UTC), datetime(2026, 1, 3, 4, 5, tzinfo=UTC))


def test_plan_merges_rare_values_and_removes_columns_still_under_the_threshold():
    definition = survey(page("p", question("comment", "text")))
    people = ([respondent(i, "government") for i in range(6)] + [respondent(10 + i, "un") for i in range(3)]
              + [respondent(20 + i, "igo") for i in range(2)] + [respondent(30, "academia", region="africa")])
    decided = plan(people, definition, threshold=5)
    assert decided.kept == ["category", "pathfinder", "language"]
    assert decided.merged == {"category": ["academia", "igo", "un"]}
    assert decided.removed_groups == ["region"]  # africa alone: one respondent even merged
    assert decided.removed_questions == ["comment"]
    assert decided.shown("category", "un") == OTHER and decided.shown("category", "government") == "government"
    readme = decided.readme("2026 review")
    assert "category: academia, igo, un merged into \"other\"" in readme
    assert "Partner columns removed (a group would have had fewer than 5 respondents): region" in readme


def test_plan_drops_a_column_whose_combination_with_others_is_too_small():
    people = ([respondent(i, "government", language="en") for i in range(4)] + [respondent(5, "government", language="fr")]
              + [respondent(10 + i, "un", language="fr") for i in range(4)] + [respondent(20, "un", language="en")])
    decided = plan(people, survey(page("p", question("staff", "integer"))), threshold=5)
    combinations = Counter(tuple(decided.shown(n, getattr(p, n)) for n in decided.kept) for p in people)
    assert min(combinations.values()) >= 5
    assert decided.merged == {}  # each value alone has 5 respondents, but government in French has 1
    assert decided.kept == ["category", "region", "pathfinder"] and decided.removed_groups == ["language"]


def test_too_few_respondents_keep_no_partner_column():
    decided = plan([respondent(1, "government")], survey(page("p", question("n", "integer"))), 5)
    assert decided.kept == [] and decided.removed_groups == ["category", "region", "pathfinder", "language"]


def test_anonymised_export_has_no_identifying_field_and_no_small_group(app, client):
    with app.app_context():
        round_, invitations = round_with(12)  # 6 civil_society, 6 government; one in Africa, Pathfinder, French
        full_ids = {answer(inv, FULL, language="fr" if i == 0 else "en").id for i, inv in enumerate(invitations)}
        round_id = round_.id
    app.config["SUPPRESSION_THRESHOLD"] = 5
    signed_in(client, "analyst")
    readme, name, data = unzipped(client.get(f"/secretariat/rounds/{round_id}/export.csv?anonymised=1").get_data())
    assert name == f"round-{round_id}-test-round-responses-anonymised.csv"
    frame = read_csv(data)
    for field in ("organisation", "country", "region", "pathfinder", "language", "comment", "colour_other",
                  "fruits_other", "partner_category"):
        assert field not in frame.columns
    text = data.decode("utf-8-sig")
    for identifying in ("Ministère", "Partner 1", "SN", "Contact", "@example.org", "Vert émeraude", "Kiwi", "merci"):
        assert identifying not in text
    assert Counter(frame["category"]) == {"civil_society": 6, "government": 6}  # the registry's, not the answer
    assert set(frame["started_at"]) == {"2026-11-20"} and set(frame["submitted_at"]) == {"2026-11-25"}
    assert not set(frame["response_id"]) & {str(i) for i in full_ids} and frame["response_id"].is_unique
    assert "Questions removed: colour_other, fruits_other, comment, category" in readme
    assert "region, pathfinder, language" in readme

    xlsx_readme, xlsx_name, workbook_bytes = unzipped(
        client.get(f"/secretariat/rounds/{round_id}/export.xlsx?anonymised=1").get_data())
    sheet = openpyxl.load_workbook(io.BytesIO(workbook_bytes))["responses"]
    header = [cell.value for cell in sheet[1]]
    assert header[:5] == ["response_id", "round", "category", "status", "started_at"]
    assert sheet.cell(2, 5).value == datetime(2026, 11, 20) and sheet.cell(2, 5).number_format == "yyyy-mm-dd"
    assert xlsx_name.endswith(".xlsx") and xlsx_readme == readme

    long_readme, _name, long_data = unzipped(
        client.get(f"/secretariat/rounds/{round_id}/export-long.csv?anonymised=1").get_data())
    long = read_csv(long_data)
    assert long_readme == readme
    assert not set(long["question"]) & {"comment", "colour_other", "fruits_other", "category"}
    assert not set(long["response_id"]) & {str(i) for i in full_ids}


def test_labelled_download_titles_every_header_in_the_labels_language(app, client, runner, tmp_path):
    with app.app_context():
        round_, invitations = round_with(2)
        answer(invitations[0], FULL)
        round_id = round_.id
    signed_in(client, "analyst")
    response = client.get(f"/secretariat/rounds/{round_id}/export.xlsx?labels=fr", headers={"Accept-Language": "en"})
    header = [cell.value for cell in openpyxl.load_workbook(io.BytesIO(response.get_data()))["responses"][1]]
    assert header[:4] == ["Identifiant de réponse [response_id]", "Cycle [round]", "Organisation [organisation]",
                          "Catégorie de partenaire [partner_category]"]
    assert header[9:11] == ["Commencée (UTC) [started_at]", "Envoyée (UTC) [submitted_at]"]
    assert all(title.endswith("]") for title in header)
    plain = read_csv(client.get(f"/secretariat/rounds/{round_id}/export.csv").get_data())
    assert list(plain.columns[:2]) == ["response_id", "round"]  # codes when no labels are asked for

    out = tmp_path / "fr.csv"
    assert runner.invoke(args=["responses", "export", str(round_id), "--labels", "fr", "--out", str(out)]).exit_code == 0
    assert list(read_csv(out.read_bytes()).columns) == header
