"""Bad input changes nothing: a 4xx with a message the sender can act on, and the database as it was."""

import io
import re
import zipfile
from pathlib import Path

import pytest

from engagement.extensions import db
from surveys.models import Round
from tests.conftest import HtmxClient
from tests.factories import invited_partner, survey_from_yaml
from tests.security.conftest import snapshot, started

EVERY_TYPE = (Path(__file__).parents[1] / "surveys" / "every_type.yaml").read_text()


@pytest.fixture
def partner(app, client):
    """A partner (Pathfinder, so every page shows) mid-way through the every-type survey."""
    with app.app_context():
        round_, token = invited_partner(survey_from_yaml(EVERY_TYPE))
    started(app, client, token)
    return token, round_.id


def refused(app, client, url, data, status, message, htmx=True, tables=None, **kwargs):
    """POST, expect `status` with `message`, and no change to the database (or to `tables` of it)."""
    before = snapshot(app)
    response = client.post(url, data, htmx=htmx, **kwargs)
    body = response.get_data(as_text=True)
    assert response.status_code == status, (url, data, response.status_code, body[:300])
    assert message in body, (message, body[-800:])
    after = snapshot(app)
    for table in tables or after:
        assert after[table] == before[table], (url, data, table)
    return response


BAD_ANSWERS = [
    ("staff", {"staff": "twelve"}, "Please enter a whole number."),
    ("staff", {"staff": "1e5"}, "Please enter a whole number."),
    ("staff", {"staff": "9" * 40}, "Please enter a whole number."),
    ("staff", {"staff": "-5"}, "Between 0 and 100000"),
    ("share", {"share": "0,5,5"}, "Please enter a number."),
    ("share", {"share": "NaN"}, "Please enter a number."),
    ("joined", {"joined": "2026-02-30"}, "Please enter a date as YYYY-MM-DD."),
    ("member", {"member": "maybe"}, "Please choose one of the options shown."),
    ("reasons", {"reasons": ["evidence", "nonsense"], "reasons__present": "1"}, "Please choose among the options"),
    ("reasons", {"reasons": ["evidence", "evidence"], "reasons__present": "1"}, "Please choose among the options"),
    ("reasons", {"reasons": ["evidence", "network", "advocacy"], "reasons__present": "1"}, "Choose up to two"),
    ("recommend", {"recommend": "11"}, "Please choose a value between 0 and 10."),
    ("recommend", {"recommend": "2.5"}, "Please choose a value between 0 and 10."),
    ("recommend", {"recommend": "inf"}, "Please choose a value between 0 and 10."),
    ("top", {"top[web]": "1", "top[news]": "1", "top[events]": "2"}, "Please give each option a different position"),
    ("top", {"top[web]": "1", "top[news]": "2", "top[events]": "4"}, "Please give each option a different position"),
    ("top", {"top[web]": "1", "top[news]": "x", "top[events]": "2"}, "Please give each option a different position"),
    ("top", {"top": "web web news"}, "Please give each option a different position"),
    ("why_member", {"why_member": "x" * 5001}, "Please keep this answer under"),
]


@pytest.mark.parametrize("question, data, message", BAD_ANSWERS,
                         ids=[f"{q}-{i}" for i, (q, _d, _m) in enumerate(BAD_ANSWERS)])
def test_invalid_answers_are_refused_with_their_message(app, client, partner, question, data, message):
    token, _round_id = partner
    if question == "why_member":  # shown only to members
        assert client.post(f"/s/{token}/answer/member", {"member": "yes"}, htmx=True).status_code == 200
    refused(app, client, f"/s/{token}/answer/{question}", data, 422, message)
    # The same through the page form (no JavaScript): the page again, with the message, nothing stored.
    page = {"second": ("recommend", "top"), "first": ("staff", "share", "joined", "member", "reasons", "why_member")}
    name = next(p for p, names in page.items() if question in names)
    # (The page form remembers where the partner is, so only the answers must stay as they were.)
    refused(app, client, f"/s/{token}/page/{name}", {**data, "action": "next"}, 422, message, htmx=False,
            tables=["answers"])


def test_an_unknown_question_is_404_with_a_message(app, client, partner):
    token, _round_id = partner
    refused(app, client, f"/s/{token}/answer/no_such_question", {"no_such_question": "1"}, 404,
            "There is no such question in this survey.")
    refused(app, client, f"/s/{token}/answer/intro", {"intro": "1"}, 404,
            "There is no such question in this survey.")  # a note takes no answer
    before = snapshot(app)
    extra = client.post(f"/s/{token}/page/first", {"member": "no", "not_a_question": "x", "staff__present": "1",
                                                   "action": "save"})
    assert extra.status_code == 303
    after = snapshot(app)
    assert "not_a_question" not in repr(after["answers"])
    assert after != before  # the real answer on the form was saved


