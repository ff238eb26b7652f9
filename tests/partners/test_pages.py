"""The registry's pages, each as a full page and as the fragment htmx asks for; and what analysts may not do."""

import re

import pytest

from engagement.extensions import db
from engagement.models import AuditEntry
from partners.models import Contact, Organisation
from tests.factories import open_round_for, organisation, survey_from_rows

from .conftest import csv_bytes

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def org_id(app, name):
    with app.app_context():
        return db.session.scalar(db.select(Organisation.id).filter_by(name=name))


def audit_actions(app):
    with app.app_context():
        return [e.action for e in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))
                if e.action != "user.sign_in"]


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def sample(app):
    with app.app_context():
        organisation("Ministry of Labour of Ghana", "government_pathfinder", "GH", "africa", True,
                     "supply_chains migration", True, [("Ama Mensah", "ama@labour.gov.gh", "en")])
        organisation("Ministerio de Trabajo del Perú", "government_pathfinder", "PE", "americas", True, "migration",
                     False, [("Ana Pérez", "ana@trabajo.gob.pe", "es")])
        organisation("Survivor Alliance", "survivor", None, "global", False, "conflict_humanitarian", False,
                     [("Sam Lee", "sam@survivors.org", "en")])
        organisation("ITUC", "workers", "BE", "europe_central_asia", False, "", True,
                     [("Luc Martin", "luc@ituc.org", "fr")])


