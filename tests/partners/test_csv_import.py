"""CSV import and export of the registry, through `flask partners import/export` and csv_io's plan."""

import csv
import io

import pytest

from engagement.extensions import db
from engagement.models import AuditEntry
from partners import csv_io
from partners.models import Contact, Organisation
from tests.factories import open_round_for, survey_from_rows

from .conftest import HEADER, csv_bytes

GOOD = [
    "Ministry of Labour of Ghana,government_pathfinder,Ghana,yes,supply_chains;migration,yes,Ama Mensah,ama@labour.gov.gh,en",
    "Ministry of Labour of Ghana,government_pathfinder,GH,oui,migration;supply_chains,oui,Kofi Boateng,kofi@labour.gov.gh,",
    "Ministère du Travail du Sénégal,government_pathfinder,Sénégal,yes,,no,Awa Diop,awa@travail.gouv.sn,fr",
    "Fundación Esperanza,civil_society,Bolivia,no,rule_of_law,no,María Quispe,maria@esperanza.org.bo,es",
    "Global Survivors Network,survivor,,no,conflict_humanitarian,true,Sam Lee,SAM@Survivors.org,EN",
]


def counts(app):
    with app.app_context():
        return (db.session.scalar(db.select(db.func.count()).select_from(Organisation)),
                db.session.scalar(db.select(db.func.count()).select_from(Contact)))


def organisations(app):
    with app.app_context():
        return {o.name: (o.category, o.country, o.region, o.pathfinder, o.action_groups, o.gcg_member,
                         sorted((c.email, c.name, c.language) for c in o.contacts))
                for o in db.session.scalars(db.select(Organisation))}


def run_import(runner, tmp_path, data: bytes, name="partners.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return runner.invoke(args=["partners", "import", str(path)])


def test_good_file_imports_everything(app, runner, tmp_path):
    result = run_import(runner, tmp_path, csv_bytes(*GOOD))
    assert result.exit_code == 0, result.output
    assert "organisations 4 added" in result.output and "contacts 5 added" in result.output
    registry = organisations(app)
    assert registry["Ministry of Labour of Ghana"] == (
        "government_pathfinder", "GH", "africa", True, "supply_chains migration", True,
        [("ama@labour.gov.gh", "Ama Mensah", "en"), ("kofi@labour.gov.gh", "Kofi Boateng", "en")])
    assert registry["Ministère du Travail du Sénégal"][1:3] == ("SN", "africa")
    assert registry["Fundación Esperanza"][1:3] == ("BO", "americas")
    assert registry["Global Survivors Network"][1:3] == (None, "global")
    assert registry["Global Survivors Network"][6] == [("sam@survivors.org", "Sam Lee", "en")]
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).filter_by(action="partners.import"))
        assert entry.actor == "cli" and entry.details["organisations_create"] == 4


def test_bad_rows_import_nothing_and_are_all_reported(app, runner, tmp_path):
    rows = GOOD + [
        "Acme,unknown_cat,Ghana,no,,no,A B,a@acme.org,en",                         # line 7
        "Beta,business,Atlantis,no,,no,C D,c@beta.org,en",                         # line 8
        "Gamma,business,FR,no,,no,E F,not-an-email,en",                            # line 9
        "Delta,business,FR,no,trafficking,no,G H,g@delta.org,en",                  # line 10
        ",business,FR,no,,no,I J,i@x.org,en",                                      # line 11
        "Epsilon,business,FR,no,,no,K L,ama@labour.gov.gh,en",                     # line 12
        "Zeta,business,FR,maybe,,no,M N,m@zeta.org,de",                            # line 13
    ]
    result = run_import(runner, tmp_path, csv_bytes(*rows))
    assert result.exit_code != 0
    output = result.output
    for line, reason in [(7, 'unknown category "unknown_cat"'), (8, 'unknown country "Atlantis"'),
                         (9, '"not-an-email" is not an email address'), (10, 'unknown action group "trafficking"'),
                         (11, "the organisation name is missing"),
                         (12, "the email ama@labour.gov.gh is also on line 2, for another organisation"),
                         (13, "pathfinder must be yes or no")]:
        assert f"partners.csv:{line}: {reason}" in output, (line, output)
    assert 'unknown language "de"' in output
    assert "7 bad row(s)" in output and "nothing was imported" in output
    assert counts(app) == (0, 0)