def test_an_answer_to_a_hidden_question_is_refused(app, client, partner):
    token, _round_id = partner
    refused(app, client, f"/s/{token}/answer/why_member", {"why_member": "because"}, 422,
            "This question is not shown for your answers")
    before = snapshot(app)
    client.post(f"/s/{token}/page/first", {"member": "no", "why_member": "sneaked in", "action": "save"})
    assert "sneaked in" not in repr(snapshot(app)["answers"])
    assert snapshot(app) != before


def test_answers_after_the_round_closed_are_refused(app, client, partner):
    token, round_id = partner
    with app.app_context():
        db.session.get(Round, round_id).status = "closed"
        db.session.commit()
    for url, data in ((f"/s/{token}/answer/staff", {"staff": "5"}),
                      (f"/s/{token}/page/first", {"staff": "5", "action": "next"}),
                      (f"/s/{token}/submit", {})):
        refused(app, client, url, data, 410, "This survey round has closed.")


def test_an_oversized_request_is_413_and_changes_nothing(app, client, partner):
    token, _round_id = partner
    huge = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1024)
    refused(app, client, f"/s/{token}/answer/why_member", {"why_member": huge}, 413, "What you sent is too large")
    refused(app, client, f"/s/{token}/page/first", {"why_member": huge, "action": "next"}, 413,
            "What you sent is too large", htmx=False)


def test_a_partner_post_over_64_kb_is_refused_before_its_form_is_read(app, client, partner, monkeypatch):
    """A 4 MB body to any /s/... URL (a real link or a random one) is refused by its declared length: the form
    parser never runs, so it costs no CPU, and changes nothing."""
    from werkzeug.formparser import FormDataParser

    token, _round_id = partner

    def parse_nothing(*args, **kwargs):
        raise AssertionError("the oversized form was parsed")

    monkeypatch.setattr(FormDataParser, "parse", parse_nothing)
    body = "why_member=" + "x" * (4 * 1024 * 1024)  # under MAX_CONTENT_LENGTH, far over a partner page
    for url in (f"/s/{token}/answer/why_member", f"/s/{token}/page/first", f"/s/{'B' * 43}/answer/why_member"):
        refused(app, client, url, body, 413, "What you sent is too large",
                content_type="application/x-www-form-urlencoded")
    monkeypatch.undo()
    assert client.post(f"/s/{token}/answer/why_member", {"why_member": "x" * 5000, "why_member__present": "1"},
                       htmx=True).status_code == 422  # a long answer still gets its own message


def test_a_bad_return_address_on_the_language_switch_goes_to_the_welcome_page(app, client, partner):
    token, _round_id = partner
    for back in (f"/s/{token}/review\r\nSet-Cookie: x=1", "//evil.example",
                 f"/s/{token}/%0d%0a", f"/s/{token}/../../secretariat", f"/s/{token}/review\n"):
        response = client.post(f"/s/{token}/language", {"language": "fr", "next": back})
        assert response.status_code == 303, back
        assert response.headers["Location"] == f"/s/{token}", back
    assert client.post(f"/s/{token}/language", {"language": "en", "next": f"/s/{token}/review"}
                       ).headers["Location"] == f"/s/{token}/review"


def test_an_oversized_upload_is_413(app, admin):
    big = io.BytesIO(b"organisation\n" + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1024))
    admin.get("/partners/import")
    refused(app, admin, "/partners/import", {"file": (big, "partners.csv")}, 413, "What you sent is too large",
            htmx=False, content_type="multipart/form-data")