def test_list_full_page_and_fragment(admin, sample):
    page = admin.get("/partners/")
    assert page.status_code == 200
    body = text(page)
    assert "<html" in body and 'id="results"' in body and 'hx-trigger="search, input changed delay:300ms"' in body
    assert "4 organisations" in body and "Ministry of Labour of Ghana" in body
    assert "Add an organisation" in body and "Import a CSV file" in body
    fragment = admin.get("/partners/?q=ghana", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "Vary" in fragment.headers and "HX-Request" in fragment.headers["Vary"]
    part = text(fragment)
    assert "<html" not in part and 'name="q"' not in part
    assert "1 organisation" in part and "Ministry of Labour of Ghana" in part and "ITUC" not in part
    typed = admin.get("/partners/?q=ghana&category=&region=&status=active&page=1", headers={"HX-Request": "true"})
    assert typed.headers["HX-Push-Url"] == "/partners/?q=ghana"
    restore = admin.get("/partners/?q=ghana", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in text(restore)


@pytest.mark.parametrize(("query", "expected"), [
    ("q=labour", {"Ministry of Labour of Ghana"}),
    ("q=ANA%40trabajo", {"Ministerio de Trabajo del Perú"}),
    ("q=Sam+Lee", {"Survivor Alliance"}),
    ("q=be", {"ITUC"}),
    ("q=100%25", set()),
    ("category=government_pathfinder", {"Ministry of Labour of Ghana", "Ministerio de Trabajo del Perú"}),
    ("region=global", {"Survivor Alliance"}),
    ("region=europe_central_asia", {"ITUC"}),
    ("pathfinder=yes", {"Ministry of Labour of Ghana", "Ministerio de Trabajo del Perú"}),
    ("pathfinder=no", {"Survivor Alliance", "ITUC"}),
    ("action_group=migration", {"Ministry of Labour of Ghana", "Ministerio de Trabajo del Perú"}),
    ("action_group=supply_chains&pathfinder=yes", {"Ministry of Labour of Ghana"}),
    ("category=nonsense&region=mars", {"Ministry of Labour of Ghana", "Ministerio de Trabajo del Perú",
                                       "Survivor Alliance", "ITUC"}),
])
def test_filters_and_search(admin, sample, query, expected):
    part = text(admin.get(f"/partners/?{query}", headers={"HX-Request": "true"}))
    shown = set(re.findall(r'<th scope="row"><a href="/partners/\d+">([^<]+)</a>', part))
    assert shown == expected


def test_filters_survive_reload_in_the_form(admin, sample):
    body = text(admin.get("/partners/?q=gha&region=africa&pathfinder=yes&action_group=migration"))
    kept = ['value="gha"', *(f'<option value="{value}" selected>' for value in ("africa", "yes", "migration"))]
    assert [field for field in kept if field not in body] == []


def test_deactivated_are_hidden_by_default_and_shown_on_request(app, admin, sample):
    with app.app_context():
        db.session.scalar(db.select(Organisation).filter_by(name="ITUC")).active = False
        db.session.commit()
    assert "ITUC" not in text(admin.get("/partners/"))
    inactive = text(admin.get("/partners/?status=inactive"))
    assert "ITUC" in inactive and "inactive" in inactive
    assert "5" not in re.search(r"(\d+) organisations?", text(admin.get("/partners/?status=all"))).group(1)


def test_pagination_fifty_per_page(app, admin):
    with app.app_context():
        for n in range(120):
            db.session.add(Organisation(name=f"Org {n:03d}", category="other", country=None, region="global"))
        db.session.commit()
    first = text(admin.get("/partners/"))
    assert "120 organisations" in first and "page 1 of 3" in first
    assert first.count('<tr id="org-') == 50
    assert "Org 000" in first and "Org 050" not in first
    assert 'href="/partners/?page=2"' in first
    last = text(admin.get("/partners/?page=3", headers={"HX-Request": "true"}))
    assert last.count('<tr id="org-') == 20 and "Org 119" in last and 'aria-current="page">3<' in last
    beyond = text(admin.get("/partners/?page=99"))
    assert "page 3 of 3" in beyond
    filtered = text(admin.get("/partners/?q=Org+11&page=1"))
    assert "10 organisations" in filtered and "page 1" not in filtered


def test_names_are_escaped(app, admin):
    with app.app_context():
        organisation(XSS, "other", None, "global", False, "", False, [(XSS, "xss@example.org", "en")])
    for response in (admin.get("/partners/"), admin.get("/partners/", headers={"HX-Request": "true"}),
                     admin.get(f"/partners/{org_id(app, XSS)}"),
                     admin.get(f"/partners/{org_id(app, XSS)}/edit", headers={"HX-Request": "true"})):
        body = text(response)
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;script&gt;" in body


def test_add_organisation_with_first_contact(app, admin):
    page = admin.get("/partners/new")
    assert page.status_code == 200 and 'name="contact_email"' in text(page)
    response = admin.post("/partners/new", {
        "name": "  Ministère du Travail   de Côte d'Ivoire ", "category": "government_pathfinder",
        "country": "Côte d'Ivoire", "pathfinder": "y", "action_groups": ["migration", "supply_chains"],
        "contact_name": "Awa Koné", "contact_email": "Awa@Travail.gouv.ci", "contact_language": "fr"})
    assert response.status_code == 303
    with app.app_context():
        org = db.session.scalar(db.select(Organisation))
        assert (org.name, org.country, org.region, org.pathfinder, org.action_groups, org.gcg_member) == (
            "Ministère du Travail de Côte d'Ivoire", "CI", "africa", True, "supply_chains migration", False)
        assert [(c.name, c.email, c.language) for c in org.contacts] == [("Awa Koné", "awa@travail.gouv.ci", "fr")]
    assert audit_actions(app) == ["organisation.create"]


def test_add_organisation_refuses_bad_input(app, admin, sample):
    response = admin.post("/partners/new", {"name": "ministry of labour of ghana", "category": "", "country": "Mars",
                                            "contact_name": "", "contact_email": "ama@labour.gov.gh"})
    assert response.status_code == 422
    body = text(response)
    for message in ("There is already an organisation with this name.", "Choose a category.", "Unknown country",
                    "This email is already a contact of Ministry of Labour of Ghana."):
        assert message in body
    assert 'aria-invalid="true"' in body
    bad_email = admin.post("/partners/new", {"name": "New", "category": "un", "contact_name": "X",
                                             "contact_email": "not an email"}, htmx=True)
    assert bad_email.status_code == 422 and "<html" not in text(bad_email)
    assert "Enter an email address" in text(bad_email)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Organisation)) == 4


