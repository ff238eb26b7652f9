"""`flask users create`: accounts made from the command line, with a prompted or given password."""

from engagement.auth import check_password
from engagement.extensions import db
from engagement.models import AuditEntry, User


def account(app, email):
    with app.app_context():
        found = db.session.scalar(db.select(User).filter_by(email=email))
        return (found.role, found.password_hash, found.session_nonce) if found else None


def test_create_with_password_option(app, runner, client):
    result = runner.invoke(args=["users", "create", "Ops@Example.org", "--role", "analyst",
                                 "--password", "a long enough password"])
    assert result.exit_code == 0, result.output
    assert "ops@example.org can sign in as analyst." in result.output
    assert account(app, "ops@example.org")[0] == "analyst"
    client.get("/sign-in")
    assert client.post("/sign-in", {"email": "ops@example.org", "password": "a long enough password"}).status_code == 303


def test_password_is_prompted_twice(app, runner):
    result = runner.invoke(args=["users", "create", "admin@example.org", "--role", "admin"],
                           input="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output and "Repeat for confirmation" in result.output
    with app.app_context():
        found = db.session.scalar(db.select(User).filter_by(email="admin@example.org"))
        assert found.role == "admin"
        assert check_password(found, "a long enough password")
        assert found.password_hash.startswith("$argon2")


def test_mismatched_prompts_are_refused(app, runner):
    result = runner.invoke(args=["users", "create", "admin@example.org", "--role", "admin"],
                           input="a long enough password\nanother password!!\n")
    assert result.exit_code != 0
    assert account(app, "admin@example.org") is None


def test_short_password_and_unknown_role_are_refused(app, runner):
    short = runner.invoke(args=["users", "create", "a@example.org", "--role", "admin", "--password", "short"])
    assert short.exit_code != 0
    assert "at least 12 characters" in short.output
    common = runner.invoke(args=["users", "create", "a@example.org", "--role", "admin", "--password", "password1234"])
    assert common.exit_code != 0 and "most common" in common.output
    role = runner.invoke(args=["users", "create", "a@example.org", "--role", "owner", "--password", "long enough password"])
    assert role.exit_code != 0
    assert "owner" in role.output
    assert account(app, "a@example.org") is None


def test_running_again_resets_password_and_role_and_ends_sessions(app, runner):
    runner.invoke(args=["users", "create", "a@example.org", "--role", "admin", "--password", "first password"])
    first = account(app, "a@example.org")
    result = runner.invoke(args=["users", "create", "a@example.org", "--role", "analyst",
                                 "--password", "second password"])
    assert result.exit_code == 0
    second = account(app, "a@example.org")
    assert second[0] == "analyst"
    assert second[1] != first[1] and second[2] != first[2]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEntry)) == 2