def zip_bomb(size_mb: int = 300) -> bytes:
    """A small zip that looks like an .xlsx and whose sheet expands to `size_mb` MB of valid-looking XML."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook><sheets><sheet name="survey" '
                                            'sheetId="1"/></sheets></workbook>')
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0"?><worksheet><sheetData>')
            chunk = b"<row><c><v>1</v></c></row>" * (1024 * 1024 // 26)
            for _ in range(size_mb):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = zip_bomb()
    assert len(data) < 2 * 1024 * 1024  # small enough to pass MAX_CONTENT_LENGTH: the importers must refuse it
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sum(m.file_size for m in archive.infolist()) > 250 * 1024 * 1024
    return data


def test_a_zip_bomb_disguised_as_xlsx_is_refused_by_the_survey_importer(app, admin, bomb):
    admin.get("/secretariat/surveys")
    for htmx in (False, True):
        refused(app, admin, "/secretariat/surveys", {"file": (io.BytesIO(bomb), "survey.xlsx")}, 422,
                "expands to far more data than a survey form holds", htmx=htmx, content_type="multipart/form-data")


def test_a_zip_bomb_is_refused_by_the_partner_csv_import(app, admin, bomb):
    admin.get("/partners/import")
    for name in ("partners.csv", "partners.xlsx"):
        refused(app, admin, "/partners/import", {"file": (io.BytesIO(bomb), name)}, 422,
                "This is an Excel workbook, not a CSV file.", htmx=False, content_type="multipart/form-data")


MALFORMED_SURVEYS = [
    ("random.xlsx", b"\x00\x01 not a zip at all", "is not a valid .xlsx workbook"),
    ("truncated.xlsx", zipfile.ZipFile.__doc__.encode()[:10] + b"PK\x03\x04" + b"\x00" * 20, "not a valid .xlsx"),
    ("empty.xlsx", b"", "problem"),
    ("bad.yaml", b"survey: [unclosed", "problem"),
    ("bad.yaml", b"- just\n- a list\n", "problem"),
    ("survey.exe", b"MZ", "Choose an .xlsx, .xls or .yaml file."),
]


@pytest.mark.parametrize("name, data, message", MALFORMED_SURVEYS, ids=[f"{n}-{i}" for i, (n, _d, _m)
                                                                          in enumerate(MALFORMED_SURVEYS)])
def test_malformed_survey_files_are_refused(app, admin, name, data, message):
    admin.get("/secretariat/surveys")
    refused(app, admin, "/secretariat/surveys", {"file": (io.BytesIO(data), name)}, 422, message, htmx=False,
            content_type="multipart/form-data")


MALFORMED_CSV = [
    (b"", "The file is empty."),
    (b"\xff\xfeo\x00r\x00g\x00", "The file is in UTF-16."),
    (b"organisation,category\n\xe9t\xe9,un\n", "The file is not UTF-8 text"),
    (b"name;x\n1;2\n", "The first line must name the columns"),
    (b"organisation,category,country,pathfinder,action_groups,gcg_member,contact_name,contact_email,language\n",
     "The file has a header but no rows."),
    ((b'organisation,category,country,pathfinder,action_groups,gcg_member,contact_name,contact_email,language\n'
     b'"unclosed,un,CH,no,,no,A,a@example.org,en\n'), "the category is missing"),  # one quoted cell to the end
    (b"\x00\x00\x00binary", "This is not a CSV file."),
]


@pytest.mark.parametrize("data, message", MALFORMED_CSV, ids=[m[:20] for _d, m in MALFORMED_CSV])
def test_malformed_csv_files_are_refused(app, admin, data, message):
    admin.get("/partners/import")
    refused(app, admin, "/partners/import", {"file": (io.BytesIO(data), "partners.csv")}, 422, message,
            htmx=False, content_type="multipart/form-data")


def test_refusals_are_readable_as_htmx_fragments(app, demo):
    client = HtmxClient(app.test_client())
    token = next(iter(demo[1].values()))
    started(app, client, token)
    response = client.post(f"/s/{token}/answer/no_such_question", {"x": "1"}, htmx=True)
    assert response.status_code == 404
    assert 'id="error-message"' in response.get_data(as_text=True)
    assert "<html" not in response.get_data(as_text=True)


HUGE = "99999999999999999999"  # past 64 bits: SQLite and PostgreSQL refuse it as an integer


def test_an_id_larger_than_any_in_the_database_is_404_not_a_server_error(app, admin):
    """Every secretariat URL with a number in its path, asked for with one that overflows the database's integers."""
    tables = snapshot(app)
    asked = 0
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = re.sub(r"<int:\w+>", HUGE, rule.rule).replace("<table_key>", "x").replace("<token>", "x")
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = admin.get(url) if method == "GET" else admin.post(url, {"confirm": "yes"})
            assert response.status_code == 404, (method, url, response.status_code)
            asked += 1
    assert asked >= 15
    assert snapshot(app) == tables



@pytest.mark.parametrize("page", [HUGE, "2147483648", "-1", "0", "x", "9" * 400])
def test_a_page_number_out_of_range_is_never_a_server_error(app, admin, page):
    assert admin.get(f"/secretariat/audit?page={page}").status_code in (200, 404)
    listing = admin.get(f"/partners/?page={page}")
    assert listing.status_code == 200
    assert "Ministry of Labour of Ghana" in listing.get_data(as_text=True)  # the last (and only) page of the demo


@pytest.mark.parametrize("number", [HUGE, "²"])
def test_an_invitation_number_past_any_id_is_refused_not_a_server_error(app, admin, demo, number):
    admin.get(f"/secretariat/rounds/{demo[0]}")
    refused(app, admin, f"/secretariat/rounds/{demo[0]}/remind", {"invitation_id": number}, 422,
            "an invitation number is not valid")
