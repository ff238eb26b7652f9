"""`flask surveys import|list` and `flask demo`, as the Secretariat runs them."""

from pathlib import Path

from engagement.extensions import db
from surveys.models import Survey, SurveyVersion
from tests.surveys.xlsform_builder import write_xlsform

EVERY_TYPE = Path(__file__).parent / "every_type.yaml"


def count(app, model):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_import_prints_the_survey_id_and_a_second_import_is_a_new_version(app, runner):
    first = runner.invoke(args=["surveys", "import", str(EVERY_TYPE)])
    assert first.exit_code == 0, first.output
    assert first.output.strip().splitlines()[-1] == "1"
    second = runner.invoke(args=["surveys", "import", str(EVERY_TYPE)])
    assert second.exit_code == 0
    assert "version 2" in second.output
    assert count(app, Survey) == 1 and count(app, SurveyVersion) == 2
    listing = runner.invoke(args=["surveys", "list"])
    assert "every_type" in listing.output and "versions: 2" in listing.output


def test_xlsx_with_missing_translation_imports_with_a_warning(app, runner, tmp_path):
    path = tmp_path / "form.xlsx"
    write_xlsform(path, {
        "survey": [{"type": "select_one yn", "name": "ok", "label::English (en)": "OK?", "label::French (fr)": ""}],
        "choices": [{"list_name": "yn", "name": "yes", "label::English (en)": "Yes", "label::French (fr)": "Oui"},
                    {"list_name": "yn", "name": "no", "label::English (en)": "No", "label::French (fr)": "Non"}],
        "settings": [{"form_id": "small", "form_title": "Small"}],
    })
    result = runner.invoke(args=["surveys", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "row 2" in result.output


def test_broken_file_is_refused_with_one_message_per_problem_and_nothing_stored(app, runner, tmp_path):
    path = tmp_path / "broken.xlsx"
    write_xlsform(path, {
        "survey": [
            {"type": "audio", "name": "where", "label": "Record your answer"},
            {"type": "select_one nolist", "name": "pick", "label": "Pick"},
            {"type": "text", "name": "t", "label": "T", "relevant": "${missing} = 'x'"},
            {"type": "text", "name": "u", "label": "U", "constraint": ". >"},
        ],
        "settings": [{"form_id": "broken"}],
    })
    result = runner.invoke(args=["surveys", "import", str(path)])
    assert result.exit_code == 1
    for row, column in ((2, "type"), (3, "type"), (4, "relevant"), (5, "constraint")):
        assert f"row {row}, column {column}" in result.output, result.output
    assert "nothing was stored" in result.output
    assert count(app, Survey) == 0


def test_garbage_named_xlsx_is_refused_cleanly(app, runner, tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK\x03\x04 definitely not a workbook")
    result = runner.invoke(args=["surveys", "import", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert count(app, Survey) == 0


def test_demo_creates_everything_once_and_prints_links(empty_app):
    app, runner = empty_app, empty_app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert first.output.count("/s/") == 8
    assert "admin@alliance87.example" in first.output
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0
    assert count(app, Survey) == 1
