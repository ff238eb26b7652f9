"""Every string of the app exists in French and Spanish, and a partner reads the pages in their own language."""

import html
import os
import re
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from engagement.extensions import db
from surveys.demo import load_demo
from surveys.invitations import token_for
from surveys.models import Round
from tests.conftest import start_survey

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ("fr", "es")
# The keywords of scripts/translations.sh: babel's defaults plus the lazy forms.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2),
            "lazy_pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc%]")
FIX = "Run scripts/translations.sh, then translate what it reports in translations/{fr,es}/LC_MESSAGES/messages.po."

# Partners of the demo (surveys/demo.py), one per language.
CONTACTS = {"en": "ama.mensah@labour.example.gh", "fr": "hery.rakoto@travail.example.mg",
            "es": "lucia.fernandez@csa.example.org"}


def read_catalogue(path: Path, locale: str | None = None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def compile_catalogues() -> None:
    """Write the .mo files (build artefacts, not committed) when missing or older than their .po, as `make setup` does."""
    for language in LANGUAGES:
        po = po_path(language)
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        partial = mo.with_name(f"messages.mo.{os.getpid()}.tmp")
        with partial.open("wb") as handle:
            write_mo(handle, read_catalogue(po, language))
        os.replace(partial, mo)  # atomic: a test running in parallel never reads half a file


@pytest.fixture(scope="module")
def catalogues():
    """The template and both translations, compiled so that the pages below can use them."""
    compile_catalogues()
    return read_catalogue(TRANSLATIONS / "messages.pot"), {lang: read_catalogue(po_path(lang), lang)
                                                             for lang in LANGUAGES}


def message_ids(catalogue) -> set[str]:
    return {message.id if isinstance(message.id, str) else message.id[0] for message in catalogue if message.id}


def placeholders(text: str) -> list[str]:
    return sorted(match.group(0) for match in PLACEHOLDER.finditer(text) if match.group(0) != "%%")


def test_template_holds_every_string_of_the_code(catalogues):
    template, _translations = catalogues
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, "babel.cfg")
    found = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS,
            directory_filter=lambda path: os.path.basename(path) not in ("node_modules", ".venv", ".git")):
        found.setdefault(message if isinstance(message, str) else message[0], filename)
    assert len(found) > 90, "extraction found almost nothing: is babel.cfg right?"
    missing = {text: filename for text, filename in found.items() if text not in message_ids(template)}
    assert not missing, f"strings missing from translations/messages.pot: {missing}. {FIX}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated(catalogues, language):
    template, translations = catalogues
    catalogue = translations[language]
    assert str(catalogue.locale) == language
    assert message_ids(template) <= message_ids(catalogue), f"{language} catalogue is behind the template. {FIX}"
    untranslated = [message.id for message in catalogue if message.id and (
        message.fuzzy or not all(message.string if isinstance(message.string, tuple) else (message.string,)))]
    assert not untranslated, f"{language}: empty or fuzzy translations for {untranslated}. {FIX}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_placeholders_and_add_no_markup(catalogues, language):
    _template, translations = catalogues
    problems = []
    for message in translations[language]:
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else message.id
        strings = (message.string,) if isinstance(message.string, str) else message.string
        wanted = placeholders(ids[-1])
        for string in strings:
            if isinstance(message.id, str) and placeholders(string) != wanted:
                problems.append((message.id, string, "placeholders differ"))
            elif not set(placeholders(string)) <= set(placeholders(ids[0])) | set(wanted):
                problems.append((message.id, string, "unknown placeholder"))
            # Translations are trusted as markup by Jinja's i18n extension: they must not bring any of their own.
            if any(char in string and char not in ids[0] for char in '<>"&'):
                problems.append((message.id, string, "markup or a double quote that breaks an attribute"))
    problems += [(message.id, str(errors)) for message, errors in translations[language].check()]  # babel's checks
    assert not problems, problems


def test_french_punctuation_uses_narrow_no_break_spaces(catalogues):
    """As in the survey file: a narrow no-break space before : ; ? ! and inside « », never a plain space."""
    _template, translations = catalogues
    wrong = [string for message in translations["fr"] if message.id
             for string in ((message.string,) if isinstance(message.string, str) else message.string)
             if re.search(r" [:;?!»]|« |\w[:;?!]|«\w|\w»", string)]
    assert not wrong, wrong


# What a partner sees: the demo survey opened through a contact's personal link.

WELCOME = {
    "en": ["Start the survey", "Survey round", "Open until", "How your answers are used",
           "Global Coordinating Group", "Skip to content", "About 15 minutes"],
    "fr": ["Commencer l'enquête", "Cycle d'enquête", "Ouverte jusqu'au", "Utilisation de vos réponses",
           "Groupe de coordination mondial", "Aller au contenu", "Environ 15 minutes",
           "Bienvenue, Ministère du Travail de Madagascar."],
    "es": ["Comenzar la encuesta", "Ronda de la encuesta", "Abierta hasta el", "Cómo se utilizan sus respuestas",
           "Grupo de Coordinación Mundial", "Ir al contenido", "Unos 15 minutos",
           "Le damos la bienvenida, Confederación Sindical de las Américas."],
}
SURVEY_PAGE = {
    "en": ["Save and continue", "Section 1 of", "(required)", "Answers are saved as you go.", "Progress"],
    "fr": ["Enregistrer et continuer", "Section 1 sur", "(obligatoire)",
           "Vos réponses sont enregistrées au fur et à mesure.", "Progression"],
    "es": ["Guardar y continuar", "Sección 1 de", "(obligatoria)", "Sus respuestas se guardan a medida que avanza.",
           "Progreso"],
}