def test_semicolons_bom_and_crlf_as_excel_writes_them(app, runner, tmp_path):
    header = HEADER.replace(",", ";").upper().replace("ORGANISATION", " Organisation ")
    rows = [('Ministère du Travail du Sénégal;government_pathfinder;"Côte d\'Ivoire";Oui;"migration;rule_of_law";Non;'
            'Awa Diop;awa@travail.gouv.sn;fr'),
            "Organización Internacional;igo;Perú;sí;;no;Ana Pérez;ana@oi.org;es"]
    data = csv_bytes(*rows, header=header, newline="\r\n", bom=True)
    result = run_import(runner, tmp_path, data)
    assert result.exit_code == 0, result.output
    registry = organisations(app)
    assert registry["Ministère du Travail du Sénégal"][1:6] == ("CI", "africa", True, "migration rule_of_law", False)
    assert registry["Organización Internacional"][1:4] == ("PE", "americas", True)


def test_reimport_updates_by_name_and_email_without_duplicates(app, runner, tmp_path):
    assert run_import(runner, tmp_path, csv_bytes(*GOOD)).exit_code == 0
    before = counts(app)
    changed = [
        "ministry of labour of ghana,government_pathfinder,Ghana,yes,supply_chains,no,Ama Mensah-Owusu,ama@labour.gov.gh,fr",
        "Fundación Esperanza,civil_society,Peru,no,rule_of_law,no,María Quispe,maria@esperanza.org.bo,es",
        "Fundación Esperanza,civil_society,Peru,no,rule_of_law,no,Nuevo Contacto,nuevo@esperanza.org.bo,es",
    ]
    result = run_import(runner, tmp_path, csv_bytes(*changed))
    assert result.exit_code == 0, result.output
    assert "organisations 0 added, 2 updated" in result.output
    assert "contacts 1 added, 1 updated, 1 unchanged" in result.output
    assert counts(app) == (before[0], before[1] + 1)
    registry = organisations(app)
    ghana = registry["Ministry of Labour of Ghana"]
    assert ghana[4:6] == ("supply_chains", False)
    assert ("ama@labour.gov.gh", "Ama Mensah-Owusu", "fr") in ghana[6]
    assert registry["Fundación Esperanza"][1:3] == ("PE", "americas")
    again = run_import(runner, tmp_path, csv_bytes(*changed))
    assert "0 added, 0 updated, 2 unchanged" in again.output
    assert counts(app) == (before[0], before[1] + 1)


def test_export_round_trip_and_formula_neutralisation(app, runner, tmp_path):
    rows = GOOD + ['"=HYPERLINK(""http://evil"")",other,FR,no,,no,"@SUM(1)",eq@example.org,en',
                   '"+Plus Org",other,,no,,no,"-minus",plus@example.org,fr']
    assert run_import(runner, tmp_path, csv_bytes(*rows)).exit_code == 0
    before = organisations(app)
    out = tmp_path / "export.csv"
    result = runner.invoke(args=["partners", "export", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == list(csv_io.COLUMNS)
    cells = [cell for row in table for cell in row]
    assert "'=HYPERLINK(\"http://evil\")" in cells and "'@SUM(1)" in cells and "'+Plus Org" in cells
    assert "'-minus" in cells
    plain = tmp_path / "plain.csv"
    assert runner.invoke(args=["partners", "export", str(plain), "--no-bom"]).exit_code == 0
    assert plain.read_bytes() == data[3:]  # for tools that dislike the byte-order mark
    assert not any(cell[:1] in "=+-@\t\r" for cell in cells if cell)
    assert len(table) == 1 + 7
    # The exported file imports back as the same registry: nothing created, nothing changed.
    with app.app_context():
        db.session.execute(db.delete(Contact))
        db.session.execute(db.delete(Organisation))
        db.session.commit()
    result = run_import(runner, tmp_path, data, "export.csv")
    assert result.exit_code == 0, result.output
    assert organisations(app) == before


def test_export_leaves_out_inactive_unless_all(app, runner, tmp_path):
    run_import(runner, tmp_path, csv_bytes(*GOOD))
    with app.app_context():
        db.session.scalar(db.select(Organisation).filter_by(name="Fundación Esperanza")).active = False
        db.session.commit()
    out = tmp_path / "active.csv"
    runner.invoke(args=["partners", "export", str(out)])
    assert "Esperanza" not in out.read_text("utf-8-sig")
    runner.invoke(args=["partners", "export", str(tmp_path / "all.csv"), "--all"])
    assert "Esperanza" in (tmp_path / "all.csv").read_text("utf-8-sig")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty."),
    (b"  \r\n", "The file is empty."),
    (HEADER.encode() + b"\n", "The file has a header but no rows."),
    ("organisation,category\nMinistère,government\n".encode("latin-1"), "save it as CSV UTF-8"),
    ("organisation,category\n".encode("utf-16"), "UTF-16"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 50, "Excel workbook"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "This is not a CSV file"),
    (b"name,email\nA,a@example.org\n", "missing: organisation, category"),
    (b"organisation,category,category\nA,un,un\n", "appears twice"),
    (b"organisation,category\n" + b"A,un\n" * 500_000, "too large"),
])
def test_unreadable_files_are_refused_with_a_clear_message(app, runner, tmp_path, data, message):
    result = run_import(runner, tmp_path, data)
    assert result.exit_code != 0
    assert message in result.output
    assert counts(app) == (0, 0)


