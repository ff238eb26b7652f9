"""Preview and test (issue 14 §3): the survey answered as a chosen kind of partner, in any of its languages, from a
survey version or a round; a test link mailed to a colleague; nothing of either joins the responses."""

from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from analysis.monitoring import round_counts
from engagement.extensions import db
from surveys.demo import load_demo
from surveys.models import Answer, Preview, Response, Round
from tests.conftest import HtmxClient
from tests.surveys.walker import answer_every_page


@pytest.fixture
def demo(app):
    with app.app_context():
        round_, _invitations = load_demo()
        return {"round": round_.id, "version": round_.survey_version_id}


def preview_form(language="fr", category="government_pathfinder", pathfinder="yes", groups=("supply_chains",),
                 gcg="yes", action="preview", send_to=""):
    return MultiDict([("language", language), ("category", category), ("pathfinder", pathfinder),
                      *[("action_groups", group) for group in groups], ("gcg_member", gcg), ("action", action),
                      ("send_to", send_to)])


def partner_client(app, location: str) -> tuple[HtmxClient, str]:
    token = location.rstrip("/").rsplit("/", 1)[-1]
    return HtmxClient(app.test_client()), token


def test_preview_in_french_as_a_pathfinder_government_shows_their_pages_and_stores_nothing_real(app, admin, demo):
    form = admin.get(f"/secretariat/previews/new?version={demo['version']}")
    assert form.status_code == 200 and "Preview as a partner" in form.get_data(as_text=True)
    started = admin.post(f"/secretariat/previews/new?version={demo['version']}", preview_form())
    assert started.status_code == 303 and started.headers["Location"].startswith("/s/")
    client, token = partner_client(app, started.headers["Location"])
    with app.app_context():  # prefilled as the registry would for such a partner
        assert db.session.scalar(db.select(Preview.answers))["category"] == "government_pathfinder"
    welcome = client.get(f"/s/{token}").get_data(as_text=True)
    assert '<html lang="fr">' in welcome and 'class="preview-banner' in welcome
    visited = answer_every_page(client, token)
    assert "pathfinder" in visited and "action_groups" in visited  # what the registry attributes make relevant
    client.get(f"/s/{token}/review")
    assert client.post(f"/s/{token}/submit").status_code == 303
    receipt = client.get(f"/s/{token}/receipt").get_data(as_text=True)
    assert "preview-banner" in receipt
    with app.app_context():
        preview = db.session.scalar(db.select(Preview))
        assert preview.status == "submitted" and preview.language == "fr"
        assert len(preview.answers) > 30
        assert db.session.scalar(db.select(db.func.count(Response.id))) == 0
        assert db.session.scalar(db.select(db.func.count(Answer.id))) == 0
        counts = round_counts(demo["round"])
        assert counts.submitted == 0 and counts.started == 0


def test_preview_as_another_kind_of_partner_skips_their_pages(app, analyst, demo):
    """Analysts may preview too (it changes nothing of a round)."""
    started = analyst.post(f"/secretariat/previews/new?round={demo['round']}",
                           preview_form(language="en", category="workers", pathfinder="no", groups=(), gcg="no"))
    client, token = partner_client(app, started.headers["Location"])
    visited = answer_every_page(client, token)
    assert "pathfinder" not in visited and "action_groups" not in visited


def test_a_test_link_is_mailed_to_a_colleague_and_its_answers_are_kept_apart(app, admin, demo, tmp_path):
    sent = admin.post(f"/secretariat/previews/new?round={demo['round']}",
                      preview_form(language="es", action="send", send_to="colleague@example.org"))
    assert sent.status_code == 303
    mails = list(Path(app.config["OUTBOX_DIR"]).glob("*colleague*.eml"))
    assert len(mails) == 1
    body = mails[0].read_text()
    link = next(line for line in body.splitlines() if "/s/" in line).strip()
    client, token = partner_client(app, link)
    assert '<html lang="es">' in client.get(f"/s/{token}").get_data(as_text=True)
    answer_every_page(client, token)
    with app.app_context():
        assert db.session.scalar(db.select(Preview.sent_to)) == "colleague@example.org"
        assert db.session.scalar(db.select(db.func.count(Answer.id))) == 0


@pytest.mark.parametrize("data, message", [
    (preview_form(action="send", send_to=""), "Give the colleague"),
    (preview_form(action="send", send_to="not an address"), "Enter an email address like name@example.org."),
    (preview_form(category="nonsense"), "Not a valid choice"),
    (preview_form(language="de"), "Not a valid choice"),
])
def test_bad_preview_requests_are_refused_and_change_nothing(app, admin, demo, data, message):
    refused = admin.post(f"/secretariat/previews/new?version={demo['version']}", data)
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Preview.id))) == 0
    assert not list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))


def test_an_analyst_cannot_mail_a_test_link_and_a_closed_round_has_no_preview(app, analyst, admin, demo):
    refused = analyst.post(f"/secretariat/previews/new?round={demo['round']}",
                           preview_form(action="send", send_to="colleague@example.org"))
    assert refused.status_code == 403
    with app.app_context():
        db.session.get(Round, demo["round"]).status = "closed"
        db.session.commit()
    assert admin.get(f"/secretariat/previews/new?round={demo['round']}").status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Preview.id))) == 0


def test_a_preview_checks_an_upload_like_a_partners_but_keeps_no_file_and_counts_nothing(app, admin, tmp_path):
    """A preview of a form with a required image: a file is checked as a partner's would be, then dropped (never
    stored, never among real answers); the missing file does not stop the preview from reaching its receipt."""
    import io

    from surveys.models import UploadedFile
    from tests import factories

    app.config.update(UPLOADS_DIR=str(tmp_path / "uploads"), UPLOAD_MAX_BYTES=1024)
    rows = [{"type": "begin_group", "name": "evidence", "label": "Evidence"},
            {"type": "image", "name": "logo", "label": "Your logo", "required": "yes"},
            {"type": "end_group", "name": "evidence"}]
    with app.app_context():
        version_id = factories.survey_from_rows(rows).id
    started = admin.post(f"/secretariat/previews/new?version={version_id}", preview_form(language="en"))
    client, token = partner_client(app, started.headers["Location"])
    client.get(f"/s/{token}")
    client.post(f"/s/{token}/start")

    def send(data, name):
        return client.post(f"/s/{token}/upload/logo", data={"logo": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")

    accepted = send(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "logo.png")
    assert accepted.status_code == 422
    assert "a preview keeps no files: nothing was saved" in accepted.get_data(as_text=True)
    refused = send(b"MZ\x90\x00", "tool.exe")
    assert refused.status_code == 422 and "This type of file is not accepted here" in refused.get_data(as_text=True)
    assert client.post(f"/s/{token}/upload/logo/remove").status_code == 303
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert 'id="error-summary"' not in review
    assert client.post(f"/s/{token}/submit").status_code == 303
    with app.app_context():
        preview = db.session.scalar(db.select(Preview))
        assert preview.status == "submitted" and "logo" not in preview.answers
        assert db.session.scalar(db.select(db.func.count(UploadedFile.id))) == 0
        assert db.session.scalar(db.select(db.func.count(Response.id))) == 0
        assert db.session.scalar(db.select(db.func.count(Answer.id))) == 0
    assert not (tmp_path / "uploads").exists() or list((tmp_path / "uploads").iterdir()) == []
