"""Sending runs as a staff member makes them: the confirmation first, then its Send button."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from engagement.extensions import db
from surveys.models import Invitation

ASKED = ("invitation_id", "force", "next")


def confirmation_fields(client, url: str, data=None) -> tuple[str, list]:
    """Open the confirmation of a run (as the round page's GET form does); returns its page and its Send form's
    fields (none when nobody is to be mailed)."""
    data = list(data.items()) if isinstance(data, dict) else list(data or [])
    query = urlencode([(key, value) for key, value in data if key in ASKED])
    page = client.get(url + ("?" + query if query else "")).get_data(as_text=True)
    form = re.search(r'<form method="post" action="' + re.escape(url) + r'".*?</form>', page, re.DOTALL)
    if form is None:
        return page, []
    return page, re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0))


def confirm_and_send(client, url: str, data=None, htmx: bool = False):
    """Open the confirmation, then press Send on it."""
    _page, fields = confirmation_fields(client, url, data)
    assert fields, "the confirmation offers no Send button"
    return client.post(url, [field for field in fields if field[0] != "csrf_token"], htmx=htmx)


def mailed_days_ago(app, round_id: int, days: float = 4) -> None:
    """Move the round's mailings back in time, past the reminder gap (3 days by default)."""
    earlier = datetime.now(UTC) - timedelta(days=days)
    with app.app_context():
        for invitation in db.session.scalars(db.select(Invitation).where(Invitation.round_id == round_id)):
            invitation.invited_at = invitation.invited_at and earlier
            invitation.last_reminded_at = invitation.last_reminded_at and earlier
        db.session.commit()
