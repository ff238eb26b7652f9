"""The audit log in words, end to end: an export said with the round's name and only what differs from a plain one;
sign-ins and failed sign-ins recorded without the password, and without text typed for an unknown email."""

import html as markup
import re

from engagement.extensions import db
from engagement.models import AuditEntry
from tests.analysis.test_loader import FULL, answer, round_with
from tests.conftest import ADMIN, HtmxClient, post_sign_in


def sentences(admin, action: str = "") -> list[str]:
    html = admin.get(f"/secretariat/audit?action={action}").get_data(as_text=True)
    assert "<tbody>" in html, (action, html[-3000:])
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    return [markup.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))).strip() for row in rows]


def test_an_export_reads_as_a_sentence_with_the_round_name(app, admin):
    with app.app_context():
        round_, invitations = round_with(2)
        answer(invitations[0], FULL)
        round_id = round_.id
    assert admin.get(f"/secretariat/rounds/{round_id}/export.csv").status_code == 200
    assert admin.get(f"/secretariat/rounds/{round_id}/export.xlsx?labels=fr&bom=0&anonymised=1").status_code == 200
    newest, plain = sentences(admin, "responses.export")
    assert "Exported the responses of Test round as CSV" in plain
    assert "Labels" not in plain and "byte-order" not in plain and "Anonymised" not in plain
    assert "Exported the responses of Test round as an Excel workbook" in newest
    assert "Labels in: Français" in newest and "Without byte-order mark: yes" in newest
    assert "Anonymised: yes" in newest and "Smallest group kept: 5" in newest
    for raw in (f"round {round_id}", "bom", "False", "None", "xlsx", "without_bom"):
        assert raw not in newest + plain


def test_command_line_export_reads_the_same(app, admin, runner, tmp_path):
    with app.app_context():
        round_, _invitations = round_with(1)
        round_id = round_.id
    out = tmp_path / "answers.csv"
    result = runner.invoke(args=["responses", "export", str(round_id), "--format", "long", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (entry,) = sentences(admin, "responses.export")
    assert "Command line" in entry and "Exported the responses of Test round as CSV with one row per answer" in entry
    assert "File: answers.csv" in entry


def test_sign_ins_and_failed_sign_ins_are_recorded_without_secrets(app, admin):
    wrong = post_sign_in(HtmxClient(app.test_client()), ADMIN[0], "not-the-password-42")
    assert wrong.status_code == 422
    typo = post_sign_in(HtmxClient(app.test_client()), "correct horse battery staple", "whatever-it-was")
    assert typo.status_code == 422 and "Email or password is not correct." in typo.get_data(as_text=True)
    admin = HtmxClient(app.test_client())  # a new sign-in ends the account's earlier sessions
    assert post_sign_in(admin, *ADMIN).status_code == 303

    with app.app_context():
        entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
        stored = " ".join(f"{e.action} {e.target} {e.details}" for e in entries)
    assert "not-the-password-42" not in stored and "whatever-it-was" not in stored and ADMIN[1] not in stored
    assert "correct horse battery staple" not in stored  # a password typed in the email field is not kept

    failed = sentences(admin, "user.sign_in_failed")
    assert len(failed) == 1
    assert f"Failed sign-in with the email {ADMIN[0]}" in failed[0] and "Reason: wrong password" in failed[0]
    (unknown,) = sentences(admin, "user.sign_in_unknown")
    assert "Failed sign-in with an unknown email (what was typed is not kept)" in unknown
    assert "Not signed in" in unknown
    signed = sentences(admin, "user.sign_in")
    assert len(signed) >= 2 and all("Signed in" in row and ADMIN[0] in row for row in signed)