def test_inline_edit_row_turns_into_form_and_back(app, admin, sample):
    ghana = org_id(app, "Ministry of Labour of Ghana")
    form = admin.get(f"/partners/{ghana}/edit", headers={"HX-Request": "true"})
    assert form.status_code == 200
    part = text(form)
    assert part.lstrip().startswith(f'<tr id="org-{ghana}" class="editing">')
    assert "<html" not in part and 'value="Ghana"' in part and f'hx-post="/partners/{ghana}/edit"' in part
    invalid = admin.post(f"/partners/{ghana}/edit", {"name": "", "category": "government", "country": "Ghana"},
                         htmx=True)
    assert invalid.status_code == 422 and 'class="editing"' in text(invalid) and "This field is required." in text(invalid)
    saved = admin.post(f"/partners/{ghana}/edit", {"name": "Ministry of Employment of Ghana", "category": "government",
                                                   "country": "Senegal", "action_groups": "rule_of_law"},
                         htmx=True)
    assert saved.status_code == 200
    row = text(saved)
    assert row.lstrip().startswith(f'<tr id="org-{ghana}">') and "Ministry of Employment of Ghana" in row
    assert "Saved" in row
    with app.app_context():
        org = db.session.get(Organisation, ghana)
        assert (org.category, org.country, org.region, org.pathfinder, org.gcg_member, org.action_groups) == (
            "government", "SN", "africa", False, False, "rule_of_law")
    entry_changes = None
    with app.app_context():
        entry_changes = db.session.scalar(db.select(AuditEntry).filter_by(action="organisation.update")).details
    assert set(entry_changes["changes"]) == {"name", "category", "country", "pathfinder", "gcg_member",
                                            "action_groups"}
    cancel = admin.get(f"/partners/{ghana}/row", headers={"HX-Request": "true"})
    assert text(cancel).lstrip().startswith(f'<tr id="org-{ghana}">')


def test_edit_without_javascript_is_a_page_and_redirects(app, admin, sample):
    itcu = org_id(app, "ITUC")
    page = admin.get(f"/partners/{itcu}/edit")
    assert page.status_code == 200 and "<html" in text(page) and "Edit ITUC" in text(page)
    invalid = admin.post(f"/partners/{itcu}/edit", {"name": "ITUC", "category": "workers", "country": "Narnia"})
    assert invalid.status_code == 422 and "<html" in text(invalid) and "Unknown country" in text(invalid)
    saved = admin.post(f"/partners/{itcu}/edit", {"name": "ITUC", "category": "workers", "country": "",
                                                 "gcg_member": "y"})
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.get(Organisation, itcu).region == "global"
    unchanged = admin.post(f"/partners/{itcu}/edit", {"name": "ITUC", "category": "workers", "gcg_member": "y"})
    assert unchanged.status_code == 303
    assert "Nothing was changed." in text(admin.get("/partners/"))


def test_contacts_add_edit_remove(app, admin, sample):
    ghana = org_id(app, "Ministry of Labour of Ghana")
    page = admin.get(f"/partners/{ghana}")
    assert page.status_code == 200 and "ama@labour.gov.gh" in text(page)
    added = admin.post(f"/partners/{ghana}/contacts", {"name": "Kofi", "email": "KOFI@labour.gov.gh",
                                                       "language": "en"}, htmx=True)
    assert added.status_code == 200 and "<html" not in text(added) and "kofi@labour.gov.gh" in text(added)
    duplicate = admin.post(f"/partners/{ghana}/contacts", {"name": "X", "email": "sam@survivors.org",
                                                           "language": "en"})
    assert duplicate.status_code == 422 and "already a contact of Survivor Alliance" in text(duplicate)
    bad_language = admin.post(f"/partners/{ghana}/contacts", {"name": "X", "email": "x@y.org", "language": "de"},
                              htmx=True)
    assert bad_language.status_code == 422 and "Not a valid choice" in text(bad_language)
    with app.app_context():
        kofi = db.session.scalar(db.select(Contact).filter_by(email="kofi@labour.gov.gh")).id
    edit = admin.get(f"/partners/{ghana}/contacts/{kofi}/edit")
    assert edit.status_code == 200 and 'value="kofi@labour.gov.gh"' in text(edit)
    saved = admin.post(f"/partners/{ghana}/contacts/{kofi}/edit", {"name": "Kofi Boateng",
                                                                  "email": "kofi.b@labour.gov.gh", "language": "fr"})
    assert saved.status_code == 303
    assert admin.get(f"/partners/{org_id(app, 'ITUC')}/contacts/{kofi}/edit").status_code == 404
    removed = admin.post(f"/partners/{ghana}/contacts/{kofi}/remove")
    assert removed.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Contact).filter_by(email="kofi.b@labour.gov.gh")) is None
    assert audit_actions(app) == ["contact.create", "contact.update", "contact.delete"]


