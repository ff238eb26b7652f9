"""Rate limits: sign-in per account and address, per account from anywhere, per address, and unknown invitation
links each have their own counter; every 429 says when to try again; and the counters are shared by every gunicorn
worker (Redis, or the SQLite file when there is no Redis)."""

import secrets
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from engagement.extensions import db, limiter
from engagement.mail import wait_for_background_mail
from engagement.rate_limits import SQLiteFileStorage
from surveys.demo import DEMO_ADMIN, DEMO_ANALYST, load_demo
from surveys.invitations import token_for
from tests.conftest import HtmxClient, _database_url, post_sign_in
from tests.security import servers
from wsgi import create_app

UNKNOWN = "A" * 43  # well-formed, opens nothing


@pytest.fixture
def limited_app(tmp_path):
    """An app with rate limits on and small limits, counting in this process (memory://)."""
    url, drop = _database_url(tmp_path)
    application = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
        "SIGN_IN_LIMIT_PER_ACCOUNT_AND_ADDRESS": "3/minute", "SIGN_IN_LIMIT_PER_ACCOUNT": "5/minute",
        "SIGN_IN_LIMIT_PER_ADDRESS": "6/minute",
        "TOKEN_LOOKUP_LIMIT": "4/minute", "OUTBOX_DIR": str(tmp_path / "outbox"),
    })
    with application.app_context():
        db.create_all()
        _round, invitations = load_demo()
        application.config["test_tokens"] = [token_for(inv) for inv in invitations]
    yield application
    wait_for_background_mail()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()
    limiter.enabled = False


def _sign_in(client, email, password, address="10.0.0.1"):
    return post_sign_in(client, email, password, environ_base={"REMOTE_ADDR": address})


def assert_says_when_to_try_again(response, longest: int = 60):
    """A 429 with Retry-After (whole seconds until the window that refused it ends) and a page that says so."""
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= longest, response.headers.get("Retry-After")
    page = response.get_data(as_text=True)
    assert "Too many attempts" in page and "try again" in page


