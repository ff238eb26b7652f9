"""gunicorn settings: sync-style threaded workers (never gevent: one request waiting on SQLite's lock would stall
every request of its worker)."""

import os
import socket

# One worker per core, two threads each: the app is CPU-bound (SQLite answers in microseconds), so more processes
# than cores only take turns on them and more threads only queue for their worker's GIL. On the 2-core benchmark
# machine 2 x 2 against 4 x 4 (docs/PERFORMANCE.md, "Decisions"): as many requests per second or more, survey
# page p95 11.7 ms instead of 28-33, submit p99 under 64 writers 100 ms instead of 170-210. Slow clients are the
# reverse proxy's to buffer.
_cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1  # not on macOS
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, _cpus)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
# The app writes its own structured request log (without tokens); gunicorn's access log would print full URLs.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket defaults to one path per user; several instances (tests, benchmarks, a second site)
# would share it. Nothing here uses it.
control_socket_disable = True
# Each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new connections over them. On one
# shared socket, the worker that woke first could accept a whole burst of keep-alive connections while the others
# idled: one process on one core, half the machine.
reuse_port = True


def on_starting(server):
    """Refuse to start where something already listens. With reuse_port, a second gunicorn on the same port would
    quietly share the first one's connections (a forgotten `make demo` serving another database) instead of
    failing with "address already in use"."""
    for address in server.cfg.address:
        if not isinstance(address, tuple):
            continue  # a Unix socket: gunicorn refuses one in use itself
        host, port = address[0] or "127.0.0.1", address[1]
        try:
            with socket.create_connection((host, port), timeout=1):
                pass
        except OSError:
            continue  # nothing answers there: free
        raise SystemExit(f"Something already listens on {host}:{port}: stop it first, or choose another port.")


def when_ready(server):
    """Say where the site answers, once it does: with per-worker sockets gunicorn's own line shows no address."""
    for address in server.cfg.address:
        if isinstance(address, tuple):
            host, port = address[0] or "0.0.0.0", address[1]
            server.log.info("Listening at: http://%s:%s/", f"[{host}]" if ":" in host else host, port)
        else:
            server.log.info("Listening at: unix:%s", address)