def test_deactivate_reactivate_and_delete_with_confirmation(app, admin, sample):
    itcu = org_id(app, "ITUC")
    page = text(admin.get(f"/partners/{itcu}"))
    assert "Deactivate" in page and "Delete…" in page
    assert admin.post(f"/partners/{itcu}/deactivate").status_code == 303
    assert "Reactivate" in text(admin.get(f"/partners/{itcu}"))
    assert admin.post(f"/partners/{itcu}/reactivate", htmx=True).headers["HX-Redirect"] == f"/partners/{itcu}"
    confirm = admin.get(f"/partners/{itcu}/delete")
    assert confirm.status_code == 200 and "Delete ITUC?" in text(confirm) and "cannot be undone" in text(confirm)
    assert org_id(app, "ITUC") == itcu
    assert admin.post(f"/partners/{itcu}/delete").status_code == 303
    assert org_id(app, "ITUC") is None
    with app.app_context():
        assert db.session.scalar(db.select(Contact).filter_by(email="luc@ituc.org")) is None
    assert audit_actions(app) == ["organisation.deactivate", "organisation.reactivate", "organisation.delete"]


def test_an_invited_organisation_cannot_be_deleted(app, admin, sample):
    with app.app_context():
        version = survey_from_rows([{"type": "text", "name": "q1", "label": "Q1"}])
        open_round_for(version)
    ghana = org_id(app, "Ministry of Labour of Ghana")
    assert "Delete…" not in text(admin.get(f"/partners/{ghana}"))
    refused = admin.post(f"/partners/{ghana}/delete")
    assert refused.status_code == 303
    assert "cannot be deleted; deactivate it instead" in text(admin.get(f"/partners/{ghana}"))
    assert org_id(app, "Ministry of Labour of Ghana") == ghana
    with app.app_context():
        contact = db.session.scalar(db.select(Contact).filter_by(email="ama@labour.gov.gh")).id
    assert admin.post(f"/partners/{ghana}/contacts/{contact}/remove").status_code == 303
    with app.app_context():
        kept = db.session.get(Contact, contact)
        assert kept is not None and not kept.active


def test_analyst_sees_no_buttons_and_changes_nothing(app, analyst, sample):
    ghana = org_id(app, "Ministry of Labour of Ghana")
    page = text(analyst.get("/partners/"))
    assert "Ministry of Labour of Ghana" in page
    for label in ("Add an organisation", "Import a CSV file", f'/partners/{ghana}/edit'):
        assert label not in page
    detail = text(analyst.get(f"/partners/{ghana}"))
    assert "Deactivate" not in detail and "Add a contact" not in detail and "Delete" not in detail
    assert analyst.get("/partners/export.csv").status_code == 200
    for url, data in [(f"/partners/{ghana}/edit", {"name": "Hacked", "category": "other"}),
                      ("/partners/new", {"name": "New", "category": "other"}),
                      (f"/partners/{ghana}/deactivate", {}), (f"/partners/{ghana}/delete", {}),
                      (f"/partners/{ghana}/contacts", {"name": "A", "email": "a@b.org"}),
                      ("/partners/import", {})]:
        assert analyst.post(url, data).status_code == 403
        assert analyst.post(url, data, htmx=True).status_code == 403
    with app.app_context():
        org = db.session.get(Organisation, ghana)
        assert org.name == "Ministry of Labour of Ghana" and org.active
        assert db.session.scalar(db.select(db.func.count()).select_from(Organisation)) == 4
    assert audit_actions(app) == ["partners.export"]


def test_export_from_the_page_follows_the_filters(app, admin, sample):
    response = admin.get("/partners/export.csv?region=americas")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data().decode("utf-8-sig")
    assert ("Ministerio de Trabajo del Perú,Government of a Pathfinder Country,Peru,Americas,yes,Migration,no,"
            "Ana Pérez,ana@trabajo.gob.pe,es") in body
    assert "Ghana" not in body
    assert audit_actions(app) == ["partners.export"]


def upload(client, data: bytes, name="partners.csv", htmx=False):
    import io

    return client.post("/partners/import", [("file", (io.BytesIO(data), name))],
                       content_type="multipart/form-data", htmx=htmx)


