"""First contact with the site: the root address leads staff to sign in, the README says how to choose the port,
gunicorn says where it listens."""

import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import signed_in
from tests.security.servers import ROOT, gunicorn


def test_root_leads_a_visitor_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 303 and response.headers["Location"].endswith("/sign-in")
    page = client.get("/", follow_redirects=True)
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "analyst"])
def test_root_leads_signed_in_staff_to_their_rounds(client, role):
    signed_in(client, role)
    response = client.get("/")
    assert response.status_code == 303 and response.headers["Location"].endswith("/secretariat/")


def test_root_with_htmx_redirects_the_whole_page(client):
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith("/sign-in")


def test_readme_says_how_to_choose_the_port():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo PORT=8080" in readme and "Listening at:" in readme


def test_gunicorn_logs_the_address_it_listens_on(caplog):
    settings = runpy.run_path(str(Path(ROOT / "gunicorn.conf.py")))
    log = logging.getLogger("test.gunicorn")
    server = SimpleNamespace(cfg=SimpleNamespace(address=[("127.0.0.1", 5090), ("::1", 5091), "/run/app.sock"]),
                             log=log)
    with caplog.at_level(logging.INFO, logger="test.gunicorn"):
        settings["when_ready"](server)
    assert caplog.messages == ["Listening at: http://127.0.0.1:5090/", "Listening at: http://[::1]:5091/",
                               "Listening at: unix:/run/app.sock"]


@pytest.mark.slow
def test_a_served_site_says_where_it_listens(tmp_path):
    output = tmp_path / "gunicorn.log"
    with gunicorn(tmp_path / "app.sqlite", output, {}, ["--workers", "1"]) as base:
        pass
    assert f"Listening at: {base}/" in output.read_text()
