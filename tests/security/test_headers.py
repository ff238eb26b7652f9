"""Security headers on every kind of response, HSTS over HTTPS only, and htmx configured to need no unsafe CSP."""

import json
import re

import pytest

from tests.security.conftest import started

REQUIRED_CSP = ["default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE), "inline <script>"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "on* event handler attribute"),
    (re.compile(r"\bhx-on", re.IGNORECASE), "hx-on (needs eval)"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
]


def assert_secure_headers(response, where: str):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    for directive in REQUIRED_CSP:
        assert directive in csp, (where, directive, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, (where, csp)
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "no-referrer", where


def every_kind_of_response(app, client, admin, analyst, demo):
    """(description, response) for pages, fragments, redirects, errors, static files, downloads and the health check."""
    round_id, tokens = demo
    token = next(iter(tokens.values()))
    started(app, client, token)
    yield "partner welcome page", client.get(f"/s/{token}")
    yield "partner survey page", client.get(f"/s/{token}/page/profile")
    yield "autosave fragment", client.post(f"/s/{token}/answer/roles", {"roles": "gcg_member", "roles__present": "1"},
                                           htmx=True)
    yield "autosave refused (422)", client.post(f"/s/{token}/answer/roles", {"roles": "nonsense"}, htmx=True)
    yield "redirect (303)", client.post(f"/s/{token}/start")
    yield "unknown link (404)", client.get("/s/" + "B" * 43)
    yield "CSRF refusal (400)", client.post(f"/s/{token}/start", csrf=False)
    yield "method not allowed (405)", client.client.put(f"/s/{token}")
    yield "static file", client.get("/static/css/site.css")
    yield "static script", client.get("/static/js/site.js")
    yield "health check", client.get("/healthz")
    yield "sign-in page", client.get("/sign-in")
    yield "secretariat page", admin.get("/secretariat/")
    yield "secretariat fragment", admin.get("/partners/", headers={"HX-Request": "true"})
    yield "dashboard", admin.get(f"/secretariat/rounds/{round_id}/dashboard")
    yield "CSV export", admin.get(f"/secretariat/rounds/{round_id}/export.csv")
    yield "XLSX export", admin.get(f"/secretariat/rounds/{round_id}/export.xlsx")
    yield "registry export", admin.get("/partners/export.csv")
    yield "forbidden (403)", analyst.post("/partners/new", {"name": "X"})


def test_every_kind_of_response_carries_the_security_headers(app, client, admin, analyst, demo):
    seen = set()
    for where, response in every_kind_of_response(app, client, admin, analyst, demo):
        seen.add(response.status_code)
        response.get_data()  # a streamed download finishes before the next request
        assert_secure_headers(response, where)
        assert "Strict-Transport-Security" not in response.headers, where  # plain HTTP in development
    assert {200, 303, 400, 403, 404, 405, 422} <= seen


def test_a_server_error_carries_the_headers_too(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-boom")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/test-boom")
    assert response.status_code == 500
    assert_secure_headers(response, "500")
    assert "boom" not in response.get_data(as_text=True)


def test_hsts_over_https_only(app, demo):
    token = next(iter(demo[1].values()))
    secure = app.test_client().get(f"/s/{token}", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(secure.headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 15552000
    plain = app.test_client().get(f"/s/{token}")
    assert "Strict-Transport-Security" not in plain.headers
    static = app.test_client().get("/static/css/site.css", base_url="https://localhost")
    assert "Strict-Transport-Security" in static.headers


def test_hsts_behind_a_trusted_https_proxy(tmp_path):
    from engagement.extensions import db
    from tests.conftest import _database_url
    from wsgi import create_app

    url, drop = _database_url(tmp_path)
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "TRUSTED_PROXIES": 1,
                              "RATELIMIT_ENABLED": False})
    client = application.test_client()
    behind = client.get("/healthz", headers={"X-Forwarded-Proto": "https"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert behind.status_code in (200, 503)
    assert "Strict-Transport-Security" in behind.headers
    with application.app_context():
        db.engine.dispose()
    drop()


def htmx_config(html: str) -> dict:
    match = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html)
    assert match, "no htmx-config meta"
    return json.loads(match.group(1))


def pages_to_check(app, client, admin, demo):
    round_id, tokens = demo
    token = next(iter(tokens.values()))
    started(app, client, token)
    return {
        "partner welcome": client.get(f"/s/{token}"),
        "partner page": client.get(f"/s/{token}/page/profile"),
        "partner review": client.get(f"/s/{token}/review"),
        "sign-in": client.get("/sign-in"),
        "rounds overview": admin.get("/secretariat/"),
        "dashboard": admin.get(f"/secretariat/rounds/{round_id}/dashboard"),
        "registry": admin.get("/partners/"),
        "round": admin.get(f"/secretariat/rounds/{round_id}"),
        "audit log": admin.get("/secretariat/audit"),
        "error page": client.get("/s/" + "C" * 43),
    }


def test_htmx_is_configured_for_a_strict_csp_on_partner_and_secretariat_pages(app, client, admin, demo):
    for name, response in pages_to_check(app, client, admin, demo).items():
        config = htmx_config(response.get_data(as_text=True))
        assert config["allowEval"] is False, name
        assert config["includeIndicatorStyles"] is False, name
        assert config["historyCacheSize"] == 0, name  # answers are not kept in localStorage
        assert config.get("allowScriptTags") is False, name


@pytest.mark.parametrize("pattern, what", INLINE, ids=[w for _p, w in INLINE])
def test_pages_hold_nothing_the_csp_would_block(app, client, admin, demo, pattern, what):
    for name, response in pages_to_check(app, client, admin, demo).items():
        html = response.get_data(as_text=True)
        assert not pattern.search(html), f"{what} on the {name} page: {pattern.search(html)}"


def test_no_download_may_be_stored_by_a_browser_or_proxy(app, admin, demo):
    """Downloads carry partners' names, emails, answers and personal links: no browser or proxy may store them.
    Every .csv/.xlsx route must be listed here, so a new download cannot be left out."""
    round_id = demo[0]
    report = admin.get(f"/secretariat/rounds/{round_id}/report").get_data(as_text=True)
    table = re.search(rf"/secretariat/rounds/{round_id}/report/([\w-]+)\.csv", report).group(1)
    downloads = {
        "/partners/export.csv": "/partners/export.csv",
        "/secretariat/rounds/<int:round_id>/invitations.csv": f"/secretariat/rounds/{round_id}/invitations.csv",
        "/secretariat/rounds/<int:round_id>/export.csv": f"/secretariat/rounds/{round_id}/export.csv",
        "/secretariat/rounds/<int:round_id>/export-long.csv": f"/secretariat/rounds/{round_id}/export-long.csv",
        "/secretariat/rounds/<int:round_id>/export.xlsx": f"/secretariat/rounds/{round_id}/export.xlsx",
        "/secretariat/rounds/<int:round_id>/report/<table_key>.csv":
            f"/secretariat/rounds/{round_id}/report/{table}.csv",
    }
    routes = {rule.rule for rule in app.url_map.iter_rules() if re.search(r"\.(csv|xlsx)$", rule.rule)}
    assert routes == set(downloads)
    for url in downloads.values():
        response = admin.get(url)
        assert response.status_code == 200 and response.get_data(), url  # a streamed body is read to its end
        assert response.headers["Content-Disposition"].startswith("attachment"), url
        assert response.headers.get("Cache-Control") == "no-store", url