def test_same_organisation_with_conflicting_attributes_is_a_bad_row(app):
    with app.test_request_context():
        plan = csv_io.plan_import(csv_bytes(
            "Org A,un,FR,no,,no,A,a@a.org,en",
            "Org A,igo,FR,no,,no,B,b@a.org,en",
        ))
        assert plan.problems == [(3, "the organisation is on line 2 with a different category")]


def test_contact_of_another_organisation_in_the_registry_is_a_bad_row(app, runner, tmp_path):
    run_import(runner, tmp_path, csv_bytes(*GOOD))
    with app.test_request_context():
        plan = csv_io.plan_import(csv_bytes("Someone Else,other,,no,,no,Ama,ama@labour.gov.gh,en"))
        assert plan.problems == [
            (2, "the email ama@labour.gov.gh belongs to a contact of Ministry of Labour of Ghana in the registry")]
        with pytest.raises(ValueError):
            csv_io.apply_plan(plan)


def test_quoted_multiline_cell_keeps_line_numbers(app):
    with app.test_request_context():
        plan = csv_io.plan_import(csv_bytes('"Org\nwith newline",un,FR,no,,no,A,a@a.org,en',
                                            "Org B,nope,FR,no,,no,B,b@b.org,en"))
        assert plan.problems[0][0] == 4
        assert plan.organisations[0].name == "Org with newline"


def test_registry_is_matched_after_a_round_used_it(app, runner, tmp_path):
    """A re-import while a round is open only updates: the contacts keep their invitations."""
    run_import(runner, tmp_path, csv_bytes(*GOOD))
    with app.app_context():
        version = survey_from_rows([{"type": "text", "name": "q1", "label": "Q1"}])
        _round, tokens = open_round_for(version)
        assert len(tokens) == 5
    result = run_import(runner, tmp_path, csv_bytes(GOOD[0].replace(",en", ",es")))
    assert result.exit_code == 0, result.output
    assert counts(app) == (4, 5)


# --- Names as people write them ---------------------------------------------------------------------------------

WITH_REGION = HEADER.replace("country,", "country,region,")


