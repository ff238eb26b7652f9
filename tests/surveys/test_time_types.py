"""time, datetime and acknowledge/trigger questions (issue 16 §7/§8): answered through plain HTML inputs without
JavaScript, checked on the server (a clear message, nothing saved when wrong), and exported as written."""

import csv
import io

import pytest

from tests import factories

ROWS = factories.group(
    "when", "When", {"type": "time", "name": "arrival", "label": "When did you arrive?"},
    {"type": "dateTime", "name": "meeting", "label": "When is the meeting?"},
    {"type": "trigger", "name": "read", "label": "I have read the notice"})


@pytest.fixture
def partner(client):
    return factories.started_partner(client, ROWS)


def post(client, token, **fields):
    data = {"arrival__present": "1", "meeting__present": "1", "read__present": "1", "action": "save", **fields}
    return client.post(f"/s/{token}/page/when", data=data)


def test_the_page_has_time_datetime_and_tick_box_inputs(client, partner):
    token, _round = partner
    page = client.get(f"/s/{token}/page/when").get_data(as_text=True)
    assert '<input type="time" id="f-arrival" name="arrival"' in page
    assert '<input type="datetime-local" id="f-meeting" name="meeting"' in page
    assert '<input type="checkbox" id="f-read" name="read" value="OK"' in page


def test_answers_are_saved_without_javascript_and_exported(app, client, partner, analyst):
    token, round_id = partner
    assert post(client, token, arrival="09:30", meeting="2026-03-01T14:00", read="OK").status_code == 303
    assert factories.stored_answers(app) == {"arrival": "09:30", "meeting": "2026-03-01T14:00", "read": "OK"}
    page = client.get(f"/s/{token}/page/when").get_data(as_text=True)
    assert 'value="09:30"' in page and 'value="OK" checked' in page
    wide = list(csv.DictReader(io.StringIO(analyst.get(f"/secretariat/rounds/{round_id}/export.csv?bom=0")
                                           .get_data(as_text=True))))
    assert (wide[0]["arrival"], wide[0]["meeting"], wide[0]["read"]) == ("09:30", "2026-03-01T14:00", "OK")
    assert post(client, token, arrival="09:30", meeting="2026-03-01T14:00").status_code == 303  # box unticked
    assert "read" not in factories.stored_answers(app)


def test_a_wrong_time_is_refused_and_nothing_changes(app, client, partner):
    token, _round = partner
    post(client, token, arrival="09:30")
    refused = post(client, token, arrival="25:99")
    assert refused.status_code == 422
    assert "Please enter a time as HH:MM." in refused.get_data(as_text=True)
    assert factories.stored_answers(app)["arrival"] == "09:30"
