"""Location questions (issue 16 §6): a geopoint is answered as a latitude and a longitude (ranges checked, a clear
message, nothing saved when wrong), with a "use my location" button for JavaScript, and exported as two numbers."""

import csv
import io

import openpyxl
import pytest

from surveys.versions import definition_for
from tests import factories

ROWS = factories.group("where", "Where", {"type": "geopoint", "name": "office", "label": "Where is your office?"},
                       {"type": "text", "name": "note", "label": "Anything else?"})


@pytest.fixture
def partner(client):
    return factories.started_partner(client, ROWS)


def post(client, token, latitude, longitude, **extra):
    return client.post(f"/s/{token}/page/where", data={"office__latitude": latitude, "office__longitude": longitude,
                                                       "action": "save", **extra})


def test_the_page_has_two_labelled_fields_and_a_hidden_location_button(client, partner):
    token, _round = partner
    page = client.get(f"/s/{token}/page/where").get_data(as_text=True)
    assert '<label for="f-office__latitude">Latitude</label>' in page
    assert '<label for="f-office__longitude">Longitude</label>' in page
    assert 'data-location-for="office"' in page and ">Use my location</button>" in page
    assert 'src="/static/js/location.js"' in page and "<script>" not in page  # self-hosted, no inline script


def test_a_location_is_saved_without_javascript_and_shown_again(app, client, partner):
    token, _round = partner
    assert post(client, token, "5,6037", "-0.187").status_code == 303
    assert factories.stored_answers(app)["office"] == "5.6037 -0.187"
    page = client.get(f"/s/{token}/page/where").get_data(as_text=True)
    assert 'name="office__latitude" value="5.6037"' in page and 'name="office__longitude" value="-0.187"' in page
    assert post(client, token, "", "").status_code == 303
    assert "office" not in factories.stored_answers(app)



def test_the_review_names_the_latitude_and_the_longitude(client, partner):
    token, _round = partner
    post(client, token, "5.6037", "-0.187")
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert '<span class="answer-value">Latitude 5.6037, longitude -0.187</span>' in review

def test_the_autosave_saves_a_location(app, client, partner):
    token, _round = partner
    client.get(f"/s/{token}/page/where")
    answer = client.post(f"/s/{token}/answer/office", data={"office__latitude": "-33.9", "office__longitude": "18.4"},
                         htmx=True)
    assert answer.status_code == 200 and "Saved" in answer.get_data(as_text=True)
    assert factories.stored_answers(app)["office"] == "-33.9 18.4"


@pytest.mark.parametrize(("latitude", "longitude", "message"), [
    ("91", "10", "The latitude must be a number between -90 and 90"),
    ("north", "10", "The latitude must be a number between -90 and 90"),
    ("10", "-180.5", "The longitude must be a number between -180 and 180"),
    ("10", "", "Give both the latitude and the longitude, or neither."),
    ("", "10", "Give both the latitude and the longitude, or neither."),
])
def test_a_wrong_location_is_refused_with_a_clear_message_and_nothing_changes(app, client, partner, latitude,
                                                                               longitude, message):
    token, _round = partner
    post(client, token, "5.6", "-0.2")
    refused = post(client, token, latitude, longitude)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert message in page
    assert f'name="office__latitude" value="{latitude}"' in page  # what the partner typed stays to be corrected
    assert factories.stored_answers(app)["office"] == "5.6 -0.2"


def test_exports_give_the_location_as_two_numbers(app, client, partner, analyst):
    token, round_id = partner
    post(client, token, "5.6037", "-0.187")
    wide = list(csv.DictReader(io.StringIO(analyst.get(f"/secretariat/rounds/{round_id}/export.csv?bom=0")
                                           .get_data(as_text=True))))
    assert (wide[0]["office_latitude"], wide[0]["office_longitude"]) == ("5.6037", "-0.187")
    assert "office" not in wide[0]
    long = analyst.get(f"/secretariat/rounds/{round_id}/export-long.csv?bom=0").get_data(as_text=True)
    rows = [row[1:4] for row in csv.reader(io.StringIO(long))]
    assert ["office", "latitude", "5.6037"] in rows and ["office", "longitude", "-0.187"] in rows
    book = openpyxl.load_workbook(io.BytesIO(analyst.get(f"/secretariat/rounds/{round_id}/export.xlsx").data))
    sheet = list(book["responses"].iter_rows(values_only=True))
    header = list(sheet[0])
    assert sheet[1][header.index("office_latitude")] == 5.6037
    assert sheet[1][header.index("office_longitude")] == -0.187


def test_the_older_gps_type_is_read_as_a_location(app):
    """Ona's and old ODK forms write `gps` for a geopoint (the children's survey among the real forms)."""
    with app.app_context():
        version = factories.survey_from_rows([{**row, "type": "gps"} if row["name"] == "office" else row
                                              for row in ROWS])
        assert definition_for(version).question("office").type == "geopoint"