def test_names_in_english_french_or_spanish_any_case_without_accents(app, runner, tmp_path):
    rows = [
        ('Fundación Esperanza,ONG u organización de la sociedad civil,Bolivie,americas,non,'
        '"cadenas de suministro, MIGRACIÓN",no,María Quispe,maria@esperanza.org.bo,es'),
        ('Syndicat national,organisation de travailleurs,Sénégal,AFRIQUE,no,"Etat de droit et gouvernance; '
        'Conflict and Humanitarian Settings",oui,Awa Diop,awa@syndicat.sn,fr'),
        ('Global Survivors Network,survivor-led organisation or network,,mundial / MULTIRREGIONAL,no,'
        'rule of law and governance|supply_chains,no,Sam Lee,sam@survivors.org,en'),
        ('UN Office,Entite des Nations Unies,Autriche,Europe et Asie centrale,no,"Supply Chains,Migration",yes,'
        'Marco Rossi,marco@un.example.org,en'),
    ]
    result = run_import(runner, tmp_path, csv_bytes(*rows, header=WITH_REGION))
    assert result.exit_code == 0, result.output
    registry = organisations(app)
    assert registry["Fundación Esperanza"][:5] == ("civil_society", "BO", "americas", False,
                                                     "supply_chains migration")
    assert registry["Syndicat national"][:6] == ("workers", "SN", "africa", False,
                                                   "rule_of_law conflict_humanitarian", True)
    assert registry["Global Survivors Network"][:5] == ("survivor", None, "global", False, "supply_chains rule_of_law")
    assert registry["UN Office"][:5] == ("un", "AT", "europe_central_asia", False, "supply_chains migration")


def test_unknown_names_are_refused_with_the_line_and_the_values_allowed(app, runner, tmp_path):
    rows = [
        "Acme,Chamber of commerce,Ghana,,no,,no,A B,a@acme.org,en",                    # line 2
        "Beta,business,Ghana,Europe and Central Asia,no,,no,C D,c@beta.org,en",        # line 3
        "Gamma,business,Ghana,Oceania,no,,no,E F,e@gamma.org,en",                      # line 4
        'Delta,business,Ghana,,no,"Supply Chains; Trafficking",no,G H,g@delta.org,en',  # line 5
        "Epsilon,business,,Africa,no,,no,I J,i@epsilon.org,en",                        # line 6
    ]
    result = run_import(runner, tmp_path, csv_bytes(*rows, header=WITH_REGION))
    assert result.exit_code != 0
    output = result.output
    assert 'partners.csv:2: unknown category "Chamber of commerce" (use one of: Government of a Pathfinder ' \
           "Country, " in output and "Business or industry initiative" in output
    assert 'partners.csv:3: the region "Europe and Central Asia" is not the region of this country, Africa' in output
    assert 'partners.csv:4: unknown region "Oceania" (use one of: Africa, Americas, Arab States' in output
    assert ('partners.csv:5: unknown action group "Trafficking" (use: Supply Chains, Migration, Rule of Law and '
            "Governance, Conflict and Humanitarian Settings") in output
    assert 'partners.csv:6: the region "Africa" is not the region of this country' in output
    assert "Global / multi-regional" in output
    assert counts(app) == (0, 0)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_the_export_writes_names_that_import_again_unchanged(app, admin, runner, tmp_path, language):
    rows = GOOD + ['Syndicat national,workers,CI,no,rule_of_law;conflict_humanitarian,yes,Awa Diop,awa@s.sn,fr',
                   "Academia,academia,Türkiye,no,,no,Ali Veli,ali@uni.example.tr,en"]
    assert run_import(runner, tmp_path, csv_bytes(*rows)).exit_code == 0
    before = organisations(app)
    response = admin.get("/partners/export.csv?status=all", headers={"Accept-Language": language})
    data = response.get_data()
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == list(csv_io.COLUMNS)
    ghana = next(row for row in table if row[0] == "Ministry of Labour of Ghana")
    expected = {"en": ("Government of a Pathfinder Country", "Ghana", "Africa", "yes", "Supply Chains; Migration"),
                "fr": ("Gouvernement d'un pays pionnier", "Ghana", "Afrique", "oui",
                       "Chaînes d'approvisionnement; Migration"),
                "es": ("Gobierno de un país pionero", "Ghana", "África", "sí", "Cadenas de suministro; Migración")}
    assert tuple(ghana[1:6]) == expected[language]
    with app.app_context():
        db.session.execute(db.delete(Contact))
        db.session.execute(db.delete(Organisation))
        db.session.commit()
    result = run_import(runner, tmp_path, data, f"export-{language}.csv")
    assert result.exit_code == 0, result.output
    assert organisations(app) == before
    again = admin.get("/partners/export.csv?status=all", headers={"Accept-Language": language}).get_data()
    assert again == data
    assert data.startswith("\ufeff".encode())
    plain = admin.get("/partners/export.csv?status=all&bom=0", headers={"Accept-Language": language}).get_data()
    assert plain == data[3:]  # for tools that dislike the byte-order mark