@pytest.fixture
def demo(app, catalogues):
    """The demo round; returns each demo language's personal link token and the round's closing date."""
    with app.app_context():
        round_, invitations = load_demo()
        tokens = {language: token_for(next(i for i in invitations if i.contact.email == email))
                  for language, email in CONTACTS.items()}
        return {"tokens": tokens, "closes_on": round_.closes_on, "round_id": round_.id}


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def assert_language(page: str, language: str, expected: dict) -> None:
    assert f'<html lang="{language}">' in page
    for text in expected[language]:
        assert text in page, f"{text!r} missing from the {language} page"
    for other, texts in expected.items():
        if other != language:
            for text in texts:
                if not any(text in mine for mine in expected[language]):
                    assert text not in page, f"{other} text {text!r} on the {language} page"


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_welcome_page_speaks_the_contact_language(client, demo, language):
    response = client.get(f"/s/{demo['tokens'][language]}")
    assert response.status_code == 200
    page = text_of(response)
    assert_language(page, language, WELCOME)
    assert format_date(demo["closes_on"], format="long", locale=language) in page


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_survey_page_speaks_the_contact_language(client, demo, language):
    token = demo["tokens"][language]
    client.get(f"/s/{token}")
    start = client.post(f"/s/{token}/start")
    assert start.status_code == 303
    page = client.get(start.headers["Location"])
    assert page.status_code == 200
    assert_language(text_of(page), language, SURVEY_PAGE)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_language_switch_changes_every_word(client, demo, htmx):
    token = demo["tokens"]["fr"]
    client.get(f"/s/{token}")
    switched = client.post(f"/s/{token}/language", {"language": "es", "next": f"/s/{token}"}, htmx=htmx)
    if htmx:
        assert switched.headers["HX-Redirect"] == f"/s/{token}"
    else:
        assert switched.status_code == 303
    page = text_of(client.get(f"/s/{token}"))
    assert '<html lang="es">' in page
    assert "Comenzar la encuesta" in page and "Ronda de la encuesta" in page
    assert "Commencer l'enquête" not in page and "Start the survey" not in page


@pytest.mark.parametrize(("language", "summary", "english"), [
    ("fr", "Veuillez vérifier ces réponses", "Please check these answers"),
    ("es", "Revise estas respuestas", "Please check these answers"),
])
def test_page_errors_speak_the_contact_language(client, demo, language, summary, english):
    token = demo["tokens"][language]
    page_url = start_survey(client, token)
    form = client.get(page_url).get_data(as_text=True)
    present = [(name, "1") for name in re.findall(r'name="(\w+__present)"', form)]
    refused = client.post(page_url, present + [("action", "next")])
    assert refused.status_code == 422
    page = text_of(refused)
    assert summary in page and english not in page
    assert "Save and continue" not in page


@pytest.mark.parametrize(("language", "invalid_choice", "no_such_question"), [
    ("fr", "Veuillez choisir l'une des options proposées.", "Cette question n'existe pas dans cette enquête."),
    ("es", "Elija una de las opciones propuestas.", "Esta pregunta no existe en esta encuesta."),
])
def test_autosave_messages_speak_the_contact_language(client, demo, language, invalid_choice, no_such_question):
    token = demo["tokens"][language]
    client.get(start_survey(client, token))
    refused = client.post(f"/s/{token}/answer/category", {"category": "no-such-category", "category__present": "1"},
                          htmx=True)
    assert refused.status_code == 422
    assert invalid_choice in text_of(refused)
    assert "Please choose one of the options shown." not in text_of(refused)
    unknown = client.post(f"/s/{token}/answer/no_such_question", {"no_such_question": "x"}, htmx=True)
    assert unknown.status_code == 404
    assert no_such_question in text_of(unknown)


@pytest.mark.parametrize(("language", "accept", "title", "message"), [
    ("fr", "fr-FR,fr;q=0.9", "Plus disponible", "Ce cycle d'enquête est clos. Merci de votre intérêt."),
    ("es", "es-419,es;q=0.9", "Ya no está disponible", "Esta ronda de la encuesta se ha cerrado. Gracias por su interés."),
])
def test_closed_round_page_is_translated(app, client, demo, language, accept, title, message):
    """The closed-round page follows the browser's language (the contact's is not known yet when it is raised)."""
    with app.app_context():
        round_ = db.session.get(Round, demo["round_id"])
        round_.closes_on = round_.closes_on.replace(year=2000)
        db.session.commit()
    response = client.get(f"/s/{demo['tokens'][language]}", headers={"Accept-Language": accept})
    assert response.status_code == 410
    page = text_of(response)
    assert title in page and message in page
    assert "No longer available" not in page


@pytest.mark.parametrize(("accept", "title"), [("fr-FR,fr;q=0.9", "Page introuvable"),
                                                ("es-ES,es;q=0.9", "Página no encontrada"),
                                                ("en", "Page not found")])
def test_error_page_follows_the_browser_language(client, catalogues, accept, title):
    response = client.get("/no-such-page", headers={"Accept-Language": accept})
    assert response.status_code == 404
    assert title in text_of(response)
