"""The Secretariat's survey pages: the list of surveys, uploading an XLSForm, a version's questionnaire."""

import io
from pathlib import Path

import pytest

from engagement.extensions import db
from surveys.models import SurveyVersion
from tests.conftest import signed_in
from tests.surveys.xlsform_builder import write_xlsform

EVERY_TYPE = (Path(__file__).parent / "every_type.yaml").read_bytes()


def versions(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(SurveyVersion.id)))


def test_upload_imports_and_shows_the_questionnaire(app, client):
    signed_in(client)
    client.get("/secretariat/surveys")
    response = client.post("/secretariat/surveys", data={"file": (io.BytesIO(EVERY_TYPE), "every_type.yaml")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Every type" in page and "${member} = &#39;yes&#39;" in page
    assert versions(app) == 1


def test_broken_upload_lists_every_problem_and_stores_nothing(app, client, tmp_path):
    signed_in(client)
    path = tmp_path / "broken.xlsx"
    write_xlsform(path, {"survey": [{"type": "audio", "name": "where", "label": "<b>Where</b>"},
                                    {"type": "select_one nolist", "name": "pick", "label": "Pick"}]})
    client.get("/secretariat/surveys")
    response = client.post("/secretariat/surveys", data={"file": (io.BytesIO(path.read_bytes()), "broken.xlsx")},
                           content_type="multipart/form-data", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "row 2, column type" in html and "row 3, column type" in html
    assert "<html" not in html  # the htmx fragment only
    assert versions(app) == 0


@pytest.mark.parametrize("name, content", [("notes.txt", b"hello"), ("fake.xlsx", b"PK\x03\x04 garbage")])
def test_wrong_files_are_refused(app, client, name, content):
    signed_in(client)
    client.get("/secretariat/surveys")
    response = client.post("/secretariat/surveys", data={"file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert versions(app) == 0


def test_analyst_reads_but_cannot_upload(app, client):
    signed_in(client, "analyst")
    page = client.get("/secretariat/surveys")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' not in page.get_data(as_text=True)
    response = client.post("/secretariat/surveys", data={"file": (io.BytesIO(EVERY_TYPE), "every_type.yaml")},
                           content_type="multipart/form-data")
    assert response.status_code == 403
    assert versions(app) == 0


def test_forgiving_reading_warnings_are_shown_on_the_version_page(app, client, tmp_path):
    signed_in(client)
    path = tmp_path / "forgiving.xlsx"
    write_xlsform(path, {"survey": [{"type": "start", "name": "start"}, {"type": "start-geopoint", "name": "where"},
                                    {"type": "text", "name": "a", "label": "A"},
                                    {"type": "text", "name": "b", "label": "B", "relevant": "${a} = \u2018yes\u2019"}]})
    client.get("/secretariat/surveys")
    response = client.post("/secretariat/surveys", data={"file": (io.BytesIO(path.read_bytes()), "forgiving.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 warning(s): see the version&#39;s page." in page
    assert "row 2 &#39;start&#39; (start), row 3 &#39;where&#39; (start-geopoint)" in page
    assert "row 5, column relevant: curly quotes in" in page
    assert versions(app) == 1