def test_someone_typing_a_colleagues_email_elsewhere_does_not_lock_the_colleague_out(limited_app):
    client = HtmxClient(limited_app.test_client())
    statuses = [_sign_in(client, DEMO_ADMIN[0], "wrong password").status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    # The same account at another address: the admin at their own desk signs in.
    assert _sign_in(client, DEMO_ADMIN[0], DEMO_ADMIN[1], address="10.0.0.2").status_code == 303
    # The guessing address stays locked for that account, even with the right password.
    assert_says_when_to_try_again(_sign_in(client, DEMO_ADMIN[0], DEMO_ADMIN[1]))
    # Same address, another account: the admin's counter does not touch it.
    assert _sign_in(client, DEMO_ANALYST[0], DEMO_ANALYST[1]).status_code == 303
    # A partner at the same address opens the survey.
    token = limited_app.config["test_tokens"][0]
    assert client.client.get(f"/s/{token}", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200


def test_an_account_has_a_ceiling_across_every_address(limited_app):
    """Guesses spread over many addresses (a botnet) still meet the account's own limit."""
    client = HtmxClient(limited_app.test_client())
    statuses = [_sign_in(client, DEMO_ADMIN[0], "wrong password", address=f"10.0.1.{i}").status_code
                for i in range(5)]
    assert statuses == [422] * 5
    assert_says_when_to_try_again(_sign_in(client, DEMO_ADMIN[0], "wrong password", address="10.0.1.99"))
    assert_says_when_to_try_again(_sign_in(client, DEMO_ADMIN[0], DEMO_ADMIN[1], address="10.0.2.1"))
    assert _sign_in(client, DEMO_ANALYST[0], DEMO_ANALYST[1], address="10.0.2.1").status_code == 303


def test_sign_in_per_address_limit_counts_every_account_from_one_address(limited_app):
    client = HtmxClient(limited_app.test_client())
    statuses = [_sign_in(client, f"user{i}@example.org", "wrong password").status_code for i in range(6)]
    assert statuses == [422] * 6
    assert_says_when_to_try_again(_sign_in(client, "user6@example.org", "wrong password"))
    # The admin, from another address, is not locked out by someone guessing at this one.
    assert _sign_in(client, DEMO_ADMIN[0], DEMO_ADMIN[1], address="10.0.0.9").status_code == 303
    # Partners behind the guessing address still open their survey: a different counter.
    token = limited_app.config["test_tokens"][0]
    assert client.client.get(f"/s/{token}", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200


def test_unknown_links_are_limited_per_address_and_valid_links_do_not_count(limited_app):
    client = limited_app.test_client()
    token = limited_app.config["test_tokens"][0]
    here = {"REMOTE_ADDR": "10.0.0.3"}
    for _ in range(10):  # a partner using the survey is never limited: only failed look-ups count
        assert client.get(f"/s/{token}", environ_base=here).status_code == 200
    statuses = [client.get(f"/s/{UNKNOWN}", environ_base=here).status_code for _ in range(5)]
    assert statuses == [404, 404, 404, 404, 429]
    refused = client.get(f"/s/{UNKNOWN}", environ_base=here)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    # A partner's valid link from the guessing address is never refused for someone else's guesses.
    assert client.get(f"/s/{token}", environ_base=here).status_code == 200
    # Other addresses are not affected, and sign-in from the guessing address still works.
    assert client.get(f"/s/{token}", environ_base={"REMOTE_ADDR": "10.0.0.4"}).status_code == 200
    signer = HtmxClient(client)
    assert _sign_in(signer, DEMO_ADMIN[0], DEMO_ADMIN[1], address="10.0.0.3").status_code == 303


def test_no_partner_page_carries_a_decorated_limit_since_the_limiter_skips_them(limited_app):
    """The partner's pages skip Flask-Limiter's per-request check (surveys/routes.py): a decorated limit added to
    one of them would never be counted."""
    from flask_limiter.util import get_qualified_name

    with limited_app.app_context():
        manager, views = limiter.limit_manager, limited_app.view_functions
        partner = [name for name in views if name.startswith("partner.")]
        assert partner and manager.default_limits == [] and manager.application_limits == []
        assert [name for name in partner if manager.decorated_limits(get_qualified_name(views[name]))] == []
        assert manager.blueprint_limits(limited_app, "partner") == []
        assert manager.decorated_limits(get_qualified_name(views["auth.sign_in"]))  # the check can see a limit


def test_the_429_page_says_what_to_do(limited_app):
    client = limited_app.test_client()
    for _ in range(4):
        client.get(f"/s/{UNKNOWN}")
    assert_says_when_to_try_again(client.get(f"/s/{UNKNOWN}"))
    fragment = client.get(f"/s/{UNKNOWN}", headers={"HX-Request": "true"})
    assert_says_when_to_try_again(fragment)
    assert 'id="error-message"' in fragment.get_data(as_text=True)


def test_retry_after_counts_down_to_the_end_of_the_window_that_refused(limited_app):
    limited_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"] = "2/hour"
    client = HtmxClient(limited_app.test_client())
    for i in range(2):
        _sign_in(client, DEMO_ADMIN[0], "wrong password", address=f"10.0.3.{i}")
    refused = _sign_in(client, DEMO_ADMIN[0], "wrong password", address="10.0.3.9")
    assert_says_when_to_try_again(refused, longest=3600)
    assert int(refused.headers["Retry-After"]) > 3000  # the hour's window, not a guess of a minute
    assert "60 minutes" in refused.get_data(as_text=True)


def test_forwarded_addresses_are_ignored_unless_a_proxy_is_trusted(limited_app):
    client = limited_app.test_client()
    for i in range(4):
        client.get(f"/s/{UNKNOWN}", headers={"X-Forwarded-For": f"192.0.2.{i}"})
    # Forging X-Forwarded-For does not give a guesser fresh counters.
    assert client.get(f"/s/{UNKNOWN}", headers={"X-Forwarded-For": "192.0.2.99"}).status_code == 429


def test_behind_a_trusted_proxy_each_partner_has_their_own_counter(tmp_path):
    url, drop = _database_url(tmp_path)
    application = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", "TOKEN_LOOKUP_LIMIT": "2/minute",
        "TRUSTED_PROXIES": 1,
    })
    with application.app_context():
        db.create_all()
    client = application.test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    first = [client.get(f"/s/{UNKNOWN}", environ_base=proxy, headers={"X-Forwarded-For": "198.51.100.1"}).status_code
             for _ in range(3)]
    other = client.get(f"/s/{UNKNOWN}", environ_base=proxy, headers={"X-Forwarded-For": "198.51.100.2"})
    assert first == [404, 404, 429]
    assert other.status_code == 404
    with application.app_context():
        db.engine.dispose()
    drop()
    limiter.enabled = False


def test_sqlite_file_storage_counts_and_expires(tmp_path):
    storage = SQLiteFileStorage(f"sqlitefile://{tmp_path / 'limits.sqlite'}")
    assert storage.check()
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3
    assert storage.get_expiry("k") > time.time() + 50
    assert storage.incr("short", 1) == 1
    time.sleep(1.05)
    assert storage.get("short") == 0
    assert storage.incr("short", 1) == 1  # a new window
    other = SQLiteFileStorage(f"sqlitefile://{tmp_path / 'limits.sqlite'}")  # another worker, same file
    assert other.incr("k", 60) == 4
    storage.clear("k")
    assert other.get("k") == 0
    assert storage.reset() >= 1


# --- several gunicorn workers -------------------------------------------------------------------------------------


def _redis_reachable(port: int = 6379) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# Redis when this machine has one (running, or a redis-server binary to start); the SQLite file always, so a
# newcomer's machine without Redis still proves that the workers share their counters. memory:// is the control:
# it shows that the test would catch per-process counting.
STORAGES = ["sqlitefile", "memory"] + (["redis"] if _redis_reachable() or shutil.which("redis-server") else [])


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory):
    return servers.demo_database(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def redis_url(tmp_path):
    if _redis_reachable():
        yield "redis://127.0.0.1:6379/15"
        return
    port = servers.free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    for _ in range(100):
        if _redis_reachable(port):
            break
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def gunicorn(request, tmp_path, demo_copy):
    """`gunicorn -w 3` with the storage asked for; yields (storage, base URL, access log of worker pids)."""
    storage = request.param
    database = tmp_path / "app.sqlite"
    shutil.copy(demo_copy, database)
    uri = {"memory": "memory://", "sqlitefile": f"sqlitefile://{tmp_path / 'limits.sqlite'}"}.get(storage)
    if storage == "redis":
        uri = request.getfixturevalue("redis_url")
    log = tmp_path / "access.log"
    env = {"RATELIMIT_STORAGE_URI": uri, "RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(6)}",
           "SIGN_IN_LIMIT_PER_ACCOUNT": "5/minute", "SIGN_IN_LIMIT_PER_ADDRESS": "1000/minute",
           "TOKEN_LOOKUP_LIMIT": "5/minute"}
    # sync workers take one request at a time, so concurrent requests are spread over the three of them.
    args = ["-w", "3", "-k", "sync", "--access-logfile", str(log), "--access-logformat", "%(p)s %(s)s"]
    with servers.gunicorn(database, tmp_path / "server.log", env, args) as base:
        yield storage, base, log


def _worker_pids(log: Path, since: int = 0) -> set[str]:
    """The pids of the workers that served the requests logged after byte `since` of the access log."""
    return {line.split()[0] for line in log.read_bytes()[since:].decode().splitlines() if line.strip()}


def _wait_for_every_worker(base: str, log: Path, csrf: str, cookies: dict, workers: int = 3) -> None:
    """Send bursts of sign-ins for throw-away accounts until each worker has served one.

    /healthz answers as soon as the first worker is up; the others may still be loading the app, and then a burst is
    served by one worker alone and proves nothing about shared counters.
    """
    def warm(i):
        httpx.post(f"{base}/sign-in", data={"email": f"warm-up-{i}@example.org", "password": "x",
                                            "csrf_token": csrf}, cookies=cookies, timeout=30)

    deadline = time.monotonic() + 90
    with ThreadPoolExecutor(max_workers=12) as pool:
        while len(_worker_pids(log)) < workers:
            assert time.monotonic() < deadline, f"only {len(_worker_pids(log))} of {workers} workers answered"
            list(pool.map(warm, range(12)))
            time.sleep(0.2)  # gunicorn writes the access log after the response


def _csrf_client(base: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/sign-in").text
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    return client, token


@pytest.mark.slow
@pytest.mark.parametrize("gunicorn", STORAGES, indirect=True)
def test_limits_hold_across_three_gunicorn_workers(gunicorn):
    storage, base, log = gunicorn
    client, csrf = _csrf_client(base)
    cookies = dict(client.cookies)
    client.close()

    def attempt(email):
        response = httpx.post(f"{base}/sign-in", data={"email": email, "password": "wrong password",
                                                       "csrf_token": csrf}, cookies=cookies, timeout=30)
        return response.status_code

    _wait_for_every_worker(base, log, csrf, cookies)
    logged_before = log.stat().st_size
    # 30 concurrent attempts on one account: exactly 5 are checked, whichever worker serves them.
    with ThreadPoolExecutor(max_workers=12) as pool:
        burst = list(pool.map(attempt, ["victim@example.org"] * 30))
    time.sleep(0.2)  # gunicorn writes the access log after the response
    served_by = _worker_pids(log, since=logged_before)
    assert len(served_by) >= 2, "the burst was not spread over several workers"
    if storage == "memory":
        assert burst.count(422) > 5, "per-process counters should have let more through (the control failed)"
        return
    assert sorted(burst) == [422] * 5 + [429] * 25

    # In order, one at a time: attempts 1-5 pass, the 6th is 429.
    assert [attempt("second@example.org") for _ in range(6)] == [422] * 5 + [429]
    # Another account from the same address is not locked, nor is the survey.
    assert attempt("third@example.org") == 422

    # Unknown links: only failed look-ups count, 1-5 are 404 and the 6th is 429 for every link from here.
    statuses = [httpx.get(f"{base}/s/{UNKNOWN}", timeout=30).status_code for _ in range(6)]
    assert statuses == [404] * 5 + [429]
    # ...which does not touch the sign-in counters.
    assert attempt("fourth@example.org") == 422


def test_reset_requests_are_limited_per_email_and_per_address_with_the_same_answer(limited_app):
    """"Forgot your password?" mails at most a few links to one address, and one address cannot ask for many."""
    client = HtmxClient(limited_app.test_client())

    def ask(email, address="10.0.5.1"):
        client.get("/forgot-password", environ_base={"REMOTE_ADDR": address})
        return client.post("/forgot-password", {"email": email}, environ_base={"REMOTE_ADDR": address})

    # Per email (3/hour), known account or not: the refusal tells nothing about the address.
    for email in (DEMO_ADMIN[0], "nobody@alliance87.example"):
        statuses = [ask(email, address=f"10.0.6.{i}").status_code for i in range(4)]
        assert statuses == [303, 303, 303, 429], (email, statuses)
    assert_says_when_to_try_again(ask(DEMO_ADMIN[0], address="10.0.6.9"), longest=3600)
    # Per address (5 in 15 minutes), whatever emails it types.
    statuses = [ask(f"someone{i}@example.org").status_code for i in range(6)]
    assert statuses == [303] * 5 + [429]
    assert_says_when_to_try_again(ask("another@example.org"), longest=900)
