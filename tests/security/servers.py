"""Real servers for the tests that need several processes: `flask demo` into a SQLite file, gunicorn on a free port."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_database(folder: Path) -> Path:
    """A SQLite database set up by `flask demo`, as a newcomer would."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite'}", "SECRET_KEY": "s" * 48,
           "BASE_URL": "http://127.0.0.1", "RATELIMIT_STORAGE_URI": "memory://"}
    done = subprocess.run([BIN / "flask", "--app", "wsgi", "demo"], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return folder / "demo.sqlite"


@contextmanager
def gunicorn(database: Path, output: Path, env: dict, args: list[str]):
    """gunicorn with the project's gunicorn.conf.py and `args` on a free port; stdout and stderr go to `output`.

    Yields the base URL; the whole process group is stopped afterwards.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    full_env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "s" * 48,
                "BASE_URL": base, **env}
    with open(output, "wb") as sink:
        server = subprocess.Popen([BIN / "gunicorn", *args, "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT,
                                  env=full_env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            for _ in range(400):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None:
                    break
                time.sleep(0.05)
            else:
                pytest.fail("gunicorn did not start: " + output.read_text())
            if server.poll() is not None:
                pytest.fail("gunicorn stopped: " + output.read_text())
            yield base
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