def test_import_page_preview_then_confirm(app, admin, sample):
    page = admin.get("/partners/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in text(page)
    data = csv_bytes("Ministry of Labour of Ghana,government_pathfinder,GH,yes,supply_chains,no,Ama,ama@labour.gov.gh,fr",
                     '"' + XSS.replace('"', '""') + '",other,,no,,no,New Person,new@example.org,en',
                     newline="\r\n", bom=True)
    preview = upload(admin, data)
    assert preview.status_code == 200
    body = text(preview)
    assert "Organisations: 1 new, 1 updated, 0 unchanged" in body
    assert "Contacts: 1 new, 1 updated, 0 unchanged" in body
    assert "&lt;script&gt;" in body and "<script>alert" not in body
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', body).group(1)
    # Nothing has changed yet, and the file is not kept on the server.
    assert org_id(app, XSS) is None
    assert audit_actions(app) == []
    tampered = admin.post("/partners/import/confirm", {"payload": payload[:-3] + "abc"})
    assert tampered.status_code == 303 and org_id(app, XSS) is None
    confirmed = admin.post("/partners/import/confirm", {"payload": payload})
    assert confirmed.status_code == 303
    assert "1 organisations added, 1 updated" in text(admin.get(confirmed.headers["Location"]))
    assert org_id(app, XSS) is not None
    with app.app_context():
        assert db.session.scalar(db.select(Contact).filter_by(email="ama@labour.gov.gh")).language == "fr"
    assert audit_actions(app)[-1] == "partners.import"


def test_import_page_lists_every_bad_row_and_imports_nothing(app, admin, sample):
    data = csv_bytes("A,nope,GH,no,,no,A,a@a.org,en", "B,other,Atlantis,no,,no,B,b@b.org,en",
                     "C,other,,no,,no,C,c@c.org,en")
    response = upload(admin, data)
    assert response.status_code == 422
    body = text(response)
    assert "Nothing was imported: 2 rows need correcting" in body
    assert "Line 2:" in body and "unknown category" in body and "Line 3:" in body and "unknown country" in body
    assert 'name="payload"' not in body
    assert org_id(app, "C") is None


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "empty.csv", "The file is empty."),
    ("organisation,category\nMinistère,un\n".encode("cp1252"), "latin.csv", "save it as CSV UTF-8"),
    (b"PK\x03\x04" + b"\x00" * 40, "partners.xlsx", "Excel workbook"),
    (b"organisation,category\n" + b"A,un\n" * 500_000, "big.csv", "too large"),
])
def test_import_page_refuses_unreadable_files(app, admin, data, name, message):
    response = upload(admin, data, name)
    assert response.status_code == 422
    assert message in text(response)
    missing = admin.post("/partners/import", {}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "Choose a CSV file to import." in text(missing)


def test_confirm_rechecks_against_the_registry_as_it_is_now(app, admin, sample):
    data = csv_bytes("Newcomer,other,,no,,no,Pat,pat@example.org,en")
    body = text(upload(admin, data))
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', body).group(1)
    with app.app_context():
        organisation("Someone else", "other", None, "global", False, "", False,
                     [("Pat", "pat@example.org", "en")])
    response = admin.post("/partners/import/confirm", {"payload": payload})
    assert response.status_code == 422
    assert "belongs to a contact of Someone else" in text(response)
    assert org_id(app, "Newcomer") is None


def test_largest_accepted_file_previews_and_confirms(app, admin):
    """The previewed file travels back signed in a form field: the largest file allowed must still fit."""
    rows, size, n = [], 0, 0
    while size < 1024 * 1024 - 2000:
        n += 1
        row = (f"Organisation {n:05d} {n * 7919 % 100003:06d},civil_society,Ghana,no,migration;supply_chains,no,"
               f"Person {n * 104729 % 999983},p{n * 15485863 % 99999989}.{n}@org{n * 31 % 9973}.example.org,en")
        rows.append(row)
        size += len(row) + 1
    preview = upload(admin, csv_bytes(*rows))
    assert preview.status_code == 200, text(preview)[:500]
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', text(preview)).group(1)
    confirmed = admin.post("/partners/import/confirm", {"payload": payload})
    assert confirmed.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Organisation)) == len(rows)
