"""A survey page, with htmx, the stylesheet and our script, weighs at most 100 KB as a partner downloads it."""

import gzip
import re

from surveys.demo import load_demo
from surveys.invitations import token_for

LIMIT = 100 * 1024


def transferred(client, url):
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, url
    body = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        assert gzip.decompress(body)  # really gzip
    return len(body)


def test_heaviest_survey_page_with_assets_is_under_100_kb(app, client):
    with app.app_context():
        _round, invitations = load_demo()
        token = token_for(invitations[0])
    client.get(f"/s/{token}")
    client.post(f"/s/{token}/start")
    html = client.get(f"/s/{token}/page/services").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any("htmx" in a for a in assets) and any(a.endswith(".css") for a in assets)
    sizes = {url: transferred(client.client, url) for url in [f"/s/{token}/page/services", *assets]}
    assert sum(sizes.values()) <= LIMIT, sizes
