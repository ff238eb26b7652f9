"""A first end-to-end pass through the demo survey with the test client."""

from surveys.demo import load_demo
from surveys.invitations import token_for


def test_demo_link_walks_to_first_page(app, client):
    with app.app_context():
        _round, invitations = load_demo()
        token = token_for(invitations[0])
    welcome = client.get(f"/s/{token}")
    assert welcome.status_code == 200
    start = client.post(f"/s/{token}/start")
    assert start.status_code == 303
    page = client.get(start.headers["Location"])
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
