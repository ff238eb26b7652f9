"""Direction controls (the "Trojan Source" characters) make a name read differently from what it is, in pages,
emails and spreadsheets: they are stripped wherever a name, email or title comes in, and again in the registry's
and the invitations' exports."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from engagement.auth import create_user
from engagement.extensions import db
from engagement.models import User
from engagement.text import strip_bidi_controls
from partners.models import Contact, Organisation
from surveys.models import Round, Survey
from surveys.rounds import check_round, create_round
from surveys.versions import import_survey
from tests.factories import open_round_for, organisation, survey_from_rows
from tests.partners.conftest import csv_bytes

RLO, PDF, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"
EVERY_CONTROL = "".join(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))


def test_every_embedding_override_and_isolate_goes_and_the_marks_stay():
    assert strip_bidi_controls(f"A{EVERY_CONTROL}B") == "AB"
    assert strip_bidi_controls(f"Ministry{RLO}moc.live{PDF}") == "Ministrymoc.live"
    # Marks (LRM, RLM, ALM) reorder nothing by themselves, and right-to-left names mixed with Latin need them.
    assert strip_bidi_controls("\u200fوزارة العمل\u200e (2024)\u061c") == "\u200fوزارة العمل\u200e (2024)\u061c"
    assert strip_bidi_controls("Ministère du Travail") == "Ministère du Travail"
    assert strip_bidi_controls("") == "" and strip_bidi_controls(None) is None


def stored(app, model, **where):
    with app.app_context():
        return db.session.scalar(db.select(model).filter_by(**where))


def test_the_registry_forms_store_names_and_emails_without_them(app, admin):
    admin.get("/partners/new")
    response = admin.post("/partners/new", {
        "name": f"Ministry of {RLO}ruobaL{PDF}", "category": "government", "country": "Ghana",
        "contact_name": f"Ama {LRI}Mensah{PDI}", "contact_email": f"ama{RLO}@labour.example.org",
        "contact_language": "en"})
    assert response.status_code == 303
    assert stored(app, Organisation, name="Ministry of ruobaL") is not None
    contact = stored(app, Contact, email="ama@labour.example.org")
    assert contact.name == "Ama Mensah"
    organisation_id = stored(app, Organisation, name="Ministry of ruobaL").id
    admin.get(f"/partners/{organisation_id}")
    added = admin.post(f"/partners/{organisation_id}/contacts",
                       {"name": f"{RLO}Kofi", "email": f"kofi@{LRI}labour.example.org", "language": "en"})
    assert added.status_code in (200, 303)
    assert stored(app, Contact, email="kofi@labour.example.org").name == "Kofi"


def test_the_csv_import_stores_names_without_them(app, admin):
    data = csv_bytes(f"Survivor {RLO}ecnaillA,survivor,,no,,no,Sam {LRI}Lee{PDI},sam{RLO}@survivors.example.org,en")
    admin.get("/partners/import")
    preview = admin.post("/partners/import", {"file": (io.BytesIO(data), "partners.csv")},
                         content_type="multipart/form-data")
    assert preview.status_code == 200, preview.get_data(as_text=True)[-500:]
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    assert admin.post("/partners/import/confirm", {"payload": payload}).status_code == 303
    assert stored(app, Organisation, name="Survivor ecnaillA") is not None
    assert stored(app, Contact, email="sam@survivors.example.org").name == "Sam Lee"


def test_accounts_rounds_and_survey_titles_are_stored_without_them(app):
    with app.app_context():
        create_user(f"ops{RLO}@example.org", "a long enough password", "analyst")
        document = {"settings": {"form_id": "bidi", "form_title": f"Partner {RLO}yevrus"},
                    "survey": [{"type": "text", "name": "q", "label": "Q"}], "choices": []}
        version, _definition = import_survey(yaml.safe_dump(document).encode(), "bidi.yaml")
        closes = datetime.now(UTC).date() + timedelta(days=30)
        assert check_round(RLO + PDF, closes) == {"name": "missing"}
        create_round(version, f"2026 {LRI}review{PDI}", closes)
        db.session.commit()
    assert stored(app, User, email="ops@example.org") is not None
    assert stored(app, Survey, form_id="bidi").title == "Partner yevrus"
    assert stored(app, Round, name="2026 review") is not None


def test_the_round_page_stores_the_round_name_without_them(app, admin):
    with app.app_context():
        version = survey_from_rows([{"type": "text", "name": "q", "label": "Q"}])
        version_id = version.id
    admin.get("/secretariat/rounds/new")
    response = admin.post("/secretariat/rounds/new", {
        "survey_version": str(version_id), "name": f"{RLO}weiver 6202",
        "closes_on": (datetime.now(UTC).date() + timedelta(days=30)).isoformat(),
        "category": "", "region": "", "pathfinder": "", "action_group": ""})
    assert response.status_code == 303
    assert stored(app, Round, name="weiver 6202") is not None


@pytest.fixture
def stored_with_controls(app):
    """An organisation whose name was stored with direction controls before they were stripped, in an open round."""
    with app.app_context():
        organisation(f"{RLO}=HYPERLINK(1){PDF} Ministry", contacts=[(f"Ama {RLO}hsneM", "ama@example.org", "en")])
        open_round_for(survey_from_rows([{"type": "text", "name": "q", "label": "Q"}]))
        return db.session.scalar(db.select(Round.id).filter_by(name="Test round"))


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]


def test_the_registry_export_writes_names_without_them(admin, stored_with_controls):
    exported = cells(admin.get("/partners/export.csv").get_data(as_text=True))
    # Stripped before the formula neutraliser looks at the first character, so it sees the "=".
    assert "'=HYPERLINK(1) Ministry" in exported and "Ama hsneM" in exported
    assert not any(control in cell for cell in exported for control in EVERY_CONTROL)


def test_the_invitations_export_writes_names_without_them(admin, stored_with_controls):
    exported = cells(admin.get(f"/secretariat/rounds/{stored_with_controls}/invitations.csv").get_data(as_text=True))
    assert "'=HYPERLINK(1) Ministry" in exported and "Ama hsneM" in exported
    assert not any(control in cell for cell in exported for control in EVERY_CONTROL)
